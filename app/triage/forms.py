from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, SelectMultipleField, SubmitField
from wtforms.validators import NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from app.forms import CATEGORY_NAMES, STATUS_NAMES, ReportFilterForm, choices
from models import CATEGORIES


class QueueFilterForm(ReportFilterForm):
    status = SelectField(_l("Status"), choices=choices(STATUS_NAMES, blank=_l("All")),
                         default="")
    unit = SelectField(_l("Unit"), default="")
    review_first = BooleanField(_l("Uncertain first"),
                                description=_l("Reports the model was unsure about come first."))
    page = IntegerField(validators=[Optional(), NumberRange(min=1, max=100_000)], default=1)

    def __init__(self, units: list[tuple[int, str]], *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.unit.choices = choices({str(i): name for i, name in units}, blank=_l("All"))

    def to_filters(self):
        return super().to_filters(
            statuses=frozenset([self.status.data] if self.status.data else []),
            unit_ids=frozenset([int(self.unit.data)] if self.unit.data else []))


class ReviewForm(FlaskForm):
    categories = SelectMultipleField(
        _l("Categories"), choices=choices({c: CATEGORY_NAMES[c] for c in CATEGORIES}),
        widget=ListWidget(prefix_label=False), option_widget=CheckboxInput(),
        description=_l("Tick none for other."))
    status = SelectField(_l("Status"), choices=choices(STATUS_NAMES))
    submit = SubmitField(_l("Save decision"))
