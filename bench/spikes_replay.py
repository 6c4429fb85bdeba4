"""Spike alerts on a fresh install: nine quiet weeks replayed day by day, old rule and new.

    .venv/bin/python bench/spikes_replay.py [--seed N] [--seeds N] [--days N]

A region switches Vaka on and reports start to arrive at a steady rate: 12
units, between 0.2 and 4 reports a day each (Poisson, seeded), every report
with an affected area and a category drawn at fixed shares. Nothing unusual
happens, so every alert is a false one. Each day the spike tests run on what
the overview would see that day (`as_of`): the old rule counts the days before
the first report as quiet ones, the new one makes a test only once its baseline
lies on or after the day of the first report. It prints the alerts raised per
week (one per test that fires, summed over the days of the week) under both
rules, summed over the seeds.
"""

import argparse
import sys
from datetime import date, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from models import CATEGORIES, Area  # noqa: E402
from trends.spikes import WEEKLY, recent_spike_tests  # noqa: E402

Series = dict[tuple[str, str], dict[date, int]]

FIRST_DAY = date(2026, 1, 5)
DAYS = 63
#: Reports a day from each of the 12 units.
UNIT_RATES = (4.0, 3.0, 2.5, 2.0, 1.5, 1.2, 1.0, 0.8, 0.6, 0.4, 0.3, 0.2)
AREAS = tuple(Area)
AREA_SHARES = (0.2, 0.2, 0.15, 0.1, 0.15, 0.1, 0.05, 0.05)
COUNTED = (*CATEGORIES, "other")
CATEGORY_SHARES = (0.2, 0.3, 0.35, 0.15)


def quiet_region(seed: int, first_day: date = FIRST_DAY, days: int = DAYS) -> Series:
    """Reports per day of every category, unit and area: steady rates from `first_day` on."""
    rng = np.random.default_rng(seed)
    series: Series = {("category", c): {} for c in COUNTED}
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        for number, rate in enumerate(UNIT_RATES, start=1):
            reports = int(rng.poisson(rate))
            if not reports:
                continue
            areas = rng.choice(len(AREAS), size=reports, p=AREA_SHARES)
            categories = rng.choice(len(COUNTED), size=reports, p=CATEGORY_SHARES)
            keys = [("unit", f"Unit {number}")] * reports
            keys += [("area", str(AREAS[a])) for a in areas]
            keys += [("category", COUNTED[c]) for c in categories]
            for key in keys:
                per_day = series.setdefault(key, {})
                per_day[day] = per_day.get(day, 0) + 1
    return series


def first_report(series: Series) -> date:
    return min(day for per_day in series.values() for day in per_day)


def as_of(series: Series, today: date) -> Series:
    """The series as the overview sees them on `today`: no later day, and the categories
    always but a unit or area only once it has a report in the weekly test's window."""
    since = today - timedelta(days=WEEKLY.reach)
    seen = {key: {day: n for day, n in per_day.items() if day <= today}
            for key, per_day in series.items()}
    return {key: per_day for key, per_day in seen.items()
            if key[0] == "category" or any(day >= since for day in per_day)}


def alerts_per_day(series: Series, history_from: date, first_day: date = FIRST_DAY,
                   days: int = DAYS) -> list[int]:
    """Alerts raised on each day of the replay, with the history starting at `history_from`."""
    counts = []
    for offset in range(days):
        today = first_day + timedelta(days=offset)
        tests = recent_spike_tests(as_of(series, today), today, history_from)
        counts.append(sum(test.spike for _, test in tests))
    return counts


def per_week(daily: list[int]) -> list[int]:
    return [sum(daily[start:start + 7]) for start in range(0, len(daily), 7)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=0, help="first seed (default 0)")
    parser.add_argument("--seeds", type=int, default=1, help="seeds replayed (default 1)")
    parser.add_argument("--days", type=int, default=DAYS, help=f"days replayed (default {DAYS})")
    args = parser.parse_args()
    old = np.zeros((args.days + 6) // 7, dtype=int)
    new = np.zeros_like(old)
    reports = 0
    for seed in range(args.seed, args.seed + args.seeds):
        series = quiet_region(seed, days=args.days)
        reports += sum(sum(per_day.values()) for key, per_day in series.items()
                       if key[0] == "unit")
        old += per_week(alerts_per_day(series, date.min, days=args.days))
        new += per_week(alerts_per_day(series, first_report(series), days=args.days))
    last = args.seed + args.seeds - 1
    print(f"{args.seeds} replay(s) of {args.days} quiet days from a fresh install, "
          f"{reports / args.seeds:.0f} reports each (seeds {args.seed}..{last})")
    print("alerts per week, summed over the replays; old: days before the first report count "
          "as quiet, new: a test waits for its baseline")
    print(f"{'week':>4} {'old':>6} {'new':>6}")
    for week, (before, after) in enumerate(zip(old, new, strict=True), start=1):
        print(f"{week:>4} {before:>6} {after:>6}")
    print(f"{'all':>4} {old.sum():>6} {new.sum():>6}")


if __name__ == "__main__":
    main()
