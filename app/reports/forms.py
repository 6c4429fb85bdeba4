from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateTimeLocalField,
    HiddenField,
    IntegerField,
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
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from app.forms import AREA_NAMES, IMPACT_NAMES, KIND_NAMES, choices, strip, unix_newlines
from models import MESSAGE_MAX, Area, Impact, Kind

TEXT_MIN, TEXT_MAX = 10, 10_000
SUGGESTION_MAX = 5_000
RECEIPT_MAX = 100
#: Clocks on ward PCs drift; allow a little of the future.
CLOCK_SKEW = timedelta(minutes=10)
EARLIEST = datetime(2000, 1, 1)
IDENTITY_CHOICES = {"named": _l("With my name"), "anonymous": _l("Anonymously")}


def _now_minute() -> datetime:
    return datetime.now().replace(second=0, microsecond=0)


class ReportForm(FlaskForm):
    kind = RadioField(_l("Type of report"), choices=choices(KIND_NAMES),
                      default=Kind.INCIDENT.value, validators=[InputRequired()])
    text = TextAreaField(
        _l("What happened?"), filters=[strip],
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
    suggestion = TextAreaField(_l("Suggestion (optional)"), filters=[strip],
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
    receipt = StringField(_l("Receipt code"), filters=[strip],
                          validators=[DataRequired(), Length(max=RECEIPT_MAX)])
    submit = SubmitField(_l("Show status"))


def _message_body(label: str, description: str) -> TextAreaField:
    return TextAreaField(label, filters=[unix_newlines, strip], description=description,
                         validators=[DataRequired(message=_l("Write something before sending.")),
                                     Length(max=MESSAGE_MAX)])


class MessageForm(FlaskForm):
    """A coordinator's message to the reporter of a report."""

    body = _message_body(_l("Message to the reporter"),
                         _l("The reporter reads it when they follow the report."))
    send = SubmitField(_l("Send message"))


class AnswerForm(FlaskForm):
    """A named reporter's answer on their own report."""

    body = _message_body(_l("Your answer"),
                         _l("Do not write patients' names or personal identity numbers."))
    send = SubmitField(_l("Send answer"))


class ReceiptAnswerForm(AnswerForm):
    """An anonymous reporter's answer. It carries the receipt code again, checked on
    every post, so that nothing about the reporter is kept in the session."""

    body = _message_body(_l("Your answer"),
                         _l("Your answer is anonymous: do not write your own name, nor "
                            "patients' names or personal identity numbers."))
    receipt = HiddenField(validators=[DataRequired(), Length(max=RECEIPT_MAX)])


class PageForm(FlaskForm):
    """The page number of a list, read from the query string."""

    class Meta:
        csrf = False  # a GET form: it changes nothing

    page = IntegerField(validators=[Optional(), NumberRange(min=1, max=100_000)], default=1)
