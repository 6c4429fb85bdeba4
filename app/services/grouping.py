"""Automatic grouping: every new report joins the group it is most like, or starts one.

`group_report` runs after a report is stored and indexed:

1. its grouping vector (ml.grouping) comes from its de-identified text;
2. candidates: for each of its terms, the newest `POSTINGS_PER_TERM` groups
   that index it (`ix_emerging_issue_term_key`, a LIMIT per term, one
   statement); each scores the weights it shares, per block (words, characters);
3. the best `RERANK` of them that are still active (undecided, or the profile
   of an open known issue) and that the report was never moved out of are
   reranked by `ml.grouping.choose` on their stored profiles;
4. the report joins the chosen group (its profile, term index, counts, hours,
   status and title follow) or starts a new one; a group that is a known issue's
   profile puts the report in that known issue too.

The work is bounded by terms x postings, whatever the number of groups. Groups
no report joined for `FADE_DAYS` fade (`fade_stale`, run by the alert evaluation
every 15 minutes, and by `group_reports` against each report's hour, as an import
of old reports runs through time), which keeps the open set small.

Coordinators decide on a group with `confirm` (it becomes a known issue),
`merge_into` (its members join a known issue), `split`, `dismiss` and
`move_out`; each is one transaction with one audit entry (and one per report
whose known issue changes). What they move out is remembered
(`GroupingExclusion`, the group's `excluded` profile), so its like stays out.
"""

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import (
    CompoundSelect,
    Subquery,
    bindparam,
    delete,
    func,
    or_,
    select,
    union_all,
    update,
)

from app.services import NotFound, ServiceError
from app.services.audit import record
from app.services.issue_profiles import (
    exclude,
    group_of,
    members,
    profile_row,
    reindex,
    report_vector,
    take,
)
from app.services.known_issues import IssueResolved, checked_text, get_known_issue, move_reports
from ml import grouping
from ml.similarity import keyed, normalized
from models import (
    ACTIVE_STATUSES,
    UNDECIDED_STATUSES,
    Alert,
    EmergingIssue,
    EmergingIssueReport,
    EmergingIssueTerm,
    EmergingStatus,
    GroupingExclusion,
    KnownIssue,
    KnownIssueStatus,
    Report,
    Unit,
    User,
    db,
    transaction,
    utcnow,
)
from models.base import in_write_transaction

#: Newest groups read per term of a report when looking for candidates.
POSTINGS_PER_TERM = 50
#: Candidates whose profiles are compared with the report.
RERANK = 20
#: An undecided group takes reports for this long after its first (see `_active_groups`).
ACCEPT_HOURS = 48
#: An undecided group no report joined for this long fades.
FADE_DAYS = 7
#: The hours over which a group's growth per hour is measured.
GROWTH_HOURS = 6
#: Reports grouped per transaction by `group_reports`.
BATCH = 200
#: Reports split off or otherwise named in one request, at most.
MAX_REPORTS = 1000


class AlreadyDecided(ServiceError):
    """The emerging issue was confirmed, merged, dismissed or faded already."""


# Grouping ----------------------------------------------------------------------------------

def _block_dots(vector: grouping.Vector) -> dict[int, tuple[float, bool]]:
    """The report's features by key, each block normalised, with whether it is a word."""
    words, chars = grouping.blocks(vector)
    return {key: (weight, is_word)
            for block, is_word in ((words, True), (chars, False))
            for key, weight in keyed(normalized(block)).items()}


@lru_cache(maxsize=2 * (grouping.WORD_FEATURES + grouping.CHAR_FEATURES))
def _postings(terms: int) -> CompoundSelect:
    """For `terms` keys (bound as k0, k1, ...): the newest groups indexing each, with
    weights. Built once per number of keys, so SQLAlchemy compiles it once too."""
    postings = [select(EmergingIssueTerm.term_key, EmergingIssueTerm.emerging_issue_id,
                       EmergingIssueTerm.weight)
                .where(EmergingIssueTerm.term_key == bindparam(f"k{number}"))
                .order_by(EmergingIssueTerm.emerging_issue_id.desc())
                .limit(POSTINGS_PER_TERM).subquery() for number in range(terms)]
    return union_all(*(select(p.c.term_key, p.c.emerging_issue_id, p.c.weight)
                       for p in postings))


def _candidates(vector: grouping.Vector) -> list[int]:
    """The ids of the groups sharing most of the report's weight, best first."""
    keyed = _block_dots(vector)
    if not keyed:
        return []
    keys = {f"k{number}": key for number, key in enumerate(keyed)}
    words: Counter[int] = Counter()
    chars: Counter[int] = Counter()
    for key, group_id, weight in db.session.connection().execute(_postings(len(keys)), keys):
        share, is_word = keyed[key]
        (words if is_word else chars)[group_id] += share * weight
    best = {group_id: max(words[group_id], chars[group_id]) for group_id in words | chars}
    return sorted(best, key=lambda group_id: (-best[group_id], -group_id))[:RERANK]


def _active_groups(group_ids: list[int], report: Report) -> list[EmergingIssue]:
    """Of these groups, those a report may join: active, not a resolved known issue's,
    not one it was moved out of, and, for an undecided group, begun at most
    `ACCEPT_HOURS` before the report arrived.

    An emerging issue is a burst of recent reports: a theme reported all along
    (printers) would otherwise grow one group of hundreds whose broad profile
    takes in anything. A confirmed known issue's profile takes reports for as
    long as the issue is open.
    """
    if not group_ids:
        return []
    moved_out = select(GroupingExclusion.emerging_issue_id).where(
        GroupingExclusion.report_id == report.id)
    arrived = report.submitted_hour or utcnow()
    query = (select(EmergingIssue)
             .outerjoin(KnownIssue, KnownIssue.id == EmergingIssue.known_issue_id)
             .where(EmergingIssue.id.in_(group_ids),
                    EmergingIssue.status.in_(ACTIVE_STATUSES),
                    or_(EmergingIssue.known_issue_id.is_(None),
                        KnownIssue.status == KnownIssueStatus.OPEN),
                    or_(EmergingIssue.known_issue_id.is_not(None),
                        EmergingIssue.first_report_at >= arrived - timedelta(
                            hours=ACCEPT_HOURS)),
                    EmergingIssue.id.not_in(moved_out)))
    return list(db.session.scalars(query))


def _candidate_groups(vector: grouping.Vector, report: Report) -> list[EmergingIssue]:
    """The groups the report may join, found through the term index."""
    return _active_groups(_candidates(vector), report)


def _candidate(group: EmergingIssue) -> grouping.Candidate:
    return grouping.Candidate(group.id, group.profile, group.excluded, group.member_count,
                              group.known_issue_id is not None)


def _absorb(group: EmergingIssue, others: list[EmergingIssue]) -> None:
    """Merge into `group` the other undecided groups that are now the same thing (see
    `ml.grouping.bridged`).

    Their members move over, with the coordinators' exclusions of them. An alert
    about an absorbed group becomes the alert about `group` when that has none
    (it was raised when the thing first showed), else it is cleared. The emptied
    groups are deleted.
    """
    if not group.is_undecided:
        return
    undecided = [other for other in others if other.is_undecided]
    for candidate in grouping.bridged(group.profile, [_candidate(o) for o in undecided]):
        other = next(o for o in undecided if o.id == candidate.key)
        if not _lock_undecided(other):
            continue
        already = select(GroupingExclusion.report_id).where(
            GroupingExclusion.emerging_issue_id == group.id)
        db.session.execute(update(GroupingExclusion)
                           .where(GroupingExclusion.emerging_issue_id == other.id,
                                  GroupingExclusion.report_id.not_in(already))
                           .values(emerging_issue_id=group.id))
        take(members(other.id), group)
        _pass_on_alert(other, group)
        db.session.delete(other)


def _pass_on_alert(absorbed: EmergingIssue, group: EmergingIssue) -> None:
    alert = db.session.scalar(select(Alert).where(Alert.emerging_issue_id == absorbed.id,
                                                  Alert.cleared_at.is_(None)))
    if alert is None:
        return
    has_own = db.session.scalar(select(Alert.id).where(
        Alert.key == Alert.emerging_key(group.id), Alert.cleared_at.is_(None)))
    if has_own is None:
        alert.key, alert.emerging_issue_id = Alert.emerging_key(group.id), group.id
    else:
        alert.cleared_at = utcnow()
    db.session.flush()


def _lock_undecided(group: EmergingIssue) -> bool:
    """Lock a group to absorb it; False when a concurrent job absorbed or decided it first.

    Two jobs may find the same group to absorb; the second waits for the first's lock
    (PostgreSQL) and then finds the row gone, instead of moving members that left.
    """
    locked = db.session.scalar(select(EmergingIssue.id).where(EmergingIssue.id == group.id)
                               .with_for_update())
    if locked is None:
        db.session.expunge(group)
        return False
    db.session.refresh(group)
    return group.is_undecided


def undecided_id(group: EmergingIssue | None) -> int | None:
    """The id of a report's group if people have not decided it yet: the group the alert
    test looks at after the report joined it."""
    return group.id if group is not None and group.is_undecided else None


def group_report(report_id: int) -> EmergingIssue | None:
    """Put a report in the group it is most like, or in a new one; returns its group.

    A report already in a group stays there; one without text gets none (None).
    Joins the caller's transaction when there is one, else commits its own.
    """
    if not in_write_transaction():
        with transaction():
            return group_report(report_id)
    report = db.session.get(Report, report_id)
    if report is None:
        raise NotFound("no such report")
    current = group_of(report_id)
    if current is not None:
        return db.session.get(EmergingIssue, current)
    if report.known_issue_id is not None:  # put in a known issue before it was grouped
        group = profile_row(report.known_issue)
        take([report], group)
        return group
    vector = report_vector(report)
    if not vector:
        return None
    candidates = _candidate_groups(vector, report)
    chosen = grouping.choose(vector, [_candidate(group) for group in candidates])
    group = next((g for g in candidates if chosen is not None and g.id == chosen.key), None)
    if group is None:
        # Dated to the hour, as an anonymous report is: the second would tell when it came.
        group = EmergingIssue(status=EmergingStatus.FORMING, profile={}, excluded={},
                              member_count=0, created_at=report.submitted_hour or utcnow())
        db.session.add(group)
        db.session.flush()
    else:
        # Concurrent joins of one group must not lose each other's sums.
        db.session.refresh(group, with_for_update=True)
    take([report], group, {report.id: vector})
    _absorb(group, [other for other in candidates if other is not group])
    if group.known_issue_id is not None and report.known_issue_id != group.known_issue_id:
        _join_known_issue(report, group.known_issue)
    return group


def _join_known_issue(report: Report, issue: KnownIssue) -> None:
    """The report joins the known issue its group is the profile of.

    A named report's move is audited as a coordinator's is, by the system; an
    anonymous one's is not, as an audit entry would date its submission to the
    second (the report keeps only the hour).
    """
    if report.is_anonymous:
        report.known_issue_id = issue.id
    else:
        move_reports([report], issue, None, automatic=True)


def group_reports(report_ids: Iterable[int],
                  progress: Callable[[int], None] | None = None) -> int:
    """Group these reports one by one in the order they arrived (hour, then id), a batch
    per transaction; returns how many have a group afterwards. For bulk loaders."""
    ids = _arrival_order(set(report_ids))
    grouped = 0
    for start in range(0, len(ids), BATCH):
        chunk = ids[start:start + BATCH]
        with transaction():
            grouped += sum(group_in_time(report_id) is not None for report_id in chunk)
        if progress is not None:
            progress(len(chunk))
    return grouped


def group_in_time(report_id: int) -> EmergingIssue | None:
    """Group a report after fading the groups that were stale by the hour it came in
    (for reports loaded after their time; a submission's job groups at once)."""
    hour = db.session.scalar(select(Report.submitted_hour).where(Report.id == report_id))
    if hour is not None:
        fade_stale(hour)
    return group_report(report_id)


def _arrival_order(report_ids: set[int]) -> list[int]:
    """The existing reports among these ids, by the hour they arrived, then by id."""
    ids = sorted(report_ids)
    arrivals: list[tuple[datetime, int]] = []
    for start in range(0, len(ids), MAX_REPORTS):
        arrivals += [(hour or datetime.min, report_id) for report_id, hour in db.session.execute(
            select(Report.id, Report.submitted_hour)
            .where(Report.id.in_(ids[start:start + MAX_REPORTS])))]
    return [report_id for _hour, report_id in sorted(arrivals)]


def ungrouped_report_ids() -> list[int]:
    """Reports with text in no group that no coordinator moved out of one, in arrival
    order: what `flask --app app grouping rebuild` groups."""
    query = (select(Report.id)
             .where(~select(EmergingIssueReport.report_id)
                    .where(EmergingIssueReport.report_id == Report.id).exists(),
                    ~select(GroupingExclusion.report_id)
                    .where(GroupingExclusion.report_id == Report.id).exists(),
                    Report.text_removed_on.is_(None))
             .order_by(Report.submitted_hour, Report.id))
    return list(db.session.scalars(query))


def fade_stale(now: datetime) -> int:
    """Undecided groups no report joined for `FADE_DAYS` fade and leave the index.

    Joins the caller's transaction when there is one; returns how many faded.
    """
    if not in_write_transaction():
        with transaction():
            return fade_stale(now)
    stale = (select(EmergingIssue.id)
             .where(EmergingIssue.status.in_(UNDECIDED_STATUSES),
                    EmergingIssue.last_report_at < now - timedelta(days=FADE_DAYS)))
    ids = list(db.session.scalars(stale))
    if not ids:
        return 0
    db.session.execute(delete(EmergingIssueTerm).where(
        EmergingIssueTerm.emerging_issue_id.in_(ids)))
    db.session.execute(update(EmergingIssue).where(EmergingIssue.id.in_(ids))
                       .values(status=EmergingStatus.FADED),
                       execution_options={"synchronize_session": False})
    return len(ids)


# Coordinators' decisions -------------------------------------------------------------------

def get_emerging_issue(issue_id: int) -> EmergingIssue:
    group = db.session.get(EmergingIssue, issue_id)
    if group is None:
        raise NotFound("no such emerging issue")
    return group


def emerging_issue_title(issue_id: int) -> str | None:
    return db.session.scalar(select(EmergingIssue.title).where(EmergingIssue.id == issue_id))


def _undecided(issue_id: int) -> EmergingIssue:
    group = get_emerging_issue(issue_id)
    if not group.is_undecided:
        raise AlreadyDecided("The emerging issue is decided already.")
    return group


def _decided(group: EmergingIssue, status: EmergingStatus, actor: User,
             known_issue: KnownIssue | None = None) -> None:
    group.status = status
    group.known_issue_id = known_issue.id if known_issue else None
    group.decided_at, group.decided_by_id = utcnow(), actor.id
    reindex(group)


def confirm(issue_id: int, title: str, actor: User) -> KnownIssue:
    """The emerging issue becomes a known issue, members and all; its row stays its profile."""
    title, _ = checked_text(title, None)
    with transaction():
        group = _undecided(issue_id)
        issue = KnownIssue(title=title, created_by_id=actor.id)
        db.session.add(issue)
        db.session.flush()
        record("known_issue.create", actor, "known_issue", issue.id, emerging_issue=issue_id)
        move_reports(members(group.id), issue, actor, emerging_issue=issue_id)
        _decided(group, EmergingStatus.CONFIRMED, actor, issue)
        record("emerging_issue.confirm", actor, "emerging_issue", issue_id,
               known_issue=issue.id, reports=group.member_count)
    return issue


def merge_into(issue_id: int, known_issue_id: int, actor: User) -> int:
    """The emerging issue's members join an open known issue (and its profile row).

    Returns how many reports changed known issue.
    """
    with transaction():
        group = _undecided(issue_id)
        issue = get_known_issue(known_issue_id)
        if not issue.is_open:
            raise IssueResolved("The known issue is resolved: reopen it first.")
        reports = members(group.id)
        moved = move_reports(reports, issue, actor, emerging_issue=issue_id)
        take(reports, profile_row(issue))
        _decided(group, EmergingStatus.MERGED, actor, issue)
        record("emerging_issue.merge", actor, "emerging_issue", issue_id,
               known_issue=issue.id, reports=len(reports))
    return moved


def _members_of(group: EmergingIssue, report_ids: Iterable[int]) -> list[Report]:
    ids = sorted(set(report_ids))
    if len(ids) > MAX_REPORTS:
        raise ServiceError(f"At most {MAX_REPORTS} reports at a time.")
    found = db.session.scalars(
        select(Report).join(EmergingIssueReport, EmergingIssueReport.report_id == Report.id)
        .where(EmergingIssueReport.emerging_issue_id == group.id, Report.id.in_(ids))).all()
    if not ids or len(found) != len(ids):
        raise ServiceError("Only reports of this emerging issue can be split off or moved out.")
    return list(found)


def split(issue_id: int, report_ids: Iterable[int], actor: User) -> EmergingIssue:
    """Some members form a new group; they and their like do not flow back."""
    with transaction():
        group = _undecided(issue_id)
        reports = _members_of(group, report_ids)
        if len(reports) == group.member_count:
            raise ServiceError("Leave at least one report in the emerging issue.")
        new = EmergingIssue(status=EmergingStatus.FORMING, profile={}, excluded={},
                            member_count=0)
        db.session.add(new)
        db.session.flush()
        vectors = {report.id: report_vector(report) for report in reports}
        for report in reports:
            db.session.add(GroupingExclusion(report_id=report.id, emerging_issue_id=group.id,
                                             created_by_id=actor.id))
            group.excluded = grouping.added(group.excluded or {}, vectors[report.id])
        take(reports, new, vectors)
        record("emerging_issue.split", actor, "emerging_issue", issue_id, into=new.id,
               reports=len(reports))
    return new


def dismiss(issue_id: int, actor: User) -> EmergingIssue:
    """Not one thing: the group leaves the list and the look-up; its reports stay in it."""
    with transaction():
        group = _undecided(issue_id)
        _decided(group, EmergingStatus.DISMISSED, actor)
        record("emerging_issue.dismiss", actor, "emerging_issue", issue_id,
               reports=group.member_count)
    return group


def move_out(issue_id: int, report_id: int, actor: User) -> EmergingIssue:
    """Take one member out; it and its lookalikes do not join this group again."""
    with transaction():
        group = _undecided(issue_id)
        (report,) = _members_of(group, [report_id])
        exclude(report, group, actor)
        record("emerging_issue.move_out", actor, "emerging_issue", issue_id, report=report_id)
    return group


# Lists and figures -------------------------------------------------------------------------

@dataclass(frozen=True)
class GroupFigures:
    """Where a group's members come from, and how fast it grows."""

    units: list[tuple[str, int]]
    areas: list[tuple[str, int]]
    #: Members that arrived in the last `GROWTH_HOURS` hours, per hour.
    growth: float


def _recent_members(now: datetime) -> Subquery:
    """Members per group that arrived in the last `GROWTH_HOURS` hours (a subquery)."""
    return (select(EmergingIssueReport.emerging_issue_id.label("group_id"),
                   func.count().label("recent"))
            .join(Report, Report.id == EmergingIssueReport.report_id)
            .where(Report.submitted_hour >= now - timedelta(hours=GROWTH_HOURS))
            .group_by(EmergingIssueReport.emerging_issue_id).subquery())


def open_page(page: int, per_page: int, now: datetime | None = None) -> Pagination:
    """Open groups (two reports or more), fastest growing first, then the largest, then the
    newest. A forming group (one report) is not yet a thing to decide on."""
    recent = _recent_members(now or utcnow())
    query = (select(EmergingIssue)
             .outerjoin(recent, recent.c.group_id == EmergingIssue.id)
             .where(EmergingIssue.status == EmergingStatus.OPEN)
             .order_by(func.coalesce(recent.c.recent, 0).desc(),
                       EmergingIssue.member_count.desc(),
                       EmergingIssue.last_report_at.desc(), EmergingIssue.id.desc()))
    return db.paginate(query, page=page, per_page=per_page, error_out=False, count=True)


def forming_count() -> int:
    """Reports alone in a group of their own so far (like no other recent report)."""
    return db.session.scalar(select(func.count()).select_from(EmergingIssue)
                             .where(EmergingIssue.status == EmergingStatus.FORMING))


def figures(group_ids: Iterable[int], now: datetime | None = None) -> dict[int, GroupFigures]:
    """Units, areas and growth per hour of each group (three grouped queries)."""
    ids = list(group_ids)
    units: dict[int, list[tuple[str, int]]] = {group_id: [] for group_id in ids}
    areas: dict[int, list[tuple[str, int]]] = {group_id: [] for group_id in ids}
    if not ids:
        return {}
    member = EmergingIssueReport.emerging_issue_id
    count = func.count()
    by_unit = (select(member, Unit.name, count)
               .join(Report, Report.id == EmergingIssueReport.report_id)
               .join(Unit, Unit.id == Report.unit_id).where(member.in_(ids))
               .group_by(member, Unit.name).order_by(member, count.desc(), Unit.name))
    for group_id, name, n in db.session.execute(by_unit):
        units[group_id].append((name, n))
    by_area = (select(member, Report.area, count)
               .join(Report, Report.id == EmergingIssueReport.report_id)
               .where(member.in_(ids))
               .group_by(member, Report.area).order_by(member, count.desc(), Report.area))
    for group_id, area, n in db.session.execute(by_area):
        areas[group_id].append((area, n))
    recent = _recent_members(now or utcnow())
    growth = dict(db.session.execute(select(recent.c.group_id, recent.c.recent)
                                     .where(recent.c.group_id.in_(ids))).all())
    return {group_id: GroupFigures(units[group_id], areas[group_id],
                                   growth.get(group_id, 0) / GROWTH_HOURS)
            for group_id in ids}


def member_page(issue_id: int, page: int, per_page: int) -> Pagination:
    """A group's members, newest first."""
    query = (select(Report).join(EmergingIssueReport, EmergingIssueReport.report_id == Report.id)
             .where(EmergingIssueReport.emerging_issue_id == issue_id)
             .order_by(Report.id.desc()))
    return db.paginate(query, page=page, per_page=per_page, error_out=False, count=True)
