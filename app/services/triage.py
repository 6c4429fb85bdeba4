"""The coordination group's queue and review of reports.

Its filters (`ReportFilters`) live in app.services.report_queries, shared with the export.

The queue pages by keyset ("after this row"), not by offset: page 500 costs
what page 1 does, and a report arriving meanwhile shifts nothing. The cursor
is the last row's values of the order's columns, readable in a shared URL.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    ColumnElement,
    Row,
    Select,
    and_,
    exists,
    func,
    literal,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import InstrumentedAttribute, joinedload
from sqlalchemy.sql.elements import KeyedColumnElement

from app.services import ServiceError
from app.services.audit import record
from app.services.report_queries import ReportFilters, filtered_reports, get_report, get_reports
from app.services.workflow import (
    assess_risk_one,
    assign_one,
    check_assignee,
    check_risk,
    check_status,
    set_status_one,
)
from models import (
    CATEGORIES,
    MAX_ID,
    OPEN_STATUSES,
    EmergingIssue,
    EmergingIssueReport,
    EmergingStatus,
    KnownIssue,
    Report,
    Status,
    User,
    db,
    transaction,
)


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


class GroupKind(StrEnum):
    KNOWN_ISSUE = "known_issue"
    EMERGING = "emerging"


@dataclass(frozen=True)
class IssueGroup:
    """A known or emerging issue shown as one row of a grouped queue."""

    kind: GroupKind
    id: int
    title: str
    #: Its reports that match the queue's filters.
    count: int
    #: The hour its latest matching report came in.
    last_report_at: datetime | None


@dataclass(frozen=True)
class QueuePage:
    reports: list[Report]
    #: The cursor of the next page, or None on the last page.
    next_cursor: str | None
    #: In a grouped queue: the group a row stands for, by the id of the report that
    #: holds its place (its first report in the queue's order). Other rows are reports.
    groups: dict[int, IssueGroup] = field(default_factory=dict)


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
    value = python_type(text)
    if python_type is int and not -MAX_ID - 1 <= value <= MAX_ID:
        raise ValueError(text)  # no row holds it, and SQLite could not bind it
    return value


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


def _after(columns: Sequence[tuple[KeyedColumnElement, bool]],
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


def _known_issue_members(filters: ReportFilters, columns: list) -> Select:
    return filtered_reports(filters, *columns, literal(GroupKind.KNOWN_ISSUE).label("kind"),
                            Report.known_issue_id.label("group_id")
                            ).where(Report.known_issue_id.is_not(None))


def _emerging_members(filters: ReportFilters, columns: list) -> Select:
    """Members of open emerging issues, but those already in a known issue (a forming
    group of one report is no group yet, as on the emerging issues' page)."""
    return (filtered_reports(filters, *columns, literal(GroupKind.EMERGING).label("kind"),
                             EmergingIssueReport.emerging_issue_id.label("group_id"))
            .join(EmergingIssueReport, EmergingIssueReport.report_id == Report.id)
            .join(EmergingIssue, EmergingIssue.id == EmergingIssueReport.emerging_issue_id)
            .where(EmergingIssue.status == EmergingStatus.OPEN,
                   Report.known_issue_id.is_(None)))


def _in_no_group() -> ColumnElement[bool]:
    in_emerging = exists().where(
        EmergingIssueReport.report_id == Report.id,
        EmergingIssue.id == EmergingIssueReport.emerging_issue_id,
        EmergingIssue.status == EmergingStatus.OPEN)
    return and_(Report.known_issue_id.is_(None), ~in_emerging)


def _ordered(query: Select, columns: Sequence[tuple[KeyedColumnElement, bool]],
             after: str | None, order: str, limit: int) -> Select:
    if after:
        query = query.where(_after(columns, parse_cursor(after, order)))
    return query.order_by(*(column.desc() if descending else column
                            for column, descending in columns)).limit(limit)


def grouped_queue_page(filters: ReportFilters, order: str = QueueOrder.URGENCY,
                       after: str | None = None, per_page: int = 25) -> QueuePage:
    """One page of the queue with each known issue and open emerging issue as one row.

    A group takes the place of its first matching report in the queue's order, so
    the same keyset cursor pages groups and single reports alike. Two queries find
    the page: the groups' first reports (one grouped query over the grouped reports
    that match, numbered per group by a window function), and the reports in no
    group (the queue's own index walk); the page is the first of both together.
    """
    order_columns = ORDER_COLUMNS[order]
    keys = [column for column, _ in order_columns]
    members = union_all(_known_issue_members(filters, [*keys, Report.submitted_hour]),
                        _emerging_members(filters, [*keys, Report.submitted_hour])).subquery()
    group = (members.c.kind, members.c.group_id)
    ranked = select(
        *(members.c[column.key] for column in keys), *group,
        func.row_number().over(partition_by=group, order_by=[
            members.c[column.key].desc() if descending else members.c[column.key]
            for column, descending in order_columns]).label("place"),
        func.count().over(partition_by=group).label("matching"),
        func.max(members.c.submitted_hour).over(partition_by=group).label("last_hour"),
    ).subquery()
    first_reports = select(ranked).where(ranked.c.place == 1).subquery()
    first_columns = [(first_reports.c[column.key], descending)
                     for column, descending in order_columns]
    heads = db.session.execute(_ordered(select(first_reports), first_columns, after, order,
                                        per_page + 1)).all()
    singles = db.session.execute(_ordered(
        filtered_reports(filters, *keys, null().label("kind"), null().label("group_id"),
                         null().label("matching"), null().label("last_hour")).where(_in_no_group()),
        order_columns, after, order, per_page + 1)).all()
    rows = sorted([*heads, *singles], key=lambda row: _sort_key(row, order_columns))
    more = len(rows) > per_page
    rows = rows[:per_page]
    reports = _reports_in_order([row.id for row in rows])
    groups = _issue_groups(rows)
    return QueuePage(reports, make_cursor(reports[-1], order) if more else None, groups)


def _sort_key(row: Row, columns: Sequence[tuple[InstrumentedAttribute, bool]]) -> tuple:
    """A row's place in the queue's order, for merging groups and single reports."""
    key = []
    for column, descending in columns:
        value = getattr(row, column.key)
        number = value.toordinal() if isinstance(value, date) else float(value)
        key.append(-number if descending else number)
    return tuple(key)


def _reports_in_order(report_ids: list[int]) -> list[Report]:
    found = {report.id: report for report in db.session.scalars(
        select(Report).where(Report.id.in_(report_ids))
        .options(joinedload(Report.unit), joinedload(Report.assignee))).unique()}
    return [found[report_id] for report_id in report_ids]


def _issue_groups(rows: Sequence[Row]) -> dict[int, IssueGroup]:
    """The groups among a page's rows, by the id of the report holding each one's place
    (two queries: the known issues' titles and the emerging issues')."""
    wanted = {kind: [row.group_id for row in rows if row.kind == kind] for kind in GroupKind}
    titles = {(GroupKind.KNOWN_ISSUE, issue_id): title for issue_id, title in db.session.execute(
        select(KnownIssue.id, KnownIssue.title)
        .where(KnownIssue.id.in_(wanted[GroupKind.KNOWN_ISSUE])))}
    titles |= {(GroupKind.EMERGING, issue_id): title for issue_id, title in db.session.execute(
        select(EmergingIssue.id, EmergingIssue.title)
        .where(EmergingIssue.id.in_(wanted[GroupKind.EMERGING])))}
    return {row.id: IssueGroup(GroupKind(row.kind), row.group_id,
                               titles[(row.kind, row.group_id)], row.matching, row.last_hour)
            for row in rows if row.kind is not None}


#: Counts above this are shown as "more than" it: counting every open report of a
#: go-live backlog would cost more than the page it heads.
COUNT_CAP = 10_000


@dataclass(frozen=True)
class Count:
    value: int
    #: True when there are more than `value` (the count stopped at COUNT_CAP).
    more: bool


@dataclass(frozen=True)
class QueueCounts:
    open: Count
    new: Count
    overdue: Count


def capped_count(filters: ReportFilters) -> Count:
    """How many reports match `filters`, counting no further than COUNT_CAP."""
    matching = filtered_reports(filters, Report.id).limit(COUNT_CAP + 1).subquery()
    found = db.session.scalar(select(func.count()).select_from(matching))
    return Count(min(found, COUNT_CAP), found > COUNT_CAP)


def queue_counts() -> QueueCounts:
    """The open, new and overdue reports that head the queue (each at most COUNT_CAP).

    The same filters as the queue's own, so each count is what its link shows.
    """
    open_statuses = frozenset(OPEN_STATUSES)
    return QueueCounts(
        open=capped_count(ReportFilters(statuses=open_statuses)),
        new=capped_count(ReportFilters(statuses=frozenset({Status.NEW}))),
        overdue=capped_count(ReportFilters(statuses=open_statuses, overdue=True)))


def known_issue_choices() -> list[tuple[int, str]]:
    """Every known issue's id and title, the open ones first."""
    return list(db.session.execute(
        select(KnownIssue.id, KnownIssue.title)
        .order_by((KnownIssue.status == "open").desc(), KnownIssue.title)).tuples())


@dataclass(frozen=True)
class Decision:
    """A person's decision on one report, as the report page's one form sends it."""

    categories: frozenset[str]
    status: str
    assignee_id: int | None
    consequence: int
    likelihood: int


def decide_report(report_id: int, actor: User, decision: Decision) -> list[str]:
    """Save a whole decision at once: all of it or, on bad input, none of it.

    Each part is audited as its own action, and only when it changes something,
    with the workflow's rules (triage and finish times, due time, priority). The
    categories are stored as a person's (beside the model's) when they differ or
    were never reviewed; the risk becomes a person's assessment. Returns the
    audit actions written, in order.
    """
    if not decision.categories <= set(CATEGORIES):
        raise ServiceError("unknown category")
    check_status(decision.status)
    check_risk(decision.consequence, decision.likelihood)
    with transaction():
        assignee = check_assignee(decision.assignee_id)
        report = get_report(report_id)
        done = []
        if not report.labels_reviewed or set(report.categories) != decision.categories:
            report.apply_review(actor.id, set(decision.categories))
            record("report.review", actor, "report", report_id,
                   categories=sorted(decision.categories))
            done.append("report.review")
        for action, changed in (
                ("report.status", set_status_one(report, decision.status, actor)),
                ("report.assign", assign_one(report, assignee, actor)),
                ("report.risk", assess_risk_one(report, decision.consequence,
                                                decision.likelihood, actor))):
            if changed:
                done.append(action)
    return done


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


@dataclass(frozen=True)
class Neighbours:
    """The reports before and after one report in a queue's order and filters (ids)."""

    previous: int | None
    next: int | None


def _neighbour(filters: ReportFilters, order: str, report: Report, forward: bool) -> int | None:
    """The first report after (or before) `report` in the queue: one index range scan."""
    columns = tuple((column, descending if forward else not descending)
                    for column, descending in ORDER_COLUMNS[order])
    values = tuple(getattr(report, column.key) for column, _ in columns)
    return db.session.scalar(
        filtered_reports(filters, Report.id).where(_after(columns, values))
        .order_by(*(column.desc() if descending else column for column, descending in columns))
        .limit(1))


def queue_neighbours(filters: ReportFilters, order: str, report: Report) -> Neighbours:
    """Where `report` sits in the queue of `filters` and `order`, by its current values.

    The report need not match the filters itself (a decision may have just moved
    it out): its neighbours are those around the place it has in the order.
    """
    return Neighbours(_neighbour(filters, order, report, forward=False),
                      _neighbour(filters, order, report, forward=True))
