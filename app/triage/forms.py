from enum import StrEnum

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    Optional,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from app.forms import (
    AREA_NAMES,
    CATEGORY_NAMES,
    IMPACT_NAMES,
    LANGUAGE_NAMES,
    STATUS_NAMES,
    DateRangeForm,
    choices,
    ids_in_range,
    strip,
    unix_newlines,
)
from app.services import ServiceError
from app.services.report_queries import (
    NEEDS_REVIEW,
    NONE,
    UNCLASSIFIED,
    ReportFilters,
    search_words,
)
from app.services.triage import Decision, GroupKind, QueueOrder, parse_cursor
from app.services.workflow import HANDOFF_ID_MAX
from models import CATEGORIES, COMMENT_MAX, OPEN_STATUSES, User

#: The status filter's value for every status that still needs work.
OPEN = "open"
SEARCH_INPUT_MAX = 200
ORDER_NAMES = {
    QueueOrder.URGENCY: _l("Most urgent first"),
    QueueOrder.NEWEST: _l("Newest first"),
    QueueOrder.REVIEW: _l("Uncertain first, then most urgent"),
}
#: The group switch's value that shows each known or emerging issue as one row.
BY_ISSUE = "issue"
GROUP_NAMES = {BY_ISSUE: _l("One row per known or emerging issue")}
GROUP_KIND_NAMES = {GroupKind.KNOWN_ISSUE: _l("Known issue"),
                    GroupKind.EMERGING: _l("Emerging issue")}


class QueueFilterForm(DateRangeForm):
    """The queue's filters and order, read from the query string: a shareable URL."""

    q = StringField(_l("Search"), validators=[Optional(), Length(max=SEARCH_INPUT_MAX)],
                    description=_l("Reports whose text holds all of these words."))
    category = SelectField(_l("Category"), choices=choices(
        {**CATEGORY_NAMES, UNCLASSIFIED: _l("Not yet classified"),
         NEEDS_REVIEW: _l("Needs review")}, blank=_l("All")), default="")
    status = SelectField(_l("Status"), choices=choices(
        {OPEN: _l("Open (new, triaged, in progress)"), **STATUS_NAMES}, blank=_l("All")),
        default=OPEN)
    unit = SelectField(_l("Unit"), default="")
    area = SelectField(_l("Affected area"), choices=choices(AREA_NAMES, blank=_l("All")),
                       default="")
    impact = SelectField(_l("Patient impact"), choices=choices(IMPACT_NAMES, blank=_l("All")),
                         default="")
    language = SelectField(_l("Language"), choices=choices(LANGUAGE_NAMES, blank=_l("All")),
                           default="")
    assignee = SelectField(_l("Assignee"), default="")
    known_issue = SelectField(_l("Known issue"), default="")
    #: Set by a grouped queue's link to an emerging issue's reports (not a field shown).
    emerging_issue = IntegerField(_l("Emerging issue"), validators=[Optional(), ids_in_range])
    overdue = BooleanField(_l("Overdue only"))
    group = SelectField(_l("Rows"), default="",
                        choices=choices(GROUP_NAMES, blank=_l("One row per report")))
    order = SelectField(_l("Order"), choices=choices(ORDER_NAMES), default=QueueOrder.URGENCY)
    #: The keyset cursor: where the page starts (set by the pager, not a field).
    after = StringField(validators=[Optional(), Length(max=100)])

    def __init__(self, units: list[tuple[int, str]], assignees: list[tuple[int, str]],
                 known_issues: list[tuple[int, str]], *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.unit.choices = choices({str(i): name for i, name in units}, blank=_l("All"))
        self.assignee.choices = choices(
            {NONE: _l("Unassigned"), **{str(i): email for i, email in assignees}},
            blank=_l("Anyone"))
        self.known_issue.choices = choices(
            {NONE: _l("In no known issue"), **{str(i): title for i, title in known_issues}},
            blank=_l("Any"))

    def validate_q(self, field: StringField) -> None:
        if field.data and not search_words(field.data):
            raise ValidationError(_l("Type at least one word to search for."))

    def validate_after(self, field: StringField) -> None:
        if field.data and self.order.data in set(QueueOrder):
            try:
                parse_cursor(field.data, self.order.data)
            except ServiceError:
                raise ValidationError(_l("This page of the queue does not exist.")) from None

    def chosen(self) -> list[tuple[str, str, str]]:
        """The filters that differ from the defaults: (parameter, label, chosen value)."""
        chosen = []
        for field in self:
            if field.name in ("after", "order") or field.data == field.default:
                continue
            if field.type == "SelectField":
                value = str({choice.value: choice.label for choice in field.choices}
                            .get(field.data, field.data))
            elif field.type == "BooleanField":
                if not field.data:
                    continue
                value = _l("yes")
            elif not field.data:
                continue
            else:
                value = str(field.data)
            chosen.append((field.name, str(field.label.text), value))
        return chosen

    def to_filters(self) -> ReportFilters:
        status, category = self.status.data, self.category.data
        return ReportFilters(
            categories=frozenset([category] if category else []),
            statuses=frozenset(OPEN_STATUSES if status == OPEN else [status] if status else []),
            unit_ids=frozenset([int(self.unit.data)] if self.unit.data else []),
            areas=frozenset([self.area.data] if self.area.data else []),
            impacts=frozenset([self.impact.data] if self.impact.data else []),
            language=self.language.data or None,
            date_from=self.date_from.data, date_to=self.date_to.data,
            assignee=_id_or_none(self.assignee.data),
            known_issue=_id_or_none(self.known_issue.data),
            emerging_issue=self.emerging_issue.data,
            overdue=self.overdue.data, search=search_words(self.q.data or ""))


class BulkAction(StrEnum):
    ASSIGN = "assign"
    STATUS = "status"
    CATEGORIES = "categories"
    KNOWN_ISSUE = "known_issue"


BULK_ACTION_NAMES = {
    BulkAction.ASSIGN: _l("Assign to"),
    BulkAction.STATUS: _l("Set status"),
    BulkAction.CATEGORIES: _l("Set categories"),
    BulkAction.KNOWN_ISSUE: _l("Attach to known issue"),
}
#: The most reports one bulk action may change.
BULK_MAX = 500


class BulkForm(FlaskForm):
    """One action on the reports ticked in the queue."""

    report_ids = SelectMultipleField(coerce=int, validate_choice=False,
                                     validators=[DataRequired(_l("Tick at least one report.")),
                                                 ids_in_range])
    # Ids of their own: the queue's filter form has fields of the same names.
    action = SelectField(_l("Action"), choices=choices(BULK_ACTION_NAMES), id="bulk-action")
    assignee = SelectField(_l("Assignee"), default="", id="bulk-assignee")
    status = SelectField(_l("Status"), choices=choices(STATUS_NAMES, blank=""), default="",
                         id="bulk-status")
    categories = SelectMultipleField(
        _l("Categories"), choices=choices({c: CATEGORY_NAMES[c] for c in CATEGORIES}),
        widget=ListWidget(prefix_label=False), option_widget=CheckboxInput(),
        description=_l("Tick none for other."), id="bulk-categories")
    known_issue = SelectField(_l("Known issue"), default="", id="bulk-known-issue")
    #: The queue page to return to (checked by safe_next_url).
    next = HiddenField()
    submit = SubmitField(_l("Apply to ticked reports"))

    def __init__(self, assignees: list[tuple[int, str]], known_issues: list[tuple[int, str]],
                 *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.assignee.choices = choices({str(i): email for i, email in assignees},
                                        blank=_l("Nobody"))
        self.known_issue.choices = choices({str(i): title for i, title in known_issues},
                                           blank="")

    def validate_report_ids(self, field: SelectMultipleField) -> None:
        if len(field.data or []) > BULK_MAX:
            raise ValidationError(_l("Tick at most %(max)d reports at a time.", max=BULK_MAX))

    def validate_status(self, field: SelectField) -> None:
        if self.action.data == BulkAction.STATUS and not field.data:
            raise ValidationError(_l("Choose the status."))

    def validate_known_issue(self, field: SelectField) -> None:
        if self.action.data == BulkAction.KNOWN_ISSUE and not field.data:
            raise ValidationError(_l("Choose the known issue."))


def _id_or_none(value: str) -> int | str | None:
    """A select's value as a filter: "" is no filter, NONE stays, an id becomes an int."""
    if not value:
        return None
    return value if value == NONE else int(value)


#: A model score's band (ml.explain.Band) as a page says it.
BAND_NAMES = {"likely": _l("likely"), "unsure": _l("unsure"), "unlikely": _l("unlikely")}

#: The Swedish risk matrix's levels (konsekvens x sannolikhet), 1 to 4.
CONSEQUENCE_NAMES = {"1": _l("1 - Minor"), "2": _l("2 - Moderate"), "3": _l("3 - Significant"),
                     "4": _l("4 - Catastrophic")}
LIKELIHOOD_NAMES = {"1": _l("1 - Very unlikely"), "2": _l("2 - Unlikely"), "3": _l("3 - Likely"),
                    "4": _l("4 - Very likely")}


class DecisionForm(FlaskForm):
    """The whole decision on one report: categories, status, assignee and risk, saved at once."""

    categories = SelectMultipleField(
        _l("Categories"), choices=choices({c: CATEGORY_NAMES[c] for c in CATEGORIES}),
        widget=ListWidget(prefix_label=False), option_widget=CheckboxInput(),
        description=_l("Tick none for other."))
    # A field left out of a post is refused, not taken from the report.
    status = SelectField(_l("Status"), choices=choices(STATUS_NAMES),
                         validators=[InputRequired(_l("Choose one."))])
    assignee = SelectField(_l("Assigned to"), default="")
    consequence = SelectField(_l("Consequence"), choices=choices(CONSEQUENCE_NAMES),
                              validators=[InputRequired(_l("Choose one."))])
    likelihood = SelectField(_l("Likelihood"), choices=choices(LIKELIHOOD_NAMES),
                             validators=[InputRequired(_l("Choose one."))])
    save = SubmitField(_l("Save decision"))
    save_next = SubmitField(_l("Save and next"))

    def __init__(self, coordinators: list[User], *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.assignee.choices = choices({str(user.id): user.email for user in coordinators},
                                        blank=_l("Nobody"))

    def decision(self) -> Decision:
        return Decision(categories=frozenset(self.categories.data or []),
                        status=self.status.data,
                        assignee_id=int(self.assignee.data) if self.assignee.data else None,
                        consequence=int(self.consequence.data),
                        likelihood=int(self.likelihood.data))


def _printable(_form: FlaskForm, field: StringField) -> None:
    if field.data and not field.data.isprintable():
        raise ValidationError(_l("Use letters, digits and punctuation only."))


def _handoff_id(label: str) -> StringField:
    return StringField(label, filters=[strip],
                       validators=[Optional(), Length(max=HANDOFF_ID_MAX), _printable])


class HandoffForm(FlaskForm):
    lex_maria = BooleanField(_l("Lex Maria candidate"))
    medical_products_agency = BooleanField(_l("Reported to the Medical Products Agency"))
    data_protection_authority = BooleanField(
        _l("Reported to the data protection authority (IMY)"))
    vendor_ticket = _handoff_id(_l("Vendor ticket id"))
    deviation_id = _handoff_id(_l("Id in the deviation system"))
    save = SubmitField(_l("Save hand-offs"))


class CommentForm(FlaskForm):
    # Its own id: the message form on the same page has a body field too.
    body = TextAreaField(_l("Internal comment"), id="comment-body",
                         filters=[unix_newlines, strip],
                         description=_l("Only the coordination group sees it, never the reporter."),
                         validators=[DataRequired(message=_l("Write something before saving.")),
                                     Length(max=COMMENT_MAX)])
    add = SubmitField(_l("Add comment"))
