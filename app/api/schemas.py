"""What the JSON API reads and writes, as pydantic models: they validate requests and
are the OpenAPI document's schemas (app/api/__init__.py)."""

import re
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field

from app.forms import LANGUAGE_NAMES
from app.guards import has_control_character
from app.reports.forms import RECEIPT_MAX, SUGGESTION_MAX, TEXT_MAX, TEXT_MIN
from app.services.export import Format
from app.services.report_queries import NEEDS_REVIEW, NONE, OTHER, UNCLASSIFIED
from app.services.triage import QueueOrder
from app.triage.forms import OPEN, SEARCH_INPUT_MAX
from models import CATEGORIES, Area, Impact, Kind, KnownIssueStatus, Status
from models.alert import AlertKind, AlertState

#: Database ids are positive and fit PostgreSQL's integer.
ID_MAX = 2**31 - 1
Id = Annotated[int, Field(ge=1, le=ID_MAX)]


def _printable(text: str) -> str:
    if has_control_character(text):
        raise ValueError("holds a control character")
    return text


def _iso_date(value: object) -> object:
    """Only a YYYY-MM-DD date (pydantic would take a number of seconds since 1970 too)."""
    if isinstance(value, str) and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError("write the date as YYYY-MM-DD")
    if not isinstance(value, str | date):
        raise ValueError("write the date as YYYY-MM-DD")
    return value


def _as_typed(text: str) -> str:
    """What the report form does to a text before checking it: Unix line breaks, no
    surrounding blanks."""
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


Printable = Annotated[str, AfterValidator(_printable)]
IsoDate = Annotated[date, BeforeValidator(_iso_date)]
#: A stored time (UTC without a zone) written as RFC 3339, with its offset.
Utc = Annotated[datetime, AfterValidator(lambda moment: moment.replace(tzinfo=UTC)
                                         if moment.tzinfo is None else moment)]
FormText = Annotated[str, BeforeValidator(lambda v: _as_typed(v) if isinstance(v, str) else v),
                     AfterValidator(_printable)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


# Problems -----------------------------------------------------------------------------------

class FieldError(_Model):
    #: Where the value is: e.g. "text" or "query.unit".
    field: str
    message: str


class Problem(BaseModel):
    """An error as RFC 9457 problem details (served as application/problem+json)."""

    type: str = Field(description="A stable URI naming the kind of problem.")
    title: str
    status: int = Field(ge=400, le=599)
    detail: str
    errors: list[FieldError] | None = Field(
        default=None, description="The invalid values, for a validation problem.")


# Submitting and following a report ----------------------------------------------------------

class NewReport(_Model):
    kind: Kind = Kind.INCIDENT
    text: Annotated[FormText, Field(min_length=TEXT_MIN, max_length=TEXT_MAX)]
    occurred_at: AwareDatetime | None = Field(
        default=None, description="When it happened, with its UTC offset; now if left out. "
                                  "An anonymous report keeps only the hour.")
    unit_id: Id = Field(description="An active unit's id (see the quick report link).")
    area: Area = Area.OTHER
    impact: Impact = Impact.UNKNOWN
    suggestion: Annotated[FormText, Field(max_length=SUGGESTION_MAX)] | None = None
    known_issue_id: Id | None = Field(
        default=None, description="An open known issue the reporter says this is; any other "
                                  "is ignored, as on the form.")
    reporter_email: Annotated[Printable, Field(min_length=3, max_length=254)] | None = Field(
        default=None, description="Send the report in the name of this active account; needs "
                                  "a token with the scope api.report_for_user. Anonymous "
                                  "without it.")
    idempotency_key: str = Field(
        pattern=r"^[A-Za-z0-9_-]{22,64}$",
        description="A random key per submission: sending it again returns the same report "
                    "(and receipt) instead of a second one.")


class SubmittedReport(_Model):
    reference: str
    anonymous: bool
    receipt_code: str | None = Field(
        description="Only for an anonymous report: the reporter's one way to follow it. "
                    "Never stored in clear; the same key gives the same code again.")


class ReceiptQuery(_Model):
    receipt: Annotated[Printable, Field(min_length=1, max_length=RECEIPT_MAX)]


class IssueBrief(_Model):
    title: str
    status: KnownIssueStatus


class ReceiptStatus(_Model):
    """What the receipt page shows of a report, and no more."""

    reference: str
    submitted_on: date
    status: Status
    known_issue: IssueBrief | None


# The queue, a report, the export ---------------------------------------------------------------

Category = Literal[*CATEGORIES, OTHER, UNCLASSIFIED, NEEDS_REVIEW]
Language = Literal[*LANGUAGE_NAMES]
IdOrNone = Id | Literal["none"]


class ReportFilter(_Model):
    """The queue page's filters; each is left out for "any"."""

    q: Annotated[Printable, Field(max_length=SEARCH_INPUT_MAX)] | None = Field(
        default=None, description="Words the text must all contain.")
    category: Category | None = None
    status: Status | Literal["open"] | None = Field(
        default=None, description='"open" for new, triaged and in progress.')
    unit: Id | None = None
    area: Area | None = None
    impact: Impact | None = None
    language: Language | None = None
    date_from: IsoDate | None = None
    date_to: IsoDate | None = None
    assignee: IdOrNone | None = Field(default=None, description=f'"{NONE}": unassigned.')
    known_issue: IdOrNone | None = Field(default=None, description=f'"{NONE}": in none.')
    overdue: bool = False


class QueueQuery(ReportFilter):
    status: Status | Literal["open"] | None = OPEN
    order: QueueOrder = QueueOrder.URGENCY
    after: Annotated[Printable, Field(max_length=100)] | None = Field(
        default=None, description="The previous page's next_cursor.")


class ExportQuery(ReportFilter):
    status: Status | Literal["open"] | None = None
    format: Literal[Format.JSONL, Format.CSV] = Format.JSONL
    project: str | None = Field(default=None, pattern=r"^[A-Za-z0-9._-]{1,64}$",
                                description="Pseudonymise with this research project's key.")


class FhirQuery(_Model):
    project: str | None = Field(default=None, pattern=r"^[A-Za-z0-9._-]{1,64}$",
                                description="Pseudonymise with this research project's key.")


class FhirBundleQuery(ReportFilter, FhirQuery):
    status: Status | Literal["open"] | None = None


class UnitOut(_Model):
    id: int
    name: str


class ReportOut(_Model):
    id: int
    reference: str
    kind: Kind
    text: str
    suggestion: str | None
    unit: UnitOut
    area: Area
    impact: Impact
    status: Status
    submitted_on: date
    anonymous: bool
    categories: list[str] = Field(description="Empty until it is classified.")
    classified: bool
    needs_review: bool
    risk_score: int | None
    due_at: Utc | None
    known_issue_id: int | None
    assignee_id: int | None


class QueuePageOut(_Model):
    reports: list[ReportOut]
    next_cursor: str | None = Field(description="Pass as `after` for the next page.")


class KnownIssueQuery(_Model):
    status: KnownIssueStatus | None = None
    page: Annotated[int, Field(ge=1, le=100_000)] = 1


class KnownIssueOut(_Model):
    id: int
    title: str
    description: str | None
    status: KnownIssueStatus
    created_at: Utc
    resolved_at: Utc | None


class KnownIssuePageOut(_Model):
    known_issues: list[KnownIssueOut]
    page: int
    pages: int
    total: int


class AlertOut(_Model):
    id: int
    kind: AlertKind
    title: str
    state: AlertState
    raised_at: Utc
    known_issue_id: int | None


class AlertList(_Model):
    alerts: list[AlertOut]


class ErrorKind(StrEnum):
    """The kinds of problem; each is a stable `type` URI (app/api/problems.py)."""

    VALIDATION = "validation"
    MALFORMED = "malformed-request"
    UNAUTHENTICATED = "unauthenticated"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not-found"
    METHOD = "method-not-allowed"
    TOO_LARGE = "too-large"
    MEDIA_TYPE = "unsupported-media-type"
    RATE_LIMITED = "rate-limited"
    SERVER = "server-error"
