"""The coordination group's queue and review of reports."""

from dataclasses import dataclass
from datetime import date, timedelta

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import ColumnElement, Select, and_, or_, select
from sqlalchemy.orm import joinedload

from app.services import NotFound, ServiceError
from app.services.audit import record
from models import CATEGORIES, Report, Status, User, db, transaction

#: Category filter values beyond the three categories.
OTHER, UNCLASSIFIED, NEEDS_REVIEW = "other", "unclassified", "needs_review"


@dataclass(frozen=True)
class ReportFilters:
    """Filters shared by the triage queue and the research export.

    Within one filter any of the values may match (an empty set: no filter);
    the filters themselves must all hold.
    """

    categories: frozenset[str] = frozenset()
    statuses: frozenset[str] = frozenset()
    unit_ids: frozenset[int] = frozenset()
    kind: str | None = None
    language: str | None = None
    date_from: date | None = None
    date_to: date | None = None


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
    if filters.kind:
        query = query.where(Report.kind == filters.kind)
    if filters.language:
        query = query.where(Report.language == filters.language)
    if filters.date_from:
        query = query.where(Report.submitted_on >= filters.date_from)
    if filters.date_to:
        query = query.where(Report.submitted_on < filters.date_to + timedelta(days=1))
    return query


def queue_page(filters: ReportFilters, page: int, per_page: int,
               review_first: bool = False) -> Pagination:
    """One page of the queue, newest first; optionally the uncertain ones before the rest."""
    order = [Report.submitted_on.desc(), Report.id.desc()]
    if review_first:
        order.insert(0, Report.needs_review.desc())
    query = filtered_reports(filters).options(joinedload(Report.unit)).order_by(*order)
    return db.paginate(query, page=page, per_page=per_page, error_out=False, count=True)


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
