"""Known issues: reports about one fault, grouped, tracked and resolved together.

Every change to a report's known issue writes one audit entry for that report
("known_issue.attach" or "known_issue.detach", naming the issues, never the
text); a change to the known issue itself (create, edit, resolve, reopen,
merge) writes one for the known issue. When a known issue is resolved, its
resolution note reaches every reporter of its reports on their status page.

Coordinators post updates on an open known issue (a workaround, an expected fix
date) for its reporters, named and anonymous, to read with their report.

Suggestions compare term profiles (app.services.similarity): a known issue's
profile is the centroid of its `PROFILE_REPORTS` newest reports and its title
and description. Each process keeps the profiles it read for `PROFILE_TTL_S`
(see `profiles`): the report page and the reporter's form compare with every
open known issue, and reading their profiles each time cost most of the page.
"""

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from flask import current_app
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import delete, distinct, func, select, union_all

from app.services import NotFound, ServiceError
from app.services.audit import record
from app.services.issue_profiles import follow, leave, move_profiles
from app.services.report_queries import get_reports
from app.services.similarity import (
    KeyedVector,
    load_reports,
    nearest,
    plain_rows,
    report_vector,
    text_vector,
)
from ml.similarity import cosine, normalized
from models import (
    UPDATE_MAX,
    KnownIssue,
    KnownIssueStatus,
    KnownIssueUpdate,
    Report,
    ReportTerm,
    Unit,
    User,
    db,
    transaction,
    utcnow,
)
from models.report import reference_for
from trends.weeks import week_start

TITLE_MAX = 200
DESCRIPTION_MAX = 5000
NOTE_MAX = 5000
#: Newest reports of a known issue that make its term profile.
PROFILE_REPORTS = 30
#: Open known issues a new report is compared with (the newest ones).
SUGGESTION_POOL = 100
#: Seconds a process reuses a known issue's profile it read. A report that joined the
#: issue in another process (or by itself, through the grouping) shows in it after that.
PROFILE_TTL_S = 60
#: Below this cosine a known issue or a report is not proposed.
MIN_SUGGESTION = 0.25
#: Weeks in a known issue's sparkline, the current one last.
SPARKLINE_WEEKS = 12
#: Reports attached, detached or split off in one request, at most.
MAX_REPORTS = 1000
#: Known issues with news on a reporter's "my reports" page, and updates shown of each.
NEWS_ISSUES = 10
NEWS_UPDATES = 3


class IssueResolved(ServiceError):
    """The change needs an open known issue."""


@dataclass(frozen=True)
class IssueNews:
    """A known issue that holds some of a reporter's reports, and its newest updates."""

    issue: KnownIssue
    updates: list[KnownIssueUpdate]
    #: The reporter's reports in it: (id, reference), oldest first.
    reports: list[tuple[int, str]]


@dataclass
class IssueSummary:
    """A known issue's reports in figures, for lists and its page."""

    count: int = 0
    first_seen: date | None = None
    last_seen: date | None = None
    units: int = 0
    #: Reports per week, oldest first, the current week last.
    weekly: list[int] = field(default_factory=lambda: [0] * SPARKLINE_WEEKS)


def get_known_issue(issue_id: int) -> KnownIssue:
    issue = db.session.get(KnownIssue, issue_id)
    if issue is None:
        raise NotFound("no such known issue")
    return issue


def checked_text(title: str, description: str | None) -> tuple[str, str | None]:
    title = (title or "").strip()
    if not title or len(title) > TITLE_MAX:
        raise ServiceError(f"A title needs 1 to {TITLE_MAX} characters.")
    description = (description or "").strip() or None
    if description and len(description) > DESCRIPTION_MAX:
        raise ServiceError(f"A description has at most {DESCRIPTION_MAX} characters.")
    return title, description


def _reports(report_ids: Iterable[int]) -> list[Report]:
    """The reports with these ids, in id order; NotFound if any is missing."""
    ids = sorted(set(report_ids))
    if len(ids) > MAX_REPORTS:
        raise ServiceError(f"At most {MAX_REPORTS} reports at a time.")
    return get_reports(ids)


def move_reports(reports: Sequence[Report], issue: KnownIssue, actor: User | None,
                 **details) -> int:
    """Put reports in `issue`, one audit entry each; returns how many moved.

    The caller keeps the issue's grouping profile in step (issue_profiles.follow).
    """
    moved = 0
    for report in reports:
        if report.known_issue_id == issue.id:
            continue
        record("known_issue.attach", actor, "report", report.id, known_issue=issue.id,
               previous=report.known_issue_id, **details)
        forget_profiles([report.known_issue_id, issue.id])
        report.known_issue_id = issue.id
        moved += 1
    return moved


def create_known_issue(title: str, description: str | None, actor: User,
                       report_ids: Iterable[int] = ()) -> KnownIssue:
    """A new open known issue, holding the given reports (moved from any other issue)."""
    title, description = checked_text(title, description)
    with transaction():
        reports = _reports(report_ids)
        issue = KnownIssue(title=title, description=description, created_by_id=actor.id)
        db.session.add(issue)
        db.session.flush()
        record("known_issue.create", actor, "known_issue", issue.id)
        move_reports(reports, issue, actor)
        follow(issue, reports)
    return issue


def edit_known_issue(issue_id: int, title: str, description: str | None,
                     actor: User) -> KnownIssue:
    title, description = checked_text(title, description)
    with transaction():
        issue = get_known_issue(issue_id)
        issue.title, issue.description = title, description
        record("known_issue.edit", actor, "known_issue", issue_id)
    return issue


def _open_issue(issue_id: int) -> KnownIssue:
    issue = get_known_issue(issue_id)
    if not issue.is_open:
        raise IssueResolved("The known issue is resolved: reopen it first.")
    return issue


def attach_reports(issue_id: int, report_ids: list[int], actor: User) -> int:
    """Put reports in an open known issue; returns how many were not in it already."""
    with transaction():
        issue = _open_issue(issue_id)
        reports = _reports(report_ids)
        moved = move_reports(reports, issue, actor)
        follow(issue, reports)
        return moved


def detach_report(issue_id: int, report_id: int, actor: User) -> None:
    """Take a report out of its known issue."""
    with transaction():
        issue = get_known_issue(issue_id)
        report = db.session.get(Report, report_id)
        if report is None or report.known_issue_id != issue.id:
            raise NotFound("the report is not in this known issue")
        report.known_issue_id = None
        forget_profiles([issue_id])
        record("known_issue.detach", actor, "report", report_id, known_issue=issue_id)
        leave(issue, report, actor)


def merge(source_id: int, target_id: int, actor: User) -> int:
    """Move every report of `source` into the open known issue `target`, then drop `source`.

    Returns how many reports moved.
    """
    if source_id == target_id:
        raise ServiceError("A known issue cannot be merged into itself.")
    with transaction():
        source = get_known_issue(source_id)
        target = _open_issue(target_id)
        reports = db.session.scalars(select(Report).where(Report.known_issue_id == source_id)
                                     .order_by(Report.id)).all()
        moved = move_reports(reports, target, actor, merged=True)
        follow(target, reports)
        move_profiles(source, target)
        record("known_issue.merge", actor, "known_issue", source_id, into=target_id,
               reports=moved)
        # The moves are written first, and the row goes without the ORM's cascade, which
        # would read the source's reports as they were and take them out of the target.
        db.session.flush()
        db.session.execute(delete(KnownIssue).where(KnownIssue.id == source.id))
        db.session.expunge(source)
    return moved


def split(issue_id: int, report_ids: list[int], title: str, actor: User) -> KnownIssue:
    """Move some of a known issue's reports into a new known issue."""
    title, _ = checked_text(title, None)
    with transaction():
        source = get_known_issue(issue_id)
        reports = _reports(report_ids)
        if not reports:
            raise ServiceError("Choose the reports to split off.")
        if any(report.known_issue_id != source.id for report in reports):
            raise ServiceError("Only reports of this known issue can be split off.")
        issue = KnownIssue(title=title, description=source.description,
                           created_by_id=actor.id)
        db.session.add(issue)
        db.session.flush()
        record("known_issue.create", actor, "known_issue", issue.id, split_from=issue_id)
        move_reports(reports, issue, actor, split=True)
        follow(issue, reports)
    return issue


def resolve(issue_id: int, note: str, actor: User) -> KnownIssue:
    """Resolve a known issue; its note is shown to every reporter of its reports."""
    note = (note or "").strip()
    if not note or len(note) > NOTE_MAX:
        raise ServiceError(f"A resolution note needs 1 to {NOTE_MAX} characters.")
    with transaction():
        issue = _open_issue(issue_id)
        issue.resolve(note)
        record("known_issue.resolve", actor, "known_issue", issue_id)
    return issue


def reopen(issue_id: int, actor: User) -> KnownIssue:
    with transaction():
        issue = get_known_issue(issue_id)
        if issue.is_open:
            raise ServiceError("The known issue is open already.")
        issue.reopen()
        record("known_issue.reopen", actor, "known_issue", issue_id)
    return issue


def post_update(issue_id: int, body: str, actor: User) -> KnownIssueUpdate:
    """News on an open known issue for every reporter in it (audited, without the text).

    The same text sent again by the same coordinator (a double click, a form
    sent again by reloading the page) is stored once.
    """
    body = (body or "").strip()
    if not body or len(body) > UPDATE_MAX:
        raise ServiceError(f"An update needs 1 to {UPDATE_MAX} characters.")
    with transaction():
        issue = _open_issue(issue_id)
        last = db.session.scalar(select(KnownIssueUpdate).where(
            KnownIssueUpdate.known_issue_id == issue.id)
            .order_by(KnownIssueUpdate.id.desc()).limit(1))
        if last is not None and (last.author_id, last.body) == (actor.id, body):
            return last
        update = KnownIssueUpdate(known_issue_id=issue.id, body=body, author_id=actor.id)
        db.session.add(update)
        db.session.flush()
        record("known_issue.update", actor, "known_issue", issue_id, update_id=update.id)
    return update


def issue_updates(issue_id: int | None, limit: int | None = None) -> list[KnownIssueUpdate]:
    """A known issue's updates, newest first ([] for no issue)."""
    if issue_id is None:
        return []
    return list(db.session.scalars(
        select(KnownIssueUpdate).where(KnownIssueUpdate.known_issue_id == issue_id)
        .order_by(KnownIssueUpdate.id.desc()).limit(limit)))


def news_for_reporter(user: User) -> list[IssueNews]:
    """The known issues with updates that hold `user`'s named reports, latest news first."""
    own = (select(Report.id, Report.known_issue_id)
           .where(Report.reporter_id == user.id, Report.known_issue_id.is_not(None)))
    reports_by_issue: dict[int, list[int]] = {}
    for report_id, issue_id in db.session.execute(own):
        reports_by_issue.setdefault(issue_id, []).append(report_id)
    if not reports_by_issue:
        return []
    latest = func.max(KnownIssueUpdate.id)
    newest = db.session.scalars(
        select(KnownIssueUpdate.known_issue_id)
        .where(KnownIssueUpdate.known_issue_id.in_(list(reports_by_issue)))
        .group_by(KnownIssueUpdate.known_issue_id).order_by(latest.desc())
        .limit(NEWS_ISSUES)).all()
    return [IssueNews(get_known_issue(issue_id), issue_updates(issue_id, NEWS_UPDATES),
                      [(i, reference_for(i)) for i in sorted(reports_by_issue[issue_id])])
            for issue_id in newest]


# Lists and figures -------------------------------------------------------------------------

def issue_page(status: str | None, page: int, per_page: int) -> Pagination:
    """Known issues, newest first; `status` "open" or "resolved" (None: both)."""
    query = select(KnownIssue).order_by(KnownIssue.id.desc())
    if status:
        query = query.where(KnownIssue.status == status)
    return db.paginate(query, page=page, per_page=per_page, error_out=False, count=True)


def summaries(issue_ids: Iterable[int], today: date | None = None) -> dict[int, IssueSummary]:
    """Count, first and last seen, units and weekly counts of each known issue.

    Two grouped queries over ix_report_known_issue_seen, whatever the number of
    issues; weeks start on Monday (ISO), the current week last.
    """
    ids = list(issue_ids)
    result = {issue_id: IssueSummary() for issue_id in ids}
    if not ids:
        return result
    totals = select(Report.known_issue_id, func.count(), func.min(Report.submitted_on),
                    func.max(Report.submitted_on), func.count(distinct(Report.unit_id))
                    ).where(Report.known_issue_id.in_(ids)).group_by(Report.known_issue_id)
    for issue_id, count, first, last, units in db.session.execute(totals):
        result[issue_id] = IssueSummary(count, first, last, units)
    start = week_start(today or utcnow().date()) - timedelta(weeks=SPARKLINE_WEEKS - 1)
    days = select(Report.known_issue_id, Report.submitted_on, func.count()).where(
        Report.known_issue_id.in_(ids), Report.submitted_on >= start
    ).group_by(Report.known_issue_id, Report.submitted_on)
    for issue_id, day, count in db.session.execute(days):
        week = (day - start).days // 7
        if week < SPARKLINE_WEEKS:
            result[issue_id].weekly[week] += count
    return result


def issue_reports(issue_id: int, page: int, per_page: int) -> Pagination:
    """A known issue's reports, newest first."""
    query = (select(Report).where(Report.known_issue_id == issue_id)
             .order_by(Report.submitted_on.desc(), Report.id.desc()))
    return db.paginate(query, page=page, per_page=per_page, error_out=False, count=True)


def issue_units(issue_id: int) -> list[tuple[str, int]]:
    """The units a known issue's reports come from, with their counts, most first."""
    count = func.count(Report.id)
    query = (select(Unit.name, count).join(Report, Report.unit_id == Unit.id)
             .where(Report.known_issue_id == issue_id)
             .group_by(Unit.id, Unit.name).order_by(count.desc(), Unit.name))
    return [(name, n) for name, n in db.session.execute(query)]


def other_open_issues(issue_id: int | None = None) -> list[KnownIssue]:
    """Open known issues (but `issue_id`), newest first: targets for a merge or an attach."""
    query = select(KnownIssue).where(KnownIssue.status == KnownIssueStatus.OPEN)
    if issue_id is not None:
        query = query.where(KnownIssue.id != issue_id)
    return list(db.session.scalars(query.order_by(KnownIssue.id.desc())
                                   .limit(SUGGESTION_POOL)))


# Suggestions -------------------------------------------------------------------------------

@dataclass(frozen=True)
class _KeptProfile:
    read_at: float
    #: The title and description it was made with: an edit makes it stale at once.
    words: str
    vector: KeyedVector


def _kept_profiles() -> dict[int, _KeptProfile]:
    """This app's profiles by known issue id (one app per process in production)."""
    return current_app.extensions.setdefault("vaka.issue_profiles", {})


def _words(issue: KnownIssue) -> str:
    return f"{issue.title}\n{issue.description or ''}"


def forget_profiles(issue_ids: Iterable[int | None]) -> None:
    """Read these known issues' profiles anew next time (their reports changed here)."""
    kept = _kept_profiles()
    for issue_id in issue_ids:
        kept.pop(issue_id, None)


def profiles(issues: Sequence[KnownIssue]) -> dict[int, KeyedVector]:
    """Each known issue's term profile: its newest reports' terms and its own words.

    A profile read less than `PROFILE_TTL_S` ago with the same title and description
    is reused; the others are read in one statement (`_read_profiles`).
    """
    kept, now = _kept_profiles(), time.monotonic()
    found: dict[int, KeyedVector] = {}
    stale = []
    for issue in issues:
        entry = kept.get(issue.id)
        if entry and entry.words == _words(issue) and now - entry.read_at < PROFILE_TTL_S:
            found[issue.id] = entry.vector
        else:
            stale.append(issue)
    read = _read_profiles(stale)
    for issue in stale:
        kept[issue.id] = _KeptProfile(now, _words(issue), read[issue.id])
    return found | read


def _read_profiles(issues: Sequence[KnownIssue]) -> dict[int, KeyedVector]:
    """The profiles of `issues` from the database.

    The reports' weights are summed in the database (one statement, an index
    range scan with a LIMIT per issue), so few rows come back.
    """
    if not issues:
        return {}
    newest = union_all(*(select(Report.known_issue_id, Report.id).where(
        Report.known_issue_id == issue.id).order_by(Report.submitted_on.desc(),
                                                     Report.id.desc())
        .limit(PROFILE_REPORTS).subquery().select() for issue in issues)).subquery()
    sums = (select(newest.c.known_issue_id, ReportTerm.term_key, func.sum(ReportTerm.weight))
            .join(ReportTerm, ReportTerm.report_id == newest.c.id)
            .group_by(newest.c.known_issue_id, ReportTerm.term_key))
    totals: dict[int, KeyedVector] = {issue.id: {} for issue in issues}
    for issue_id, key, weight in plain_rows(sums):
        totals[issue_id][key] = weight
    profiles: dict[int, KeyedVector] = {}
    for issue in issues:
        # Its title and description count as one more report.
        profile = totals[issue.id]
        for key, weight in text_vector(_words(issue)).items():
            profile[key] = profile.get(key, 0.0) + weight
        profiles[issue.id] = normalized(profile)
    return profiles


def suggest_known_issues(report_id: int, limit: int = 3) -> list[tuple[KnownIssue, float]]:
    """Open known issues this report looks like (cosine to their profile), best first.

    The report's own known issue is left out.
    """
    report = db.session.get(Report, report_id)
    if report is None:
        return []
    return _best_open_issues(report_vector(report), limit, leave_out=report.known_issue_id)


def matching_known_issues(text: str, limit: int = 3) -> list[KnownIssue]:
    """Open known issues that a text being typed looks like, best first.

    For the report form: what it shows of them is the title and status, which
    coordinators wrote, never a report's text. The work is that of one
    suggestion: the newest `SUGGESTION_POOL` open known issues.
    """
    return [issue for issue, _score in _best_open_issues(text_vector(text), limit)]


def _best_open_issues(vector: KeyedVector, limit: int,
                      leave_out: int | None = None) -> list[tuple[KnownIssue, float]]:
    """The open known issues (but `leave_out`) whose profile's cosine to `vector` reaches
    `MIN_SUGGESTION`, best first."""
    if not vector:
        return []
    issues = other_open_issues(leave_out)
    issue_profiles = profiles(issues)
    scored = [(issue, cosine(vector, issue_profiles[issue.id])) for issue in issues]
    scored = [(issue, score) for issue, score in scored if score >= MIN_SUGGESTION]
    return sorted(scored, key=lambda item: (-item[1], -item[0].id))[:limit]


def open_known_issue_id(issue_id: int | None) -> int | None:
    """`issue_id` if it names an open known issue, else None (a reporter's choice on the
    form that was tampered with, or whose issue was resolved or merged meanwhile)."""
    if issue_id is None:
        return None
    return db.session.scalar(select(KnownIssue.id).where(
        KnownIssue.id == issue_id, KnownIssue.status == KnownIssueStatus.OPEN))


def proposed_reports(issue_id: int, limit: int = 10) -> list[tuple[Report, float]]:
    """Reports in no known issue that look like this one, best first."""
    issue = get_known_issue(issue_id)
    profile = profiles([issue])[issue.id]
    return load_reports(nearest(profile, limit=limit, min_similarity=MIN_SUGGESTION,
                                unattached_only=True))
