from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    EmailField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
)
from wtforms.validators import (
    DataRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from app.auth.access import PERMISSIONS
from app.auth.forms import ChangePasswordForm
from app.forms import choices
from app.services.api_tokens import LIFETIME_DAYS_MAX, SYSTEM_MAX
from app.services.audit import ACTIONS, AuditFilters
from app.services.units import NAME_MAX
from models import Role

#: Translated names of the recorded actions.
ACTION_NAMES = {
    "login.success": _l("Logged in"),
    "login.failure": _l("Failed login"),
    "logout": _l("Logged out"),
    "report.view": _l("Viewed a report"),
    "report.review": _l("Reviewed a report"),
    "report.redact": _l("Redacted identifiers in a report"),
    "export.reports": _l("Exported reports"),
    "export.aggregates": _l("Exported aggregate counts"),
    "export.fhir": _l("Exported reports as FHIR AdverseEvents"),
    "model.activate": _l("Activated a model version"),
    "job.retry": _l("Retried a failed background job"),
    "report.message": _l("Sent a message to a reporter"),
    "report.answer": _l("Answered on their own report"),
    "report.assign": _l("Assigned a report"),
    "report.status": _l("Changed a report's status"),
    "report.risk": _l("Assessed a report's risk"),
    "report.handoff": _l("Changed a report's hand-offs"),
    "report.comment": _l("Commented on a report"),
    "retention.apply": _l("Applied the retention rule"),
    "user.create": _l("Created an account"),
    "user.role": _l("Changed a role"),
    "user.disable": _l("Disabled an account"),
    "user.enable": _l("Enabled an account"),
    "user.password_reset": _l("Reset a password"),
    "unit.create": _l("Added a unit"),
    "unit.rename": _l("Renamed a unit"),
    "unit.deactivate": _l("Deactivated a unit"),
    "unit.reactivate": _l("Reactivated a unit"),
    "known_issue.create": _l("Created a known issue"),
    "known_issue.edit": _l("Edited a known issue"),
    "known_issue.attach": _l("Put a report in a known issue"),
    "known_issue.detach": _l("Took a report out of a known issue"),
    "known_issue.merge": _l("Merged a known issue into another"),
    "known_issue.resolve": _l("Resolved a known issue"),
    "known_issue.reopen": _l("Reopened a known issue"),
    "alert.seen": _l("Marked an alert seen"),
    "alert.dismiss": _l("Dismissed an alert"),
    "alert.link": _l("Linked an alert to a known issue"),
    "user.notify_alerts": _l("Changed alert e-mails"),
    "known_issue.update": _l("Posted an update on a known issue"),
    "emerging_issue.confirm": _l("Confirmed an emerging issue as a known issue"),
    "emerging_issue.merge": _l("Merged an emerging issue into a known issue"),
    "emerging_issue.split": _l("Split an emerging issue"),
    "emerging_issue.dismiss": _l("Dismissed an emerging issue"),
    "emerging_issue.move_out": _l("Moved a report out of an emerging issue"),
    "api_token.create": _l("Created an API token"),
    "api_token.revoke": _l("Revoked an API token"),
    "api_token.failure": _l("Refused an API token"),
    "report.submit_for_user": _l("Sent a report in someone's name (API)"),
}
#: Translated names of the kinds of object an event is about.
OBJECT_NAMES = {
    "report": _l("Report"),
    "user": _l("Account"),
    "model_version": _l("Model version"),
    "failed_job": _l("Failed background job"),
    "unit": _l("Unit"),
    "known_issue": _l("Known issue"),
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


#: Translated names of the roles.
ROLE_NAMES = {
    Role.STAFF: _l("Staff"),
    Role.COORDINATOR: _l("Coordinator"),
    Role.RESEARCHER: _l("Researcher"),
    Role.ADMIN: _l("Administrator"),
}


class ResetPasswordForm(ChangePasswordForm):
    """A new password for someone else: the same policy, without their current password."""

    current = None
    submit = SubmitField(_l("Set the new password"))


class NewUserForm(ResetPasswordForm):
    email = EmailField(_l("E-mail"), validators=[
        DataRequired(), Length(max=254),
        Regexp(r"^\s*[^@\s]+@[^@\s]+\s*$",
               message=_l("Enter an e-mail address, e.g. name@region.se."))])
    role = SelectField(_l("Role"), choices=choices(ROLE_NAMES), default=Role.STAFF.value)
    submit = SubmitField(_l("Create the account"))

    def __init__(self, *args, **kwargs):
        super().__init__("", *args, **kwargs)

    def validate_new(self, field: PasswordField) -> None:
        self._email = self.email.data or ""  # the password must not echo the new e-mail
        super().validate_new(field)


class RoleForm(FlaskForm):
    role = SelectField(_l("Role"), choices=choices(ROLE_NAMES))
    submit = SubmitField(_l("Change the role"))


class UnitForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=NAME_MAX)])


class TokenForm(FlaskForm):
    """A new API token: for which system, allowed what, for how long."""

    system = StringField(_l("System"), validators=[DataRequired(), Length(max=SYSTEM_MAX)],
                         description=_l("Which system will use it, e.g. the record system of "
                                        "a hospital."))
    #: The scopes are permission names, shown as they are written in the API's reference.
    scopes = SelectMultipleField(
        _l("Scopes"), choices=choices({name: name for name in PERMISSIONS}),
        widget=ListWidget(prefix_label=False), option_widget=CheckboxInput(),
        validators=[DataRequired(message=_l("Choose at least one scope."))],
        description=_l("What the token allows: the permissions of the same names."))
    lifetime_days = IntegerField(_l("Valid for (days)"), default=365,
                                 validators=[DataRequired(),
                                             NumberRange(min=1, max=LIFETIME_DAYS_MAX)])
    submit = SubmitField(_l("Create the token"))
