"""Stored alerts: raised by the evaluation, followed by the coordination group.

`evaluate_alerts(as_of)` is what the schedule runs (``flask --app app alerts
check``): as of that moment (reports submitted after it do not count) it

1. clears the alerts whose condition no longer holds: an emerging issue that was
   decided, faded or dismissed (one confirmed or merged into a known issue leaves
   its alert *linked* to that known issue), a spike that passed;
2. raises an *emerging* alert for each undecided group whose members burst
   (trends/bursts.py), its baseline the reports like its profile in the 28 days
   before its first report, found through the similarity index;
   groups that are not local (their burst from many units at once, as a go-live's
   flood, or from as few as chance would give, and not about patient safety) fold into
   one theme alert instead (`_fold_broad_groups`, `_is_local`);
3. raises a *spike* alert for each series spike as the overview computes it, or,
   while a storm of them in one dimension lasts, one broad rise for them all;
4. enqueues the e-mail to the opted-in coordinators about the new alerts, and about
   earlier ones whose e-mail failed (app/services/notifications.py), after the commit.

An alert's `key` names what it is about; while an alert with that key is not
cleared no second one is raised (the partial unique index uq_alert_uncleared_key
holds even against a concurrent evaluation). `check_emerging_issue` is the cheap
test of one group that a report's background job runs after the report joined it.

Every query is bounded by the recent window or by the groups and alerts it
concerns: the groups are read through ix_emerging_issue_status_last (only those
with a member in the window), their members through ix_emerging_issue_report_issue,
and the baseline through the similarity index's postings within an id range. The
range is found through ix_report_submitted_hour and assumes ids grow with the
hour of arrival (reports are stored, and imported, in time order).
"""

import logging
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import Select, func, or_, select
from sqlalchemy.exc import IntegrityError

from app.forms import AREA_NAMES, CATEGORY_NAMES
from app.services import NotFound, ServiceError
from app.services.alert_text import PERIOD_NAMES, install_language
from app.services.audit import record
from app.services.notifications import notify_later
from app.services.overview import Alert as SeriesTest
from app.services.overview import spike_tests, unit_names
from app.services.report_queries import ReportFilters, filtered_reports
from app.services.similarity import KeyedVector, nearest
from ml.similarity import term_key
from models import (
    CATEGORIES,
    OPEN_ALERT_STATES,
    UNDECIDED_STATUSES,
    Alert,
    AlertKind,
    AlertState,
    EmergingIssue,
    EmergingIssueReport,
    KnownIssue,
    KnownIssueStatus,
    Report,
    User,
    db,
    transaction,
    utcnow,
)
from trends.bursts import (
    Arrival,
    BurstRule,
    BurstTest,
    Storm,
    burst_test,
    collapse_storms,
    effective_units,
    few_units_by_chance,
    one_broad_rise,
)

log = logging.getLogger(__name__)

RULE = BurstRule()
#: Below this cosine with a group's profile a report is not "like it" for the baseline.
#: Hurried reports of an everyday theme (typos, no å/ä/ö, other words) reach a group's
#: word profile at 0.2 to 0.3 as often as above it; at 0.3 the baseline missed them and
#: the themes of quiet weeks "burst" (bench/golive.py, 35 quiet days, seeds 1 and 2:
#: false alarms per 30 days 2.57 and 1.71 at 0.3, 0.86 and 0 at 0.2, faults unchanged).
BASELINE_SIMILARITY = 0.2
#: Like reports counted for a baseline, at most (the look-up's bound; see trends/bursts.py).
BASELINE_LIMIT = 300
#: Report ids kept in an alert's evidence, at most.
REPORT_IDS_MAX = 1000
#: Open alerts of broad groups that fold into the one theme alert (`_fold_broad_groups`).
THEME_GROUPS = 2
#: A group is broad when it takes this many units or more to hold `BROAD_SHARE` of its
#: reports (a fault is reported by two or three units); a group whose alert was raised
#: local folds later only once they hold less than `SPREAD_SHARE` (`_fold_broad_groups`).
BROAD_UNITS = 4
BROAD_SHARE = 0.8
SPREAD_SHARE = 0.7
#: A group of fewer reports than `CHANCE_REPORTS` that so few units hold is local only if
#: that would happen by chance less often than `CHANCE_LEVEL` among the units reporting
#: now (`trends.bursts.few_units_by_chance`; see `_is_local`).
CHANCE_REPORTS = 10
CHANCE_LEVEL = 0.1
#: A group that few units hold is local however chance could give them once this many
#: of the reports that made it burst are in category safety (see `_is_local`).
SAFETY_REPORTS = 2
#: The key of the theme alert (see `_fold_broad_groups`); one is open at a time.
THEME_KEY = "theme:broad"
#: A spike whose rise is this much made of reports in alerted emerging issues raises no
#: alert of its own (`_explained`).
EXPLAINED_SHARE = 0.5
#: Alerts listed on the alerts page.
ALERTS_SHOWN = 200
#: How a spike alert's title names its series, its dimension and its period.
SERIES_NAMES = {"unit": _l("unit %(name)s"), "area": _l("affected area %(name)s"),
                "category": _l("category %(name)s")}
DIMENSION_NAMES = {"unit": _l("units"), "area": _l("affected areas"),
                   "category": _l("categories")}


def spike_key(dimension: str, value: str, period: str) -> str:
    return f"spike:{dimension}:{value}:{period}"


#: The key of the broad rise (`one_broad_rise`): one at a time, whichever series lead it.
RISE_KEY = "spike:*"


@dataclass(frozen=True)
class Candidate:
    """A group tested, with its members in the window."""

    issue: EmergingIssue
    arrivals: list[Arrival]


def evaluate_alerts(as_of: datetime, notify: bool = True) -> list[Alert]:
    """Clear, raise and store the alerts as of `as_of`; the alerts newly raised.

    With `notify`, the e-mail to the opted-in coordinators is enqueued after the commit.
    """
    with transaction():
        _clear_emerging(as_of)
        raised = _raise_emerging(as_of)
        raised += _evaluate_spikes(as_of)
    if notify:
        notify_later()
    return raised


def check_emerging_issue(issue_id: int, now: datetime, notify: bool = True) -> Alert | None:
    """The cheap test of one group after a report joined it: its alert, if it is raised now.

    The test only reads, outside a write transaction (on SQLite a writer holds up every
    submission); a group that bursts is tested again in the one that stores its alert.
    """
    if not _bursting(now, _open_theme(), only=issue_id):
        return None
    with transaction():
        raised = _raise_emerging(now, only=issue_id)
    if raised and notify:
        notify_later()
    return raised[0] if raised else None


# --- emerging issues -------------------------------------------------------------------


def _clear_emerging(as_of: datetime) -> None:
    """Clear the emerging alerts whose group is no longer undecided (or is gone), and the
    theme alerts none of whose groups is."""
    stale = db.session.execute(
        select(Alert, EmergingIssue)
        .outerjoin(EmergingIssue, EmergingIssue.id == Alert.emerging_issue_id)
        .where(Alert.kind == AlertKind.EMERGING, Alert.cleared_at.is_(None),
               Alert.key != THEME_KEY,
               or_(EmergingIssue.id.is_(None),
                   EmergingIssue.status.not_in(sorted(UNDECIDED_STATUSES))))).all()
    theme = _open_theme()
    if theme is not None and not db.session.scalar(
            select(func.count()).select_from(EmergingIssue).where(
                EmergingIssue.id.in_(theme.evidence["groups"]),
                EmergingIssue.status.in_(sorted(UNDECIDED_STATUSES)))):
        theme.cleared_at = as_of
    for alert, issue in stale:
        alert.cleared_at = as_of
        decided_into = issue.known_issue_id if issue is not None else None
        if decided_into is not None and alert.state != AlertState.DISMISSED:
            alert.state, alert.known_issue_id = AlertState.LINKED, decided_into
            alert.state_changed_at = as_of


def _raise_emerging(as_of: datetime, only: int | None = None) -> list[Alert]:
    theme = _open_theme()
    raised = []
    for issue, test, local in _bursting(as_of, theme, only):
        if theme is not None and not local:
            _join_theme(theme, [issue.id])
            continue
        alert = _store(_emerging_alert(issue, test, as_of, broad=not local))
        if alert is not None:
            raised.append(alert)
            if theme is not None:
                _leave_theme(theme, issue.id)
    # Only a new alert can complete a theme; the per-submission check (`only`) skips the
    # fold otherwise, as it would re-read every open alert's members on each report.
    folded = _fold_broad_groups(as_of) if raised or only is None else []
    return [alert for alert in raised if alert.cleared_at is None] + folded


def _bursting(as_of: datetime, theme: Alert | None,
              only: int | None = None) -> list[tuple[EmergingIssue, BurstTest, bool]]:
    """The undecided groups (or group `only`) that burst as of `as_of` and have no alert
    yet, each with its test and whether it is local (`_is_local`). A group in the open
    `theme` is tested again only once it has become local: a fault whose first few
    reports looked spread stands out later."""
    if only is not None and _uncleared_keys([Alert.emerging_key(only)]):
        # The group has its alert: no test to make, and reading its members would cost a
        # growing group's every report (thousands in a burst) on each new one.
        return []
    themed = set(theme.evidence["groups"]) if theme is not None else set()
    candidates = _candidates(as_of, only)
    alerted = _uncleared_keys(Alert.emerging_key(c.issue.id) for c in candidates)
    tests = _groups_tested(as_of, candidates, only)
    bursting = []
    for candidate in candidates:
        issue = candidate.issue
        if Alert.emerging_key(issue.id) in alerted:
            continue
        local = _is_local(issue.id, as_of) if issue.id in themed else None
        if local is False:
            continue
        test = burst_test(candidate.arrivals, baseline_count(issue, as_of), as_of,
                          tests=tests, rule=RULE)
        if test.alert:
            bursting.append((issue, test, local or _is_local(issue.id, as_of)))
    return bursting


# --- the theme: many broad emerging issues at once -----------------------------------------


def _open_theme() -> Alert | None:
    return db.session.scalar(select(Alert).where(Alert.key == THEME_KEY,
                                                 Alert.cleared_at.is_(None)))


def _is_local(issue_id: int, as_of: datetime) -> bool:
    """Whether the reports that made a group burst (those in the window ending at
    `as_of`) come from a few units (a fault's from two or three): not broad
    (`_is_broad`), and, while they are few, either so few units that the units reporting
    now would seldom give so few, or `SAFETY_REPORTS` of them about patient safety.
    Its earlier members do not count: a fault whose group began among a theme's
    everyday reports from many units is still local.

    Per-report alert tests judge a flood's groups at their fourth report, when three of
    twenty units is what chance gives (bench/golive.py, seed 1: seven such groups of the
    flood alerted one by one as "local", ten alerts open at once). A fault in three units
    that grows slowly looks the same for hours (seed 3's doubled doses: four reports in
    8.5 hours, in the theme until 17.8 hours); a go-live's flood is about slowness, logins
    and training, so a group whose reports put patients at risk is not left in it on
    chance alone.
    """
    per_unit = _reports_per_unit(issue_id, as_of)
    if _is_broad(per_unit):
        return False
    reports = sum(per_unit)
    if reports >= CHANCE_REPORTS:
        return True
    if few_units_by_chance(reports, len(per_unit), _units_reporting(as_of)) < CHANCE_LEVEL:
        return True
    return _safety_reports(issue_id, as_of) >= SAFETY_REPORTS


def _reports_per_unit(issue_id: int, as_of: datetime) -> list[int]:
    """How many of a group's reports each unit sent in the window ending at `as_of`, the
    largest first."""
    return sorted(db.session.scalars(
        _members_in_window(issue_id, as_of).group_by(Report.unit_id)), reverse=True)


def _safety_reports(issue_id: int, as_of: datetime) -> int:
    """How many of a group's reports in the window ending at `as_of` are in category safety."""
    return db.session.scalar(_members_in_window(issue_id, as_of)
                             .where(Report.is_safety.is_(True)))


def _members_in_window(issue_id: int, as_of: datetime) -> Select:
    """The count of a group's reports in the window ending at `as_of`, to narrow or group."""
    return (select(func.count()).select_from(EmergingIssueReport)
            .join(Report, Report.id == EmergingIssueReport.report_id)
            .where(EmergingIssueReport.emerging_issue_id == issue_id,
                   Report.submitted_hour > _window_start(as_of),
                   Report.submitted_hour <= as_of))


def _is_broad(per_unit: list[int], share: float = BROAD_SHARE) -> bool:
    """Whether it takes `BROAD_UNITS` units or more to hold `share` of a group's reports
    (counts per unit, the largest first; a fault's come from two or three).

    Counting every unit that sent one would make a fault broad through a few strays: a
    group of 43 reports about the pneumatic tube post from two units had also taken three
    everyday reports from three others about lab results (bench/golive.py, seed 3), and
    folded into the flood's theme alert, its own never raised.
    """
    held = sum(per_unit[:BROAD_UNITS - 1])
    return held < share * sum(per_unit)


def _units_reporting(as_of: datetime) -> float:
    """The effective number of units that sent reports in the window ending at `as_of`."""
    return effective_units(db.session.scalars(
        select(func.count()).select_from(Report)
        .where(Report.submitted_hour > _window_start(as_of), Report.submitted_hour <= as_of)
        .group_by(Report.unit_id)))


def _window_start(as_of: datetime) -> datetime:
    return as_of - timedelta(hours=RULE.window_hours)


def _join_theme(theme: Alert, groups: Iterable[int]) -> None:
    theme.evidence = {**theme.evidence, "groups": sorted({*theme.evidence["groups"], *groups})}


def _leave_theme(theme: Alert, group: int) -> None:
    """A group that now has its own alert is no longer one of the theme's."""
    if group in theme.evidence["groups"]:
        theme.evidence = {**theme.evidence,
                          "groups": [g for g in theme.evidence["groups"] if g != group]}


def _fold_broad_groups(as_of: datetime) -> list[Alert]:
    """Fold the open alerts of broad groups into the one theme alert, raised once there
    are `THEME_GROUPS` of them (a broad group raised while it is open joins it: see
    `_raise_emerging`); the theme alert, if it is new.

    A go-live floods every unit with reports about slowness, logins and training,
    which form many small, pure groups (a missing template, too few superusers...):
    each is real, but together they are one fact, and an alert each would bury the
    fault that two or three units report. Only groups that are not local fold
    (`_has_spread`, `_is_local`): a fault stays local, and keeps its own alert even when it
    shares its category or area with the flood (wristband labels and printers); a group
    in the theme that becomes local gets its own alert (`_bursting`), and one whose alert
    was raised as not local stays apart once it has become so. A group whose alert was
    raised local folds only once it has spread well beyond three units (`SPREAD_SHARE`):
    flood groups often start in two or three units, while a fault's group takes in a few
    strays from other units.
    On bench/golive.py (seed 3), at 80% for both a fault's group that had alerted on its
    own folded when its third stray came in; keeping an alert's first judgement for good
    left flood groups that had started local apart (up to 9 alerts open in a flood, 6 at
    70%). One theme per category left the flood as three alerts, and a slow-screens group
    whose reports the model put in no category stood apart as the only "other" one (6 to 8
    alerts open at once).
    """
    broad = [alert for alert in db.session.scalars(select(Alert).where(
                 Alert.kind == AlertKind.EMERGING, Alert.cleared_at.is_(None),
                 Alert.emerging_issue_id.is_not(None)))
             if _has_spread(alert, as_of)]
    theme = _open_theme()
    if not broad or (theme is None and len(broad) < THEME_GROUPS):
        return []
    for alert in broad:
        alert.cleared_at = as_of
    groups = [alert.emerging_issue_id for alert in broad]
    if theme is not None:
        _join_theme(theme, groups)
        return []
    theme = _store(_theme_alert(sorted(groups), as_of))
    return [theme] if theme is not None else []


def _has_spread(alert: Alert, as_of: datetime) -> bool:
    """Whether an open alert's group belongs in the theme now: one raised local once its
    reports in the window have spread well beyond three units, one raised as not local
    unless it has become so."""
    if alert.evidence.get("broad"):
        return not _is_local(alert.emerging_issue_id, as_of)
    return _is_broad(_reports_per_unit(alert.emerging_issue_id, as_of), SPREAD_SHARE)


def _theme_alert(groups: list[int], as_of: datetime) -> Alert:
    members = select(EmergingIssueReport.report_id).where(
        EmergingIssueReport.emerging_issue_id.in_(groups))
    described = _reports_described(select(Report.id).where(Report.id.in_(members),
                                                           Report.submitted_hour <= as_of))
    with install_language():
        names = ", ".join(str(CATEGORY_NAMES.get(c, c)) for c in _commonest_categories(groups))
        title = _("Many emerging issues at once, across units: %(categories)s",
                  categories=names or _("Other"))
    return Alert(kind=AlertKind.EMERGING, key=THEME_KEY, title=title, raised_at=as_of,
                 evidence={"groups": groups, **described})


def _commonest_categories(groups: list[int]) -> list[str]:
    """The categories of the groups' reports, the commonest first."""
    rows = db.session.execute(
        select(*(getattr(Report, f"is_{c}") for c in CATEGORIES))
        .join(EmergingIssueReport, EmergingIssueReport.report_id == Report.id)
        .where(EmergingIssueReport.emerging_issue_id.in_(groups))).all()
    counts = Counter(c for row in rows for c, flag in zip(CATEGORIES, row, strict=True) if flag)
    return [category for category, _count in counts.most_common()]


def _recent_groups(as_of: datetime) -> Select:
    """Undecided groups big enough to alert with a member in the window ending at `as_of`."""
    return select(EmergingIssue).where(
        EmergingIssue.status.in_(sorted(UNDECIDED_STATUSES)),
        EmergingIssue.last_report_at > _window_start(as_of),
        EmergingIssue.first_report_at <= as_of,
        EmergingIssue.member_count >= RULE.min_reports)


def _candidates(as_of: datetime, only: int | None) -> list[Candidate]:
    """The recent groups (or group `only`) with enough members from more than one source
    in the window: the tests made."""
    query = _recent_groups(as_of)
    if only is not None:
        query = query.where(EmergingIssue.id == only)
    issues = {issue.id: issue for issue in db.session.scalars(query)}
    arrivals = _arrivals(issues, as_of)
    return [Candidate(issues[issue_id], found) for issue_id, found in arrivals.items()
            if _enough(found)]


def _arrivals(issue_ids: Iterable[int], as_of: datetime) -> dict[int, list[Arrival]]:
    """Each group's members that arrived in the window ending at `as_of`.

    Counted by the database per hour, unit and reporter: a group that grows in a burst
    has thousands of members but a few such rows, and this runs on every report.
    """
    ids = sorted(issue_ids)
    found: defaultdict[int, list[Arrival]] = defaultdict(list)
    if not ids:
        return found
    sources = (EmergingIssueReport.emerging_issue_id, Report.submitted_hour, Report.unit_id,
               Report.reporter_id)
    rows = db.session.execute(
        select(*sources, func.count())
        .join(Report, Report.id == EmergingIssueReport.report_id)
        .where(EmergingIssueReport.emerging_issue_id.in_(ids),
               Report.submitted_hour > _window_start(as_of), Report.submitted_hour <= as_of)
        .group_by(*sources))
    for issue_id, hour, unit_id, reporter_id, count in rows:
        found[issue_id] += [Arrival(hour, unit_id, reporter_id)] * count
    return found


def _enough(arrivals: Sequence[Arrival]) -> bool:
    """Whether the members in the window could alert at all (count and sources)."""
    sources = ({a.unit for a in arrivals}, {a.reporter for a in arrivals} - {None})
    return len(arrivals) >= RULE.min_reports and any(len(s) > 1 for s in sources)


def _groups_tested(as_of: datetime, candidates: list[Candidate], only: int | None) -> int:
    """m for Bonferroni: the groups that could alert now (counted when one group is checked)."""
    if only is None:
        return len(candidates)
    count = db.session.scalar(select(func.count()).select_from(_recent_groups(as_of).subquery()))
    return max(count, 1)


def profile_vector(profile: dict[str, float]) -> KeyedVector:
    """A group's profile as a vector of the similarity index (word terms only)."""
    return {term_key(term): weight for term, weight in profile.items()
            if not term.startswith("#")}


def baseline_count(issue: EmergingIssue, as_of: datetime) -> int:
    """Reports like the group in the baseline span before the window ending at `as_of`.

    They are the group's own members in that span and, for the part of it before
    the group's first report, the reports like its profile (through the similarity
    index). So a theme that has been reported all along (printers) is measured
    against its own rate, and a group that began in the window against its kind's.
    """
    window_start = _window_start(as_of)
    span_start = window_start - timedelta(hours=RULE.baseline_hours)
    own = db.session.scalar(
        select(func.count()).select_from(EmergingIssueReport)
        .join(Report, Report.id == EmergingIssueReport.report_id)
        .where(EmergingIssueReport.emerging_issue_id == issue.id,
               Report.submitted_hour > span_start, Report.submitted_hour <= window_start))
    before = min(issue.first_report_at, window_start)
    vector = profile_vector(issue.profile or {})
    ids = _id_range(span_start, before) if before > span_start else None
    if not vector or ids is None:
        return own
    return own + len(nearest(vector, limit=BASELINE_LIMIT, min_similarity=BASELINE_SIMILARITY,
                             ids=ids))


def _id_range(start: datetime, end: datetime) -> tuple[int, int] | None:
    """The ids (first, end) of the reports that arrived from `start` up to `end` (exclusive)."""
    first = _first_id_from(start)
    if first is None:
        return None
    last = _first_id_from(end)
    return (first, last) if last is None or last > first else None


def _first_id_from(moment: datetime) -> int | None:
    """The id of the first report that arrived in or after `moment`'s hour."""
    hour = db.session.scalar(select(func.min(Report.submitted_hour))
                             .where(Report.submitted_hour >= Report.hour_of(moment)))
    if hour is None:
        return None
    return db.session.scalar(select(func.min(Report.id)).where(Report.submitted_hour == hour))


def _emerging_alert(issue: EmergingIssue, test: BurstTest, as_of: datetime,
                    broad: bool) -> Alert:
    members = (select(Report.id).join(EmergingIssueReport,
                                      EmergingIssueReport.report_id == Report.id)
               .where(EmergingIssueReport.emerging_issue_id == issue.id,
                      Report.submitted_hour <= as_of))
    evidence = {
        "observed": test.observed, "window_hours": RULE.window_hours,
        "reporters": test.reporters, "baseline": test.baseline,
        "baseline_hours": RULE.baseline_hours, "expected": round(test.expected, 3),
        "ratio": None if test.ratio is None else round(test.ratio, 2),
        "p_value": test.p_value, "threshold": test.threshold,
        "new_topic": test.is_new_topic, "broad": broad,
        "first_report_at": issue.first_report_at.isoformat(),
        **_reports_described(members),
    }
    with install_language():
        title = issue.title or _("Emerging issue %(id)d", id=issue.id)
    return Alert(kind=AlertKind.EMERGING, key=Alert.emerging_key(issue.id), title=title,
                 raised_at=as_of, evidence=evidence, emerging_issue_id=issue.id)


# --- series spikes ---------------------------------------------------------------------


def series_alerts(tests: Sequence[SeriesTest]) -> tuple[list[SeriesTest], list[Storm]]:
    """The spikes among `tests` that stand alone, or, while anything storms, the one broad
    rise that stands for them all."""
    tested: defaultdict[tuple[str, str], int] = defaultdict(int)
    for test in tests:
        tested[(test.dimension, test.period)] += 1
    return one_broad_rise(*collapse_storms([test for test in tests if test.test.spike], tested))


def _evaluate_spikes(as_of: datetime) -> list[Alert]:
    """Clear the spike alerts that passed; raise the new ones (storms collapsed)."""
    names = unit_names()
    alone, storms = series_alerts(spike_tests(as_of.date(), names, as_of=as_of))
    wanted: dict[str, tuple[list[SeriesTest], Storm | None]] = {
        spike_key(s.dimension, s.value, s.period): ([s], None) for s in alone}
    for rise in storms:  # one at most
        wanted[RISE_KEY] = (list(rise.spikes), rise)
    wanted = _today_over_the_week(wanted)
    for alert in db.session.scalars(select(Alert).where(Alert.kind == AlertKind.SPIKE,
                                                        Alert.cleared_at.is_(None))):
        if alert.key not in wanted:
            alert.cleared_at = as_of
    new_keys = set(wanted) - _uncleared_keys(wanted)
    ids = {name: unit_id for unit_id, name in names.items()}
    raised = []
    for key in sorted(new_keys):
        spikes, storm = wanted[key]
        alert = _spike_alert(key, spikes, storm, as_of, ids)
        if _explained(alert.evidence):
            continue
        if _store(alert) is not None:
            raised.append(alert)
    return raised


def _explained(evidence: dict[str, Any]) -> bool:
    """Whether a spike's rise is mostly made of reports in emerging issues that have alerted.

    The rise is what its series counted above their usual level (observed minus the
    baseline mean, summed). A fault in two units lifts their series too, and a go-live's
    themes lift a category's week: that is the same fact as the emerging issues' alerts,
    and a second alert for it would only bury them. Counting against the rise, not
    against every report of the series, matters for a large series: the functionality
    reports of a week are mostly the usual ones, so a theme that holds the whole rise
    is still only a third of them (bench/golive.py).
    """
    report_ids = evidence["report_ids"]
    rise = sum(s["observed"] - s["baseline_mean"] for s in evidence["series"])
    if not report_ids or rise <= 0:
        return False
    theme = _open_theme()
    alerted = {*db.session.scalars(select(Alert.emerging_issue_id).where(
        Alert.kind == AlertKind.EMERGING, Alert.cleared_at.is_(None),
        Alert.emerging_issue_id.is_not(None))),
        *(theme.evidence["groups"] if theme is not None else ())}
    explained = db.session.scalar(
        select(func.count()).select_from(EmergingIssueReport)
        .where(EmergingIssueReport.report_id.in_(report_ids),
               EmergingIssueReport.emerging_issue_id.in_(sorted(alerted))))
    return explained >= EXPLAINED_SHARE * min(rise, len(report_ids))


def _today_over_the_week(wanted: dict[str, tuple]) -> dict[str, tuple]:
    """A series (or storm) that spikes today and over the week is one fact: the day's alert
    stands for both, so the week's is left out."""
    return {key: value for key, value in wanted.items()
            if not (key.endswith(":week") and key.removesuffix(":week") + ":day" in wanted)}


def _spike_alert(key: str, spikes: list[SeriesTest], storm: Storm | None, as_of: datetime,
                 unit_ids: dict[str, int]) -> Alert:
    first = spikes[0]
    series = [{"value": s.value, "observed": s.test.observed,
               "baseline_mean": round(s.test.baseline_mean, 3),
               "baseline_periods": s.test.baseline_periods,
               "ratio": None if s.test.ratio is None else round(s.test.ratio, 2),
               "p_value": s.test.p_value, "threshold": s.test.threshold} for s in spikes]
    counted = _counted_reports(first.dimension, [s.value for s in spikes], first.period,
                               as_of, unit_ids)
    evidence: dict[str, Any] = {"dimension": first.dimension, "period": first.period,
                                "series": series, **_reports_described(counted)}
    if storm is not None:
        evidence["tested"] = storm.tested
        evidence["others"] = [{"dimension": s.dimension, "value": s.value, "period": s.period,
                               "observed": s.test.observed} for s in storm.others]
    with install_language():
        title = _spike_title(spikes, storm)
    return Alert(kind=AlertKind.SPIKE, key=key, title=title, raised_at=as_of,
                 evidence=evidence)


def _spike_title(spikes: list[SeriesTest], storm: Storm | None) -> str:
    first = spikes[0]
    period = str(PERIOD_NAMES[first.period])
    if storm is None:
        return _("Spike: %(series)s, %(period)s", series=_series_name(first), period=period)
    title = _("Broad rise: %(num)d of %(tested)d %(dimension)s at once, %(period)s",
              num=len(spikes), tested=storm.tested, dimension=DIMENSION_NAMES[first.dimension],
              period=period)
    if storm.others:
        title += ngettext(", and %(num)d more series", ", and %(num)d more series",
                          len(storm.others))
    return title


def _series_name(spike: SeriesTest) -> str:
    names = {"area": AREA_NAMES, "category": CATEGORY_NAMES}.get(spike.dimension, {})
    return str(SERIES_NAMES[spike.dimension]) % {"name": names.get(spike.value, spike.value)}


def _counted_reports(dimension: str, values: list[str], period: str, as_of: datetime,
                     unit_ids: dict[str, int]) -> Select:
    """The reports a spike counted: its series' reports in the current period, up to `as_of`."""
    days = 1 if period == "day" else 7
    today = as_of.date()
    field = {"unit": "unit_ids", "area": "areas", "category": "categories"}[dimension]
    chosen = frozenset(unit_ids[v] for v in values) if dimension == "unit" else frozenset(values)
    filters = ReportFilters(date_from=today - timedelta(days=days - 1), date_to=today,
                            **{field: chosen})
    return filtered_reports(filters, Report.id).where(Report.submitted_hour <= as_of)


# --- shared ----------------------------------------------------------------------------


def _reports_described(ids_query: Select) -> dict[str, list]:
    """The report ids of a query (at most REPORT_IDS_MAX), with their units, categories and
    affected areas, for an alert's evidence."""
    ids = sorted(db.session.scalars(ids_query.order_by(Report.id).limit(REPORT_IDS_MAX)))
    rows = db.session.execute(
        select(Report.unit_id, Report.area, *(getattr(Report, f"is_{c}") for c in CATEGORIES))
        .where(Report.id.in_(ids))).all() if ids else []
    names = unit_names()
    return {
        "units": sorted({names[row[0]] for row in rows}),
        "categories": [c for i, c in enumerate(CATEGORIES) if any(row[2 + i] for row in rows)],
        "areas": sorted({row[1] for row in rows}),
        "report_ids": ids,
    }


def _uncleared_keys(keys: Iterable[str]) -> set[str]:
    wanted = sorted(set(keys))
    if not wanted:
        return set()
    return set(db.session.scalars(select(Alert.key).where(Alert.key.in_(wanted),
                                                          Alert.cleared_at.is_(None))))


def _store(alert: Alert) -> Alert | None:
    """Add a new alert; None if a concurrent evaluation raised its key first."""
    try:
        with db.session.begin_nested():
            db.session.add(alert)
    except IntegrityError:
        log.info("alert %s was raised by another evaluation", alert.key)
        return None
    return alert


# --- reading and following alerts --------------------------------------------------------


def alert_report_ids(alert: Alert, as_of: datetime) -> list[int]:
    """The reports an alert is about as of `as_of`: the members of its emerging issue (or
    of a theme's issues) that had arrived by then (its evidence keeps those of the
    moment it was raised), a spike's counted reports."""
    evidence = alert.evidence or {}
    if alert.kind != AlertKind.EMERGING:
        return list(evidence.get("report_ids", []))
    groups = evidence.get("groups") or [alert.emerging_issue_id]
    return list(db.session.scalars(
        select(EmergingIssueReport.report_id)
        .join(Report, Report.id == EmergingIssueReport.report_id)
        .where(EmergingIssueReport.emerging_issue_id.in_(groups),
               Report.submitted_hour <= as_of)
        .order_by(EmergingIssueReport.report_id)))


def open_alerts() -> list[Alert]:
    """The alerts still asking for attention (not cleared; new or seen): emerging ones first,
    newest first within each kind."""
    return list(db.session.scalars(
        select(Alert).where(Alert.cleared_at.is_(None),
                            Alert.state.in_(sorted(OPEN_ALERT_STATES)))
        .order_by(Alert.kind, Alert.raised_at.desc(), Alert.id.desc())))


def emerging_alerts() -> list[Alert]:
    """The emerging alerts that still hold and were not dismissed, newest first (the overview
    leads with them)."""
    return list(db.session.scalars(
        select(Alert).where(Alert.kind == AlertKind.EMERGING, Alert.cleared_at.is_(None),
                            Alert.state != AlertState.DISMISSED)
        .order_by(Alert.raised_at.desc(), Alert.id.desc())))


def stored_alerts(limit: int = ALERTS_SHOWN) -> list[Alert]:
    """The alerts, uncleared first, newest first (the alerts page)."""
    return list(db.session.scalars(
        select(Alert).order_by(Alert.cleared_at.is_not(None), Alert.raised_at.desc(),
                               Alert.id.desc()).limit(limit)))


def _get_alert(alert_id: int) -> Alert:
    alert = db.session.get(Alert, alert_id)
    if alert is None:
        raise NotFound(_("No such alert."))
    return alert


def _set_state(alert_id: int, state: AlertState, actor: User, action: str,
               known_issue_id: int | None = None) -> Alert:
    with transaction():
        alert = _get_alert(alert_id)
        alert.state, alert.known_issue_id = state, known_issue_id
        alert.state_changed_at, alert.state_changed_by_id = utcnow(), actor.id
        record(action, actor, "alert", alert.id, key=alert.key, known_issue_id=known_issue_id)
    return alert


def mark_seen(alert_id: int, actor: User) -> Alert:
    return _set_state(alert_id, AlertState.SEEN, actor, "alert.seen")


def dismiss(alert_id: int, actor: User) -> Alert:
    """Dismiss an alert: it stays stored, and its key does not fire again while it holds."""
    return _set_state(alert_id, AlertState.DISMISSED, actor, "alert.dismiss")


def link(alert_id: int, known_issue_id: int, actor: User) -> Alert:
    """Link an alert to an open known issue: the alert is about it."""
    issue = db.session.get(KnownIssue, known_issue_id)
    if issue is None or issue.status != KnownIssueStatus.OPEN:
        raise ServiceError(_("Choose an open known issue."))
    return _set_state(alert_id, AlertState.LINKED, actor, "alert.link", known_issue_id)
