"""Pieces shared by the forms of several blueprints."""

from enum import StrEnum

from flask import flash
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional, ValidationError

from ml import pii
from models import MAX_ID, Area, Impact, Kind, Status

#: Translated names of the stored enum values, for forms and templates alike.
KIND_NAMES = {Kind.INCIDENT: _l("Incident"), Kind.FEEDBACK: _l("Feedback")}
AREA_NAMES = {
    Area.MEDICATION: _l("Medication"),
    Area.TEST_RESULTS: _l("Test results"),
    Area.RECORDS: _l("Records and documentation"),
    Area.ORDERING: _l("Ordering and referrals"),
    Area.LOGIN: _l("Login and access"),
    Area.PRINTING: _l("Printing"),
    Area.INTEGRATIONS: _l("Integrations"),
    Area.OTHER: _l("Other"),
}
IMPACT_NAMES = {
    Impact.NONE: _l("None"),
    Impact.NEAR_MISS: _l("Near miss"),
    Impact.HARM: _l("Harm"),
    Impact.UNKNOWN: _l("Unknown"),
}
STATUS_NAMES = {
    Status.NEW: _l("New"),
    Status.TRIAGED: _l("Triaged"),
    Status.IN_PROGRESS: _l("In progress"),
    Status.RESOLVED: _l("Resolved"),
    Status.CLOSED: _l("Closed"),
    Status.DUPLICATE: _l("Duplicate"),
    Status.REJECTED: _l("Rejected"),
}
#: Translated names of the kinds of personal identifier (see ml.pii).
IDENTIFIER_NAMES = {
    pii.PERSONNUMMER: _l("personal identity number"),
    pii.SAMORDNINGSNUMMER: _l("coordination number"),
    pii.TELEFON: _l("phone number"),
    pii.E_POST: _l("e-mail address"),
}
LANGUAGE_NAMES = {"sv": _l("Swedish"), "en": _l("English")}
CATEGORY_NAMES = {
    "safety": _l("Patient safety"),
    "training": _l("Training"),
    "functionality": _l("Functionality"),
    "other": _l("Other"),
}


def strip(value: str | None) -> str | None:
    """A text field's filter: surrounding whitespace dropped."""
    return value.strip() if isinstance(value, str) else value


def unix_newlines(value: str | None) -> str | None:
    """Browsers send a line break as CRLF but count it as one character against maxlength."""
    return value.replace("\r\n", "\n") if isinstance(value, str) else value


def flash_errors(form: FlaskForm, *, labelled: bool = True) -> None:
    """Flash every error of a form that a view redirects away from instead of showing.

    Each error is led by its field's label, unless `labelled` is False for a form
    whose messages say themselves what is missing ("Tick at least one report.").
    """
    for name, errors in form.errors.items():
        for error in errors:
            flash(_("%(field)s: %(error)s", field=form[name].label.text, error=error)
                  if labelled else error)


def ids_in_range(_form: FlaskForm, field) -> None:
    """A field of one id or of several: each from 1 to MAX_ID (a larger one would reach
    the database, where SQLite cannot even bind it)."""
    values = field.data if isinstance(field.data, list) else [field.data]
    if any(value is not None and not 1 <= value <= MAX_ID for value in values):
        raise ValidationError(_l("That is not a valid id."))


def choices(names: dict[StrEnum | str, object], blank: str | None = None) -> list[SelectChoice]:
    """Select choices from a value -> translated name mapping, optionally led by a blank."""
    leading = [SelectChoice("", blank)] if blank is not None else []
    return leading + [SelectChoice(str(value), name) for value, name in names.items()]


class DateRangeForm(FlaskForm):
    """An optional range of submission dates, read from the query string."""

    class Meta:
        csrf = False  # a GET form: it changes nothing

    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])

    def validate_date_to(self, field: DateField) -> None:
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_l("The end date is before the start date."))
