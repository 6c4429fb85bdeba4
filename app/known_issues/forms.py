from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from app.forms import choices, ids_in_range, strip, unix_newlines
from app.services.known_issues import DESCRIPTION_MAX, NOTE_MAX, TITLE_MAX
from models import UPDATE_MAX, KnownIssue, KnownIssueStatus

#: Translated names of a known issue's statuses.
ISSUE_STATUS_NAMES = {KnownIssueStatus.OPEN: _l("Open"),
                      KnownIssueStatus.RESOLVED: _l("Resolved")}


class IssueFilterForm(FlaskForm):
    """The known-issue list's filter, read from the query string."""

    class Meta:
        csrf = False  # a GET form: it changes nothing

    status = SelectField(_l("Status"), choices=choices(ISSUE_STATUS_NAMES, blank=_l("All")),
                         default=KnownIssueStatus.OPEN)
    page = IntegerField(validators=[Optional(), NumberRange(min=1, max=100_000)], default=1)


class ReportPageForm(FlaskForm):
    """Which page of a known issue's reports to show."""

    class Meta:
        csrf = False

    page = IntegerField(validators=[Optional(), NumberRange(min=1, max=100_000)], default=1)


def _title_field() -> StringField:
    return StringField(_l("Title"), filters=[strip],
                       validators=[DataRequired(), Length(max=TITLE_MAX)],
                       description=_l("Name the fault as coordinators and vendors know it. "
                                      "No personal data."))


class KnownIssueForm(FlaskForm):
    """A new known issue (optionally holding one report), or its title and description."""

    title = _title_field()
    description = TextAreaField(_l("Description"), filters=[strip, unix_newlines],
                                validators=[Optional(), Length(max=DESCRIPTION_MAX)])
    #: The report it is created from, if any.
    report_id = HiddenField(validators=[Optional()])
    save = SubmitField(_l("Save"))


def _text_for_reporters(label: str, maximum: int, description: str) -> TextAreaField:
    """A text the coordination group writes for every reporter of the known issue."""
    return TextAreaField(label, filters=[strip, unix_newlines], description=description,
                         validators=[DataRequired(), Length(max=maximum)])


class ResolveForm(FlaskForm):
    note = _text_for_reporters(_l("Resolution note"), NOTE_MAX,
                               _l("Every reporter of this known issue's reports reads it on "
                                  "their status page."))
    resolve = SubmitField(_l("Resolve"))


class UpdateForm(FlaskForm):
    """News for the known issue's reporters: a workaround, an expected fix date."""

    body = _text_for_reporters(_l("Update for the reporters"), UPDATE_MAX,
                               _l("Every reporter of this known issue's reports reads it "
                                  "with their report, dated. No personal data."))
    post = SubmitField(_l("Post update"))


class MergeForm(FlaskForm):
    target = SelectField(_l("Merge into"), coerce=int, validate_choice=False,
                         validators=[DataRequired(), ids_in_range])
    merge = SubmitField(_l("Merge"))

    def __init__(self, targets: list[KnownIssue], *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.target.choices = [(issue.id, f"#{issue.id} {issue.title}") for issue in targets]


class SplitForm(FlaskForm):
    """Reports ticked on a known issue's page, and the title of the issue they move to."""

    report_ids = SelectMultipleField(_l("Reports"), coerce=int, validate_choice=False,
                                     validators=[DataRequired(_l("Tick at least one report.")),
                                                 ids_in_range])
    title = _title_field()
    split = SubmitField(_l("Split into a new known issue"))


class AttachForm(FlaskForm):
    """Put reports in a known issue; `next` is the page to go back to."""

    issue = SelectField(_l("Known issue"), coerce=int, validate_choice=False,
                        validators=[DataRequired(), ids_in_range])
    report_ids = SelectMultipleField(_l("Reports"), coerce=int, validate_choice=False,
                                     validators=[DataRequired(), ids_in_range])
    next = HiddenField()


class DetachForm(FlaskForm):
    report_id = IntegerField(_l("Report"), validators=[DataRequired(), ids_in_range])
    next = HiddenField()
