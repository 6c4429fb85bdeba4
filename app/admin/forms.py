from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectField, StringField
from wtforms.validators import Length, NumberRange, Optional, ValidationError

from app.forms import choices
from app.services.audit import ACTIONS, AuditFilters

#: Translated names of the recorded actions.
ACTION_NAMES = {
    "login.success": _l("Logged in"),
    "login.failure": _l("Failed login"),
    "logout": _l("Logged out"),
    "report.view": _l("Viewed a report"),
    "report.review": _l("Reviewed a report"),
    "export.csv": _l("Exported reports"),
    "model.activate": _l("Activated a model version"),
}
#: Translated names of the kinds of object an event is about.
OBJECT_NAMES = {
    "report": _l("Report"),
    "user": _l("Account"),
    "model_version": _l("Model version"),
}


class AuditFilterForm(FlaskForm):
    """Filters of the audit log, read from the query string."""

    class Meta:
        csrf = False  # a GET form: it changes nothing

    action = SelectField(
        _l("Action"), choices=choices({a: ACTION_NAMES[a] for a in ACTIONS}, blank=_l("All")),
        default="")
    actor = StringField(_l("Actor e-mail contains"), validators=[Optional(), Length(max=254)])
    object_id = StringField(_l("Object id"), validators=[Optional(), Length(max=64)])
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])
    page = IntegerField(validators=[Optional(), NumberRange(min=1, max=100_000)], default=1)

    def validate_date_to(self, field: DateField) -> None:
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_l("The end date is before the start date."))

    def to_filters(self) -> AuditFilters:
        return AuditFilters(action=self.action.data or None,
                            actor=(self.actor.data or "").strip() or None,
                            object_id=(self.object_id.data or "").strip() or None,
                            date_from=self.date_from.data, date_to=self.date_to.data)
