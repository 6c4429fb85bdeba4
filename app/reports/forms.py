from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateTimeLocalField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    Optional,
    Regexp,
    ValidationError,
)

from app.forms import AREA_NAMES, IMPACT_NAMES, KIND_NAMES, choices
from models import Area, Impact, Kind

TEXT_MIN, TEXT_MAX = 10, 10_000
SUGGESTION_MAX = 5_000
#: Clocks on ward PCs drift; allow a little of the future.
CLOCK_SKEW = timedelta(minutes=10)
EARLIEST = datetime(2000, 1, 1)
IDENTITY_CHOICES = {"named": _l("With my name"), "anonymous": _l("Anonymously")}


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


def _now_minute() -> datetime:
    return datetime.now().replace(second=0, microsecond=0)


class ReportForm(FlaskForm):
    kind = RadioField(_l("Type of report"), choices=choices(KIND_NAMES),
                      default=Kind.INCIDENT.value, validators=[InputRequired()])
    text = TextAreaField(
        _l("What happened?"), filters=[_strip],
        validators=[DataRequired(), Length(min=TEXT_MIN, max=TEXT_MAX)],
        description=_l("Describe the event or your feedback. Do not write patients' names "
                       "or personal identity numbers."))
    occurred_at = DateTimeLocalField(
        _l("When did it happen?"), format="%Y-%m-%dT%H:%M", default=_now_minute,
        validators=[DataRequired(message=_l("Enter a date and time, e.g. 2026-03-14 08:30."))])
    unit_id = SelectField(_l("Unit or ward"))
    area = SelectField(_l("Affected area"), choices=choices(AREA_NAMES),
                       default=Area.OTHER.value)
    impact = RadioField(_l("Patient impact"), choices=choices(IMPACT_NAMES),
                        default=Impact.UNKNOWN.value, validators=[InputRequired()])
    suggestion = TextAreaField(_l("Suggestion (optional)"), filters=[_strip],
                               validators=[Optional(), Length(max=SUGGESTION_MAX)])
    identity = RadioField(_l("Send the report"), choices=choices(IDENTITY_CHOICES),
                          default="anonymous")
    submission_token = HiddenField(validators=[
        DataRequired(message=_l("The form was incomplete. Please send it again.")),
        Regexp(r"^[A-Za-z0-9_-]{22,64}$",
               message=_l("The form was incomplete. Please send it again."))])
    submit = SubmitField(_l("Send report"))

    def __init__(self, units: list[tuple[int, str]], *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.unit_id.choices = choices({str(i): name for i, name in units},
                                       blank=_l("Choose a unit"))

    def validate_unit_id(self, field: SelectField) -> None:
        if not field.data:
            raise ValidationError(_l("Choose the unit where it happened."))

    def validate_occurred_at(self, field: DateTimeLocalField) -> None:
        if field.data > datetime.now() + CLOCK_SKEW:
            raise ValidationError(_l("The time cannot be in the future."))
        if field.data < EARLIEST:
            raise ValidationError(_l("The date is too far back."))


class ReceiptForm(FlaskForm):
    receipt = StringField(_l("Receipt code"), filters=[_strip],
                          validators=[DataRequired(), Length(max=100)])
    submit = SubmitField(_l("Show status"))
