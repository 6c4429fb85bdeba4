"""The coordination group's overview: recent counts, trends, known issues and spike alerts.

Everything is read from recent windows only, so the page costs about the same
with a thousand reports or a million. Three GROUP BYs over the recent submission
days read one index alone (submitted_on, unit_id, area and the category flags):
per day with the categories summed (twelve weeks: the charts and the category
series), per day and unit with the categories summed (four weeks: the heat map)
and per day, unit and area (nine weeks: the unit and area series). The finished
reports, the time to triage, the known issues and the day of the first report (where
the spike tests' history starts) take one small query each.
Days and weeks are bucketed in Python from per-day counts, which works the same
on SQLite and PostgreSQL.
"""

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import (
    Date,
    DateTime,
    Float,
    Integer,
    Result,
    Select,
    String,
    and_,
    case,
    cast,
    extract,
    func,
    select,
    type_coerce,
    union_all,
)

from app.charts import shade
from app.services.known_issues import IssueSummary, summaries
from models import CATEGORIES, KnownIssue, KnownIssueStatus, Report, Unit, db, utcnow
from trends.spikes import WEEKLY, WINDOWS, SpikeTest, recent_spike_tests
from trends.weeks import iso_week, last_days, last_week_starts, week_totals

#: The categories counted: the three, and other (classified as none of them).
COUNTED = (*CATEGORIES, "other")
DAYS_SHOWN = 30
WEEKS_SHOWN = 12
#: Days of the heat map of units x categories (the last four weeks).
HEAT_DAYS = 28
#: The submission day as the driver gives it (text on SQLite), read by `_as_date`: the
#: thousands of rows of the spike query skip SQLAlchemy's slow date parsing for SQLite.
_RAW_DAY = type_coerce(Report.submitted_on, String)
#: The median time to triage counts the reports triaged in these last days.
TRIAGE_DAYS = 30
TOP_ISSUES = 5


@dataclass(frozen=True)
class Alert:
    """One spike test of a series: a category, a unit or an area over a day or a week."""

    #: "category", "unit" or "area".
    dimension: str
    #: The category or area value, or the unit's name.
    value: str
    #: "day" or "week".
    period: str
    test: SpikeTest


@dataclass(frozen=True)
class HeatRow:
    unit: str
    counts: dict[str, int]
    shades: dict[str, int]
    total: int


@dataclass(frozen=True)
class TopIssue:
    id: int
    title: str
    #: Count, first and last seen and reports per week (app.services.known_issues).
    summary: IssueSummary
    units: list[str]


@dataclass(frozen=True)
class Overview:
    today: date
    days: list[date]
    #: Category -> reports per day over `days`.
    daily: dict[str, list[int]]
    #: The Monday of each ISO week shown, oldest first; the last one is still running.
    weeks: list[date]
    weekly: dict[str, list[int]]
    new_per_week: list[int]
    finished_per_week: list[int]
    heat_from: date
    heat: list[HeatRow]
    median_triage_hours: float | None
    triaged: int
    known_issues: list[TopIssue]
    #: Every test that was made, spikes first.
    tests: list[Alert]
    #: The day of the first report, where the spike tests' history starts (None: no report).
    history_from: date | None
    #: Period ("day", "week") -> days until its test starts, for the tests not made yet.
    days_to_wait: dict[str, int]

    @property
    def day_labels(self) -> list[str]:
        return [day.isoformat() for day in self.days]

    @property
    def day_ticks(self) -> list[str]:
        """Month and day, short enough for a chart's axis."""
        return [day.isoformat()[5:] for day in self.days]

    @property
    def week_labels(self) -> list[str]:
        return [iso_week(week) for week in self.weeks]

    @property
    def alerts(self) -> list[Alert]:
        return [alert for alert in self.tests if alert.test.spike]


def build_overview(now: datetime | None = None) -> Overview:
    """Everything the overview page shows, as of `now` (UTC)."""
    now = now or utcnow()
    today = now.date()
    weeks = last_week_starts(today, WEEKS_SHOWN)
    days = last_days(today, DAYS_SHOWN)
    per_day = category_days(weeks[0])
    heat_from = today - timedelta(days=HEAT_DAYS - 1)
    names = unit_names()
    median, triaged = _median_hours_to_triage(now - timedelta(days=TRIAGE_DAYS))
    history_from = first_report_day()
    return Overview(
        today=today, days=days,
        daily={c: [per_day[day][c] for day in days] for c in COUNTED},
        weeks=weeks,
        weekly={c: _weekly(per_day, weeks, c) for c in COUNTED},
        new_per_week=_weekly(per_day, weeks, "total"),
        finished_per_week=_finished_per_week(weeks),
        heat_from=heat_from, heat=_heat_map(heat_from, names),
        median_triage_hours=median, triaged=triaged,
        known_issues=top_known_issues(names, today),
        tests=spike_tests(today, names, per_day, history_from),
        history_from=history_from,
        days_to_wait=_days_to_wait(history_from, today),
    )


def _category_sums() -> list:
    """SQL for the number of reports, then the number in each of COUNTED, of a group."""
    flags = [getattr(Report, f"is_{c}") for c in CATEGORIES]
    other = and_(*(flag.is_(False) for flag in flags))
    return [func.count(), *(func.sum(cast(flag, Integer)) for flag in flags),
            func.sum(case((other, 1), else_=0))]


def _counts(values: Iterable[int | None]) -> dict[str, int]:
    return dict(zip(("total", *COUNTED), (int(n or 0) for n in values), strict=True))


def category_days(start: date, as_of: datetime | None = None
                  ) -> defaultdict[date, dict[str, int]]:
    """Reports per submission day since `start`: day -> {"total" or category -> count}.

    This and the other per-day queries read the index on (submitted_on, unit_id,
    area, is_safety, is_training, is_functionality) alone. With `as_of`, reports
    submitted after it do not count (see `_per_day_rows`).
    """
    per_day: defaultdict[date, dict[str, int]] = defaultdict(lambda: dict.fromkeys(
        ("total", *COUNTED), 0))
    query = select(_RAW_DAY, *_category_sums()).group_by(Report.submitted_on)
    for raw_day, *counts in _per_day_rows(query, start, as_of):
        per_day[_as_date(raw_day)] = _counts(counts)
    return per_day


def _per_day_rows(query: Select, start: date, as_of: datetime | None) -> Result:
    """The rows of a per-day GROUP BY over the days since `start`.

    With `as_of` only the reports submitted up to its hour count: the days
    before its day whole (from the index alone), and of its day the reports
    whose `submitted_hour` is not after it.
    """
    if as_of is None:
        return db.session.execute(query.where(Report.submitted_on >= start))
    day = as_of.date()
    return db.session.execute(union_all(
        query.where(Report.submitted_on >= start, Report.submitted_on < day),
        query.where(Report.submitted_on == day, Report.submitted_hour <= as_of)))


def _weekly(per_day: dict[date, dict[str, int]], weeks: list[date], name: str) -> list[int]:
    return week_totals({day: counts[name] for day, counts in per_day.items()}, weeks)


def _finished_per_week(weeks: list[date]) -> list[int]:
    """Reports that reached a finished status (resolved, closed, duplicate, rejected) per week.

    Bucketed per day by the database (an index on finished_at keeps it to the window).
    """
    day = func.date(Report.finished_at, type_=Date)
    since = datetime.combine(weeks[0], datetime.min.time())
    per_day = {_as_date(d): n for d, n in db.session.execute(
        select(day, func.count()).where(Report.finished_at >= since).group_by(day))}
    return week_totals(per_day, weeks)


def _as_date(value: date | str) -> date:
    # SQLite's date() gives text, PostgreSQL a date.
    return value if isinstance(value, date) else date.fromisoformat(value)


def _heat_map(since: date, names: dict[int, str]) -> list[HeatRow]:
    """Reports per unit and category since `since`, with a shade per cell, busiest unit first.

    Grouped by day and unit, not by unit alone: SQLite would then walk the unit
    index through every report instead of the recent days.
    """
    per_unit: defaultdict[str, Counter[str]] = defaultdict(Counter)
    query = (select(Report.unit_id, *_category_sums()).where(Report.submitted_on >= since)
             .group_by(Report.submitted_on, Report.unit_id))
    for unit_id, *counts in db.session.execute(query):
        per_unit[names[unit_id]].update(_counts(counts))
    highest = max((counts[c] for counts in per_unit.values() for c in COUNTED), default=0)
    heat = [HeatRow(unit=unit, counts={c: counts[c] for c in COUNTED},
                    shades={c: shade(counts[c], highest) for c in COUNTED},
                    total=counts["total"])
            for unit, counts in per_unit.items()]
    return sorted(heat, key=lambda row: (-row.total, row.unit))


def _hours_to_triage():
    """Hours from a report's arrival to its triage, as SQL for the current database.

    Arrival is `submitted_at`, or midnight of `submitted_on` for an anonymous report.
    """
    if db.engine.dialect.name == "sqlite":
        arrival = func.coalesce(Report.submitted_at, Report.submitted_on)
        return (func.julianday(Report.triaged_at) - func.julianday(arrival)) * 24.0
    arrival = func.coalesce(Report.submitted_at, cast(Report.submitted_on, DateTime))
    return cast(extract("epoch", Report.triaged_at - arrival), Float) / 3600.0


def _median_hours_to_triage(since: datetime) -> tuple[float | None, int]:
    """The median hours to triage of the reports triaged since `since`, and how many they were.

    The database sorts and picks the middle one or two (an index on triaged_at keeps
    it to the window), so no list of times travels to Python.
    """
    recent = Report.triaged_at >= since
    count = db.session.scalar(select(func.count()).select_from(Report).where(recent))
    if not count:
        return None, 0
    hours = _hours_to_triage()
    middle = db.session.scalars(select(hours).where(recent).order_by(hours)
                                .offset((count - 1) // 2).limit(2 - count % 2)).all()
    return sum(middle) / len(middle), count


def top_known_issues(names: dict[int, str], today: date,
                     limit: int = TOP_ISSUES) -> list[TopIssue]:
    """The open known issues with the most reports, with their figures and units."""
    count = func.count()
    top = db.session.execute(
        select(KnownIssue.id, KnownIssue.title)
        .join(Report, Report.known_issue_id == KnownIssue.id)
        .where(KnownIssue.status == KnownIssueStatus.OPEN)
        .group_by(KnownIssue.id, KnownIssue.title)
        .order_by(count.desc(), KnownIssue.id).limit(limit)).all()
    ids = [issue_id for issue_id, _ in top]
    units: defaultdict[int, list[str]] = defaultdict(list)
    for issue_id, unit_id in db.session.execute(
            select(Report.known_issue_id, Report.unit_id).distinct()
            .where(Report.known_issue_id.in_(ids))):
        units[issue_id].append(names[unit_id])
    figures = summaries(ids, today)
    return [TopIssue(id=issue_id, title=title, summary=figures[issue_id],
                     units=sorted(units[issue_id]))
            for issue_id, title in top]


def unit_names() -> dict[int, str]:
    """Every unit's name, by id."""
    return dict(db.session.execute(select(Unit.id, Unit.name)).all())


def first_report_day() -> date | None:
    """The submission day of the first report (None if there is none): the history's start.

    It is the install's first report for every series: see README, "Overview and spike
    alerts", for why a unit or area is not counted from its own first report.
    """
    return db.session.scalar(select(func.min(Report.submitted_on)))


def spike_tests(today: date, names: dict[int, str],
                per_day: dict[date, dict[str, int]] | None = None,
                history_from: date | None = None, as_of: datetime | None = None) -> list[Alert]:
    """Every spike test of the categories, units and areas as of `today`, spikes first.

    `per_day` (from `category_days`) and `history_from` (`first_report_day`) are
    read here unless the caller has them; with `as_of` (on `today`) the reports
    submitted after it do not count.
    """
    if per_day is None:
        per_day = category_days(today - timedelta(days=WEEKLY.reach), as_of)
    if history_from is None:
        history_from = first_report_day()
    return spike_alerts(_spike_series(per_day, today, names, as_of), today, history_from)


def _spike_series(per_day: dict[date, dict[str, int]], today: date, names: dict[int, str],
                  as_of: datetime | None = None) -> dict[tuple[str, str], dict[date, int]]:
    """Reports per day of every category (quiet ones too), unit and area, over the tests' days.

    A unit or area is a series once it has a report in the weekly test's window.
    """
    start = today - timedelta(days=WEEKLY.reach)
    series: dict[tuple[str, str], dict[date, int]] = {
        ("category", c): {day: counts[c] for day, counts in per_day.items()} for c in COUNTED}
    query = (select(_RAW_DAY, Report.unit_id, Report.area, func.count())
             .group_by(Report.submitted_on, Report.unit_id, Report.area))
    for raw_day, unit_id, area, count in _per_day_rows(query, start, as_of):
        day = _as_date(raw_day)
        for key in (("unit", names[unit_id]), ("area", area)):
            series.setdefault(key, defaultdict(int))[day] += count
    return series


def spike_alerts(series: dict[tuple[str, str], dict[date, int]], today: date,
                 history_from: date | None) -> list[Alert]:
    """The spike tests of `series` ((dimension, value) -> reports per day) as of `today`.

    Only the tests whose baseline lies within the history (from `history_from`, the
    first report's day) are made; spikes come first.
    """
    return [Alert(*test.key, period, test)
            for period, test in recent_spike_tests(series, today, history_from)]


def _days_to_wait(history_from: date | None, today: date) -> dict[str, int]:
    """Days until each test not made yet starts (counted as if the first report came today)."""
    waits = {window.period: window.days_to_wait(history_from or today, today)
             for window in WINDOWS}
    return {period: days for period, days in waits.items() if days}
