"""Finding reports: by id, and by the filters the queue and the research export share.

Search words go to the database's full-text index (models/search.py).
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from sqlalchemy import ColumnElement, Select, and_, or_, select
from sqlalchemy.orm import InstrumentedAttribute

from app.services import NotFound, ServiceError
from models import (
    CATEGORIES,
    OPEN_STATUSES,
    EmergingIssueReport,
    Report,
    db,
    search_condition,
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
    #: An emerging issue's id: only its member reports.
    emerging_issue: int | None = None
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
    if filters.emerging_issue is not None:
        query = query.where(Report.id.in_(select(EmergingIssueReport.report_id).where(
            EmergingIssueReport.emerging_issue_id == filters.emerging_issue)))
    if filters.overdue:
        query = query.where(Report.due_at < utcnow(), Report.status.in_(sorted(OPEN_STATUSES)))
    if filters.search:
        dialect = db.session.get_bind().dialect.name
        query = query.where(search_condition(list(filters.search), dialect))
    return query


def _is_or_none(column: InstrumentedAttribute, value: int | str) -> ColumnElement[bool]:
    return column.is_(None) if value == NONE else column == value


def get_report(report_id: int) -> Report:
    report = db.session.get(Report, report_id)
    if report is None:
        raise NotFound("no such report")
    return report


def get_reports(report_ids: Iterable[int]) -> list[Report]:
    """The reports with these ids, by id; NotFound (so nothing changes) if one is missing."""
    wanted = set(report_ids)
    reports = list(db.session.scalars(select(Report).where(Report.id.in_(sorted(wanted)))
                                      .order_by(Report.id)))
    if len(reports) != len(wanted):
        raise NotFound("no such report")
    return reports
