"""The coordination group's queue and review of reports.

The queue pages by keyset ("after this row"), not by offset: page 500 costs
what page 1 does, and a report arriving meanwhile shifts nothing. The cursor
is the last row's values of the order's columns, readable in a shared URL.
"""

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Literal

from sqlalchemy import ColumnElement, Select, and_, literal, or_, select
from sqlalchemy.orm import InstrumentedAttribute, joinedload

from app.services import NotFound, ServiceError
from app.services.audit import record
from models import (
    CATEGORIES,
    OPEN_STATUSES,
    KnownIssue,
    Report,
    Status,
    User,
    db,
    search_condition,
    transaction,
    utcnow,
)

#: Category filter values beyond the three categories.
OTHER, UNCLASSIFIED, NEEDS_REVIEW = "other", "unclassified", "needs_review"
#: The assignee or known-issue filter value for "none at all".
NONE = "none"
#: Words of a search, at most; more only slow the search down.
SEARCH_WORDS_MAX = 10
_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class ReportFilters:
    """Filters shared by the triage queue and the research export.

    Within one filter any of the values may match (an empty set: no filter);
    the filters themselves must all hold.
    """

    categories: frozenset[str] = frozenset()
    statuses: frozenset[str] = frozenset()
    unit_ids: frozenset[int] = frozenset()
    areas: frozenset[str] = frozenset()
    impacts: frozenset[str] = frozenset()
    kind: str | None = None
    language: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    #: A coordinator's id, or NONE for unassigned reports.
    assignee: int | Literal["none"] | None = None
    #: A known issue's id, or NONE for reports in no known issue.
    known_issue: int | Literal["none"] | None = None
    #: Only open reports whose due time has passed.
    overdue: bool = False
    #: Words the text must all contain (see `search_words`).
    search: tuple[str, ...] = ()


def search_words(query: str) -> tuple[str, ...]:
    """The words of a search box's input, operators and punctuation dropped."""
    return tuple(_WORD.findall(query))[:SEARCH_WORDS_MAX]


def _category_condition(category: str) -> ColumnElement[bool]:
    if category in CATEGORIES:
        return getattr(Report, f"is_{category}").is_(True)
    if category == OTHER:
        return and_(*(getattr(Report, f"is_{c}").is_(False) for c in CATEGORIES))
    if category == UNCLASSIFIED:
        return or_(*(getattr(Report, f"is_{c}").is_(None) for c in CATEGORIES))
    if category == NEEDS_REVIEW:
        return Report.needs_review.is_(True)
    raise ServiceError(f"unknown category {category!r}")


def filtered_reports(filters: ReportFilters, *columns) -> Select:
    """A SELECT of reports (or of `columns`) matching `filters`.

    Dates are inclusive submission dates.
    """
    query = select(*columns) if columns else select(Report)
    if filters.categories:
        query = query.where(or_(*(_category_condition(c) for c in sorted(filters.categories))))
    if filters.statuses:
        query = query.where(Report.status.in_(sorted(filters.statuses)))
    if filters.unit_ids:
        query = query.where(Report.unit_id.in_(sorted(filters.unit_ids)))
    if filters.areas:
        query = query.where(Report.area.in_(sorted(filters.areas)))
    if filters.impacts:
        query = query.where(Report.impact.in_(sorted(filters.impacts)))
    if filters.kind:
        query = query.where(Report.kind == filters.kind)
    if filters.language:
        query = query.where(Report.language == filters.language)
    if filters.date_from:
        query = query.where(Report.submitted_on >= filters.date_from)
    if filters.date_to:
        query = query.where(Report.submitted_on < filters.date_to + timedelta(days=1))
    if filters.assignee is not None:
        query = query.where(_is_or_none(Report.assignee_id, filters.assignee))
    if filters.known_issue is not None:
        query = query.where(_is_or_none(Report.known_issue_id, filters.known_issue))
    if filters.overdue:
        query = query.where(Report.due_at < utcnow(), Report.status.in_(sorted(OPEN_STATUSES)))
    if filters.search:
        dialect = db.session.get_bind().dialect.name
        query = query.where(search_condition(list(filters.search), dialect))
    return query


def _is_or_none(column: InstrumentedAttribute, value: int | str) -> ColumnElement[bool]:
    return column.is_(None) if value == NONE else column == value


class QueueOrder(StrEnum):
    URGENCY = "urgency"
    NEWEST = "newest"
    REVIEW = "review"


#: Each order's columns, each with "descending?"; the last one is unique (the id).
#: Every order has an index in the same order (models/report.py).
ORDER_COLUMNS: dict[str, tuple[tuple[InstrumentedAttribute, bool], ...]] = {
    QueueOrder.URGENCY: ((Report.priority, True), (Report.id, False)),
    QueueOrder.NEWEST: ((Report.submitted_on, True), (Report.id, True)),
    QueueOrder.REVIEW: ((Report.needs_review, True), (Report.priority, True),
                        (Report.id, False)),
}
_CURSOR_SEPARATOR = "~"


@dataclass(frozen=True)
class QueuePage:
    reports: list[Report]
    #: The cursor of the next page, or None on the last page.
    next_cursor: str | None


def _cursor_value(value: object) -> str:
    if isinstance(value, bool):
        return str(int(value))
    return value.isoformat() if isinstance(value, date) else repr(value)


def _parse_value(text: str, column: InstrumentedAttribute) -> object:
    python_type = column.type.python_type
    if python_type is bool:
        if text not in ("0", "1"):
            raise ValueError(text)
        return text == "1"
    if python_type is date:
        return date.fromisoformat(text)
    return python_type(text)


def make_cursor(report: Report, order: str) -> str:
    """The cursor that continues the queue after `report`."""
    return _CURSOR_SEPARATOR.join(_cursor_value(getattr(report, column.key))
                                  for column, _ in ORDER_COLUMNS[order])


def parse_cursor(cursor: str, order: str) -> tuple[object, ...]:
    """The column values in a cursor; ServiceError if it is not one of `order`'s."""
    columns = ORDER_COLUMNS[order]
    parts = cursor.split(_CURSOR_SEPARATOR)
    try:
        if len(parts) != len(columns):
            raise ValueError(cursor)
        return tuple(_parse_value(part, column) for part, (column, _) in zip(parts, columns,
                                                                             strict=True))
    except ValueError:
        raise ServiceError("not a position in this queue") from None


def _after(columns: Sequence[tuple[InstrumentedAttribute, bool]],
           values: tuple[object, ...]) -> ColumnElement[bool]:
    """Rows after `values` in the order: the first differing column decides.

    The first column's bound is repeated on its own, outside the OR, so that the
    planner starts the index scan at the cursor instead of filtering from the top.
    """
    conditions, equal = [], []
    for (column, descending), raw in zip(columns, values, strict=True):
        value = literal(raw, column.type)  # a parameter, even for True and False
        beyond = column < value if descending else column > value
        conditions.append(and_(*equal, beyond))
        equal.append(column == value)
    (first, descending), start = columns[0], literal(values[0], columns[0][0].type)
    return and_(first <= start if descending else first >= start, or_(*conditions))


def queue_page(filters: ReportFilters, order: str = QueueOrder.URGENCY,
               after: str | None = None, per_page: int = 25) -> QueuePage:
    """One page of the queue in `order`, starting after the cursor `after`."""
    columns = ORDER_COLUMNS[order]
    query = filtered_reports(filters).options(joinedload(Report.unit),
                                              joinedload(Report.assignee))
    if after:
        query = query.where(_after(columns, parse_cursor(after, order)))
    query = query.order_by(*(column.desc() if descending else column
                             for column, descending in columns)).limit(per_page + 1)
    reports = list(db.session.scalars(query).unique())
    more = len(reports) > per_page
    reports = reports[:per_page]
    return QueuePage(reports, make_cursor(reports[-1], order) if more else None)


def known_issue_choices() -> list[tuple[int, str]]:
    """Every known issue's id and title, the open ones first."""
    return list(db.session.execute(
        select(KnownIssue.id, KnownIssue.title)
        .order_by((KnownIssue.status == "open").desc(), KnownIssue.title)).tuples())


def get_report(report_id: int) -> Report:
    report = db.session.get(Report, report_id)
    if report is None:
        raise NotFound("no such report")
    return report


def review_report(report_id: int, reviewer: User, categories: set[str], status: str) -> Report:
    """Store a person's categories beside the model's and move the report's status."""
    if not categories <= set(CATEGORIES):
        raise ServiceError("unknown category")
    if status not in set(Status):
        raise ServiceError("unknown status")
    with transaction():
        report = get_report(report_id)
        report.apply_review(reviewer.id, categories)
        report.set_status(status)
        record("report.review", reviewer, "report", report_id,
               categories=categories, status=status)
    return report


def label_reports(report_ids: list[int], categories: set[str], reviewer: User) -> int:
    """Give many reports the same categories as a person's decision; all or none."""
    if not categories <= set(CATEGORIES):
        raise ServiceError("unknown category")
    with transaction():
        reports = get_reports(report_ids)
        for report in reports:
            report.apply_review(reviewer.id, categories)
            record("report.review", reviewer, "report", report.id, categories=categories)
    return len(reports)


def get_reports(report_ids: Iterable[int]) -> list[Report]:
    """The reports with these ids, by id; NotFound (so nothing changes) if one is missing."""
    wanted = set(report_ids)
    reports = list(db.session.scalars(select(Report).where(Report.id.in_(sorted(wanted)))
                                      .order_by(Report.id)))
    if len(reports) != len(wanted):
        raise NotFound("no such report")
    return reports
