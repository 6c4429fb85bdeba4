"""Group membership and term profiles, shared by automatic grouping and known issues.

A group (`EmergingIssue`) holds its members (`EmergingIssueReport`), the sum of
their grouping vectors (`profile`, ml.grouping) and an index of its heaviest
terms (`EmergingIssueTerm`) that new reports are looked up by. A known issue
keeps one such row (status confirmed) as its profile, created when first
needed (`profile_row`), so reports put in it by hand teach the grouping too.

Nothing here opens a transaction: the callers' service functions do. Vectors
are always worked out from a report's de-identified text, never the raw one.
"""

from collections.abc import Iterable, Sequence

from sqlalchemy import delete, func, insert, select

from ml import grouping
from ml.similarity import keyed, normalized
from models import (
    EmergingIssue,
    EmergingIssueReport,
    EmergingIssueTerm,
    EmergingStatus,
    GroupingExclusion,
    KnownIssue,
    Report,
    User,
    db,
)

#: Word terms and character n-grams of a group's profile put in the look-up index.
INDEX_WORDS = grouping.WORD_FEATURES
INDEX_CHARS = grouping.CHAR_FEATURES
#: Newest members a title is made from, and a profile recomputed from after removals.
TITLE_MEMBERS = 30
RECOMPUTE_MEMBERS = 300


def report_vector(report: Report) -> grouping.Vector:
    """A report's grouping vector, from its de-identified text ({} once the text is removed)."""
    if report.text_removed_on is not None or not report.text_deidentified:
        return {}
    return grouping.vectorize(report.text_deidentified, report.language)


def group_of(report_id: int) -> int | None:
    """The id of the group a report is in, if any."""
    return db.session.scalar(select(EmergingIssueReport.emerging_issue_id)
                             .where(EmergingIssueReport.report_id == report_id))


def members(group_id: int, limit: int | None = None) -> list[Report]:
    """A group's member reports, newest first (all, or the newest `limit`)."""
    query = (select(Report).join(EmergingIssueReport, EmergingIssueReport.report_id == Report.id)
             .where(EmergingIssueReport.emerging_issue_id == group_id)
             .order_by(EmergingIssueReport.report_id.desc()))  # ix_emerging_issue_report_issue
    return list(db.session.scalars(query.limit(limit) if limit else query))


def reindex(group: EmergingIssue) -> None:
    """Write the group's look-up entries from its profile (none for a decided-away group)."""
    db.session.execute(delete(EmergingIssueTerm)
                       .where(EmergingIssueTerm.emerging_issue_id == group.id))
    if group.status not in (EmergingStatus.FORMING, EmergingStatus.OPEN,
                            EmergingStatus.CONFIRMED):
        return
    words = grouping.truncated(group.profile, INDEX_WORDS, 0)
    chars = grouping.truncated(group.profile, 0, INDEX_CHARS)
    entries = [{"emerging_issue_id": group.id, "term_key": key, "weight": weight}
               for block in (words, chars) for key, weight in keyed(normalized(block)).items()]
    if entries:
        db.session.execute(insert(EmergingIssueTerm), entries)


def retitle(group: EmergingIssue) -> None:
    """An undecided group's title and language, from its newest members' de-identified text."""
    if not group.is_undecided:
        return
    texts = [report.text_deidentified for report in members(group.id, TITLE_MEMBERS)
             if report.text_removed_on is None]
    group.title = grouping.title(group.profile, texts)[:200]
    group.language = grouping.majority_language(texts)


def _refresh_status(group: EmergingIssue) -> None:
    """Forming with one member, open from two; an emptied undecided group fades."""
    if not group.is_undecided:
        return
    if group.member_count == 0:
        group.status = EmergingStatus.FADED
    else:
        group.status = EmergingStatus.OPEN if group.member_count >= 2 else EmergingStatus.FORMING


def recompute(group: EmergingIssue) -> None:
    """The profile, counts, hours, status, title and index of a group that lost members.

    The profile is summed again from the newest `RECOMPUTE_MEMBERS` members.
    """
    group.profile = grouping.summed(report_vector(report)
                                    for report in members(group.id, RECOMPUTE_MEMBERS))
    group.member_count, group.first_report_at, group.last_report_at = db.session.execute(
        select(func.count(), func.min(Report.submitted_hour), func.max(Report.submitted_hour))
        .select_from(EmergingIssueReport).join(Report, Report.id == EmergingIssueReport.report_id)
        .where(EmergingIssueReport.emerging_issue_id == group.id)).one()
    _refresh_status(group)
    retitle(group)
    reindex(group)


def take(reports: Sequence[Report], group: EmergingIssue,
         vectors: dict[int, grouping.Vector] | None = None) -> int:
    """Make the reports members of `group` (out of any other group); returns how many moved.

    The groups they leave are recomputed; `vectors` may hold reports'
    vectors already worked out.
    """
    current = dict(db.session.execute(
        select(EmergingIssueReport.report_id, EmergingIssueReport.emerging_issue_id)
        .where(EmergingIssueReport.report_id.in_([report.id for report in reports]))).all())
    moving = [report for report in reports if current.get(report.id) != group.id]
    left = {current[report.id] for report in moving if report.id in current}
    if left:
        db.session.execute(delete(EmergingIssueReport).where(
            EmergingIssueReport.report_id.in_([r.id for r in moving if r.id in current])))
    if not moving:
        return 0
    db.session.execute(insert(EmergingIssueReport), [
        {"report_id": report.id, "emerging_issue_id": group.id} for report in moving])
    profile = dict(group.profile or {})
    for report in moving:
        vector = (vectors or {}).get(report.id)
        profile = grouping.added(profile, report_vector(report) if vector is None else vector)
        if report.submitted_hour:
            group.first_report_at = min(filter(None, (group.first_report_at,
                                                      report.submitted_hour)))
            group.last_report_at = max(filter(None, (group.last_report_at,
                                                     report.submitted_hour)))
    group.profile = profile
    group.member_count = (group.member_count or 0) + len(moving)
    _refresh_status(group)
    retitle(group)
    reindex(group)
    for other in db.session.scalars(select(EmergingIssue).where(EmergingIssue.id.in_(left))):
        recompute(other)
    return len(moving)


def exclude(report: Report, group: EmergingIssue, actor: User | None) -> None:
    """Take a member out of its group for good: it and its lookalikes stay out."""
    db.session.execute(delete(EmergingIssueReport).where(
        EmergingIssueReport.report_id == report.id,
        EmergingIssueReport.emerging_issue_id == group.id))
    if db.session.get(GroupingExclusion, (report.id, group.id)) is None:
        db.session.add(GroupingExclusion(report_id=report.id, emerging_issue_id=group.id,
                                         created_by_id=actor.id if actor else None))
    group.excluded = grouping.added(group.excluded or {}, report_vector(report))
    recompute(group)


def profile_row(issue: KnownIssue) -> EmergingIssue:
    """A known issue's profile row; created when missing, holding its reports."""
    row = db.session.scalar(select(EmergingIssue).where(
        EmergingIssue.known_issue_id == issue.id,
        EmergingIssue.status == EmergingStatus.CONFIRMED))
    if row is not None:
        return row
    # Dated as its known issue: made while a report is filed, the time would date that report.
    row = EmergingIssue(status=EmergingStatus.CONFIRMED, known_issue_id=issue.id,
                        title=issue.title[:200], profile={}, excluded={}, member_count=0,
                        created_at=issue.created_at)
    db.session.add(row)
    db.session.flush()
    take(db.session.scalars(select(Report).where(Report.known_issue_id == issue.id)
                            .order_by(Report.id)).all(), row)
    return row


def follow(issue: KnownIssue, reports: Iterable[Report]) -> None:
    """Reports were put in a known issue by hand: they join its profile row."""
    reports = list(reports)
    if reports:
        take(reports, profile_row(issue))


def leave(issue: KnownIssue, report: Report, actor: User) -> None:
    """A report was taken out of a known issue by hand: out of its profile row for good."""
    row = db.session.scalar(select(EmergingIssue).where(
        EmergingIssue.known_issue_id == issue.id,
        EmergingIssue.status == EmergingStatus.CONFIRMED))
    if row is not None and group_of(report.id) == row.id:
        exclude(report, row, actor)


def move_profiles(source: KnownIssue, target: KnownIssue) -> None:
    """Before `source` is merged into `target` and removed: their rows point to `target`.

    `source`'s reports have joined `target` (`follow`); its emptied profile row
    and the groups once merged into it become rows merged into `target`.
    """
    for row in db.session.scalars(select(EmergingIssue).where(
            EmergingIssue.known_issue_id == source.id)):
        row.status = EmergingStatus.MERGED
        row.known_issue_id = target.id
        reindex(row)
