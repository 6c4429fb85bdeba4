from collections.abc import Mapping
from datetime import datetime, timedelta

from flask_babel import format_number
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateTimeLocalField,
    Form,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
    TimeField,
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
from app.times import local_now
from models import MESSAGE_MAX, Area, Impact, Kind

TEXT_MIN, TEXT_MAX = 10, 10_000
SUGGESTION_MAX = 5_000
RECEIPT_MAX = 100
#: The start of the text the form's known-issue matches are looked up with (matching.js
#: sends no more): enough for a fault's words, and a URL every server takes (4 kB).
MATCH_TEXT_MAX = 500
#: Clocks on ward PCs drift; allow a little of the future.
CLOCK_SKEW = timedelta(minutes=10)
EARLIEST = datetime(2000, 1, 1)
IDENTITY_CHOICES = {"named": _l("With my name"), "anonymous": _l("Anonymously")}
#: When it happened: quick choices, so that no time need be typed or is filled in unasked.
WHEN_CHOICES = {"now": _l("Just now"), "today": _l("Earlier today"),
                "other_day": _l("Another day")}
ENTER_TIME = _l("Enter the time, e.g. 08:30.")
ENTER_DATE_AND_TIME = _l("Enter a date and time, e.g. 2026-03-14 08:30.")


def _issue_id(value: str | None) -> int | None:
    """The hidden known-issue choice as a number; anything else (only tampering sends it)
    is no choice, like a closed issue's (app.services.reports.submit_report)."""
    if isinstance(value, int):
        return value
    value = (value or "").strip()
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 12 else None


class TextLength:
    """Like wtforms' Length, but it gives the field no maxlength attribute (a browser cuts a
    longer paste at it without a word) and says how far over the limit a text is. The
    count is of characters, as the form's counter counts them (app/static/counter.js)."""

    def __init__(self, max: int, min: int = 0) -> None:
        self.min, self.max = min, max

    def __call__(self, form: Form, field: TextAreaField) -> None:
        length = len(field.data or "")
        if length > self.max:
            raise ValidationError(_(
                "The text is %(length)s characters long, %(over)s more than the %(max)s "
                "allowed.",
                length=format_number(length), over=format_number(length - self.max),
                max=format_number(self.max)))
        if length < self.min:
            raise ValidationError(_("Write at least %(min)s characters.",
                                    min=format_number(self.min)))


def _now_minute() -> datetime:
    return local_now().replace(second=0, microsecond=0)


class ReportForm(FlaskForm):
    kind = RadioField(_l("Type of report"), choices=choices(KIND_NAMES),
                      default=Kind.INCIDENT.value, validators=[InputRequired()])
    text = TextAreaField(
        _l("What happened?"), filters=[unix_newlines, strip],
        validators=[DataRequired(message=_l("Write what happened.")),
                    TextLength(min=TEXT_MIN, max=TEXT_MAX)],
        description=_l("Do not write patients' names or personal identity numbers."))
    # What an anonymous report keeps of the time is said beside the choice to be anonymous.
    when = RadioField(_l("When did it happen?"), choices=choices(WHEN_CHOICES),
                      validators=[Optional()])
    time_today = TimeField(_l("Time, if earlier today"), validators=[Optional()],
                           invalid_value_message=ENTER_TIME)
    occurred_at = DateTimeLocalField(_l("Date and time, if another day"),
                                     format="%Y-%m-%dT%H:%M", validators=[Optional()],
                                     invalid_value_message=ENTER_DATE_AND_TIME)
    unit_id = SelectField(_l("Unit or ward"))
    area = SelectField(_l("Affected area"), choices=choices(AREA_NAMES),
                       default=Area.OTHER.value)
    impact = RadioField(_l("Patient impact"), choices=choices(IMPACT_NAMES),
                        default=Impact.UNKNOWN.value, validators=[InputRequired()])
    suggestion = TextAreaField(_l("Suggestion (optional)"), filters=[unix_newlines, strip],
                               validators=[Optional(), TextLength(max=SUGGESTION_MAX)])
    #: Anonymous unless chosen: a post without the choice names no one. The form shows
    #: "named" chosen to those who may name themselves (see __init__).
    identity = RadioField(_l("Send the report"), choices=choices(IDENTITY_CHOICES),
                          default="anonymous",
                          description=_l("Anonymously, you get a receipt code to follow the "
                                         "report instead, it is not listed under “My "
                                         "reports”, and only the hour of when it happened "
                                         "is kept."))
    submission_token = HiddenField(validators=[
        DataRequired(message=_l("The form was incomplete. Please send it again.")),
        Regexp(r"^[A-Za-z0-9_-]{22,64}$",
               message=_l("The form was incomplete. Please send it again."))])
    #: Set by "This is my problem too" (app/static/matching.js): an open known issue's id.
    known_issue_id = HiddenField(filters=[_issue_id])
    submit = SubmitField(_l("Send report"))
    #: When it happened, once the form is valid.
    occurrence: datetime | None = None

    def __init__(self, units: list[tuple[int, str]], *args, may_name: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if may_name and not self.is_submitted():
            self.identity.data = "named"
        self.unit_id.choices = choices({str(i): name for i, name in units},
                                       blank=_l("Choose a unit"))

    def fill_from_link(self, args: Mapping[str, str]) -> None:
        """Choose the unit and affected area a quick report link names (?unit=12&area=
        printing); a value the form does not offer is ignored, as if it were not given."""
        if args.get("unit") in {choice.value for choice in self.unit_id.choices if choice.value}:
            self.unit_id.data = args["unit"]
        if args.get("area") in AREA_NAMES:
            self.area.data = args["area"]

    @property
    def details_given(self) -> bool:
        """Whether the optional details show unfolded: when one of them has an error or
        a value other than its default (the form came back)."""
        return any(f.errors or (f.data or None) != (f.default or None)
                   for f in (self.area, self.impact, self.suggestion))

    def validate_unit_id(self, field: SelectField) -> None:
        if not field.data:
            raise ValidationError(_l("Choose the unit where it happened."))

    def validate(self, extra_validators=None) -> bool:
        """Validate the fields, then settle when it happened into `occurrence`."""
        valid = super().validate(extra_validators)
        return self._validate_occurrence() and valid

    @property
    def times_shown(self) -> set[str]:
        """The choices of when whose time field shows even while its choice is not picked
        (the page shows a time under its choice only): those typed into or wrong."""
        return {choice for choice, field in self._time_inputs().items()
                if field.errors or (field.raw_data and field.raw_data[0].strip())}

    def _time_inputs(self) -> dict[str, TimeField | DateTimeLocalField]:
        return {"today": self.time_today, "other_day": self.occurred_at}

    def _validate_occurrence(self) -> bool:
        """The picked choice, or without one the only time typed, gives the occurrence.

        Nothing is assumed: a form with neither, or with a time typed under
        another choice than the one picked, is refused with what was typed kept.
        """
        self.occurrence = None
        if self.when.errors:
            return False
        typed = {choice for choice, field in self._time_inputs().items()
                 if field.raw_data and field.raw_data[0].strip()}
        chosen = self.when.data or (next(iter(typed)) if len(typed) == 1 else None)
        if chosen is None:
            self.when.errors.append(_l("Choose when it happened."))
        elif typed - {chosen}:
            for other in typed - {chosen}:  # under the time itself, which then shows
                self._time_inputs()[other].errors.append(_l(
                    "You typed a time for another choice than the one you picked. Pick the "
                    "right one or clear that time."))
        else:
            try:
                self.occurrence = self._occurrence(chosen)
            except ValidationError as error:
                self._time_inputs()[chosen].errors.append(error.args[0])
        return self.occurrence is not None

    def _occurrence(self, chosen: str) -> datetime | None:
        """When it happened by `chosen`; None if what was typed is not a time (its field
        says so already). A blank or implausible time raises ValidationError."""
        if chosen == "now":
            return _now_minute()
        field = self._time_inputs()[chosen]
        if field.errors:
            return None
        now, today = local_now(), chosen == "today"
        if field.data is None:
            raise ValidationError(ENTER_TIME if today else ENTER_DATE_AND_TIME)
        moment = datetime.combine(now.date(), field.data) if today else field.data
        if moment > now + CLOCK_SKEW:
            raise ValidationError(
                _l("That time has not come yet today. If it happened before midnight, choose "
                   "“Another day”.") if today else _l("The time cannot be in the future."))
        if moment < EARLIEST:
            raise ValidationError(_l("The date is too far back."))
        return moment


class ImportedReportForm(Form):
    """The report form's checks of a report's values, for reports imported from a file
    (app/reports/import_file.py): the same fields, choices and limits. A plain form:
    there is no request, so no CSRF token and no translation of the messages."""

    kind = ReportForm.kind
    text = ReportForm.text
    area = ReportForm.area
    impact = ReportForm.impact
    suggestion = ReportForm.suggestion


class MatchingIssuesForm(FlaskForm):
    """The text typed so far into the report form, read from the query string."""

    class Meta:
        csrf = False  # a GET: it changes nothing

    text = StringField(filters=[strip], validators=[Optional(), Length(max=MATCH_TEXT_MAX)])


class ReceiptForm(FlaskForm):
    receipt = StringField(_l("Receipt code"), filters=[strip],
                          validators=[DataRequired(), Length(max=RECEIPT_MAX)])
    submit = SubmitField(_l("Show status"))


def _message_body(label: str, description: str) -> TextAreaField:
    return TextAreaField(label, filters=[unix_newlines, strip], description=description,
                         validators=[DataRequired(message=_l("Write something before sending.")),
                                     TextLength(max=MESSAGE_MAX)])


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
