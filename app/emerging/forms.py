from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, SelectMultipleField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from app.forms import ids_in_range, strip
from app.services.known_issues import TITLE_MAX
from models import EmergingStatus, KnownIssue

#: Translated names of an emerging issue's statuses.
EMERGING_STATUS_NAMES = {EmergingStatus.FORMING: _l("Forming"), EmergingStatus.OPEN: _l("Open"),
                         EmergingStatus.CONFIRMED: _l("Confirmed"),
                         EmergingStatus.MERGED: _l("Merged"),
                         EmergingStatus.DISMISSED: _l("Dismissed"),
                         EmergingStatus.FADED: _l("Faded")}


class PageForm(FlaskForm):
    """Which page of a list to show, read from the query string."""

    class Meta:
        csrf = False  # a GET form: it changes nothing

    page = IntegerField(validators=[Optional(), NumberRange(min=1, max=100_000)], default=1)


class ConfirmForm(FlaskForm):
    title = StringField(_l("Title of the known issue"), filters=[strip],
                        validators=[DataRequired(), Length(max=TITLE_MAX)],
                        description=_l("Name the fault as coordinators and vendors know it. "
                                       "No personal data."))
    confirm = SubmitField(_l("Confirm as a known issue"))


class MergeForm(FlaskForm):
    target = SelectField(_l("Known issue"), coerce=int, validate_choice=False,
                         validators=[DataRequired(_l("Choose a known issue.")),
                                     ids_in_range])
    merge = SubmitField(_l("Merge into the known issue"))

    def __init__(self, targets: list[KnownIssue], *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.target.choices = [SelectChoice(issue.id, f"#{issue.id} {issue.title}")
                               for issue in targets]


class SplitForm(FlaskForm):
    """Members ticked on an emerging issue's page: they form a group of their own."""

    report_ids = SelectMultipleField(_l("Reports"), coerce=int, validate_choice=False,
                                     validators=[DataRequired(_l("Tick at least one report.")),
                                                 ids_in_range])
    split = SubmitField(_l("Split the selected reports off"))


class MoveOutForm(FlaskForm):
    report_id = IntegerField(_l("Report"), validators=[DataRequired(), ids_in_range])


class DismissForm(FlaskForm):
    dismiss = SubmitField(_l("Dismiss"))
