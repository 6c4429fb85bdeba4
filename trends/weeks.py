"""Calendar helpers: ISO weeks, their Mondays and per-week totals of per-day counts."""

from collections.abc import Mapping
from datetime import date, timedelta


def week_start(day: date) -> date:
    """The Monday of the ISO week that holds `day`."""
    return day - timedelta(days=day.weekday())


def iso_week(day: date) -> str:
    """The ISO week that holds `day`, as "2026-W05"."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def last_days(today: date, count: int) -> list[date]:
    """The `count` days up to and including `today`, oldest first."""
    return [today - timedelta(days=n) for n in range(count - 1, -1, -1)]


def last_week_starts(today: date, count: int) -> list[date]:
    """The Mondays of the `count` ISO weeks up to the one holding `today`, oldest first."""
    monday = week_start(today)
    return [monday - timedelta(weeks=n) for n in range(count - 1, -1, -1)]


def week_totals(per_day: Mapping[date, int], mondays: list[date]) -> list[int]:
    """The sum of the per-day counts over each week starting on one of `mondays`."""
    return [sum(per_day.get(monday + timedelta(days=d), 0) for d in range(7))
            for monday in mondays]
