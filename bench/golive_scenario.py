"""Go-live scenarios for bench/golive.py: quiet weeks, a flood, faults, and each report's truth.

A scenario is a region of units reporting at seeded Poisson rates with a weekly rhythm
(weekdays busier than weekends, days busier than nights). Twelve quiet weeks of
everyday reports (bench/golive_texts.QUIET, and perturbed texts of the bundled corpus
for variety) form the *history*; then the *live* period starts with a go-live: on its
first day every unit reports 4-6 times as much, the extra about slowness, logins and
training, less on the next days. One or more faults start at a chosen hour in two or
three units and grow over a day. The control scenario has the same quiet weeks and
nothing else. Every report carries its truth: "quiet", "flood:THEME" or "fault:NAME".
Pure Python: no Flask, no database.
"""

import itertools
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bench.golive_texts import (
    AREAS,
    FAULTS,
    FEEDBACK_THEMES,
    FLOOD,
    HARMFUL_THEMES,
    QUIET,
    mangle,
    poisson,
    write,
)

GO_LIVE = datetime(2026, 3, 3)  # a Tuesday
UNIT_NAMES = (
    "Akutmottagningen", "Avd 11 Medicin", "Avd 14 Kardiologi", "Avd 21 Ortopedi",
    "Avd 32 Kirurgi", "IVA", "Infektion", "BB", "Barnakuten", "Neurologi", "Onkologi",
    "Hematologi", "Geriatrik", "Njurmedicin", "Lungmedicin", "Urologi", "Dagkirurgi",
    "Psykiatri 6", "Rehab", "Vårdcentral Norr", "Vårdcentral Syd", "HIA",
)
#: Relative report rate of each hour of the day (staff write most on the day shift).
HOURLY = (0.15, 0.1, 0.1, 0.1, 0.15, 0.2, 0.4, 0.9, 1.4, 1.7, 1.8, 1.6, 1.3, 1.6, 1.7, 1.5,
          1.3, 0.9, 0.7, 0.6, 0.6, 0.5, 0.4, 0.25)
WEEKEND = 0.45
QUIET_SHARES = {"printer": 10, "screen": 6, "training_wish": 6, "praise": 8, "complaint": 10,
                "wish": 6, "incident": 8, "slow": 3, "login": 3}
FLOOD_SHARES = {"slowness": 4, "login": 3, "training": 3}
#: How much more the units report on each day of the go-live (times the first day's rise).
FLOOD_DAYS = (1.0, 0.7, 0.35)
CORPUS_SHARE = 0.35


@dataclass(frozen=True)
class Planned:
    """A report to import, and what it truly is about."""

    at: datetime
    unit: str
    kind: str
    area: str
    impact: str
    text: str
    truth: str

    def line(self) -> dict:
        """The report as a line of `flask reports import`."""
        return {"submitted_at": self.at.isoformat() + "Z", "kind": self.kind, "unit": self.unit,
                "area": self.area, "impact": self.impact, "text": self.text}


@dataclass(frozen=True)
class Fault:
    name: str
    units: tuple[str, ...]
    start: datetime
    per_day: float


@dataclass(frozen=True)
class Shape:
    """The size of a scenario."""

    units: int = 20
    history_days: int = 84
    live_hours: int = 72
    flood: bool = True
    faults: tuple[str, ...] = ("tube",)
    fault_per_day: tuple[float, float] = (25.0, 40.0)


@dataclass
class Scenario:
    name: str
    history: list[Planned]
    live: list[Planned]
    start: datetime
    hours: int
    faults: list[Fault] = field(default_factory=list)
    #: The go-live days, when the flood runs (None in the control).
    flood: tuple[datetime, datetime] | None = None


def unit_rates(rng: random.Random, count: int) -> dict[str, float]:
    """Reports a weekday from each unit."""
    return {name: round(rng.uniform(0.4, 3.0), 2) for name in UNIT_NAMES[:count]}


def hour_share(at: datetime) -> float:
    """The share of a weekday's reports that arrive in the hour starting at `at`."""
    weekend = WEEKEND if at.weekday() >= 5 else 1.0
    return weekend * HOURLY[at.hour] / sum(HOURLY)


def hours(start: datetime, count: int) -> list[datetime]:
    return [start + timedelta(hours=offset) for offset in range(count)]


def arrival(hour: datetime, rng: random.Random) -> datetime:
    return hour + timedelta(minutes=rng.randrange(60), seconds=rng.randrange(60))


def weighted(shares: dict[str, int], rng: random.Random) -> str:
    return rng.choices(list(shares), weights=list(shares.values()))[0]


def planned(theme: str, text: str, at: datetime, unit: str, truth: str,
            rng: random.Random) -> Planned:
    kind = "feedback" if theme in FEEDBACK_THEMES and rng.random() < 0.7 else "incident"
    impact = (rng.choice(("near_miss", "near_miss", "harm", "unknown", "none"))
              if theme in HARMFUL_THEMES else rng.choice(("none", "none", "unknown")))
    return Planned(at=at, unit=unit, kind=kind, area=rng.choice(AREAS[theme]), impact=impact,
                   text=text, truth=truth)


def quiet_report(at: datetime, unit: str, corpus: list[str], rng: random.Random) -> Planned:
    if rng.random() < CORPUS_SHARE:
        return planned("complaint", mangle(rng.choice(corpus), rng, 0.4), at, unit, "quiet", rng)
    theme = weighted(QUIET_SHARES, rng)
    return planned(theme, mangle(write(QUIET[theme], rng), rng, 0.7), at, unit, "quiet", rng)


def quiet_reports(rates: dict[str, float], start: datetime, count: int, corpus: list[str],
                  rng: random.Random) -> list[Planned]:
    """Everyday reports in the `count` hours from `start`."""
    reports = []
    for hour in hours(start, count):
        for unit, rate in rates.items():
            for _ in range(poisson(rate * hour_share(hour), rng)):
                reports.append(quiet_report(arrival(hour, rng), unit, corpus, rng))
    return reports


def flood_reports(rates: dict[str, float], start: datetime, rng: random.Random) -> list[Planned]:
    """The go-live's extra reports: each unit 4-6 times its rate, falling over the days."""
    rises = {unit: rng.uniform(4.0, 6.0) - 1.0 for unit in rates}
    reports = []
    for hour in hours(start, 24 * len(FLOOD_DAYS)):
        day = FLOOD_DAYS[(hour - start).days]
        for unit, rate in rates.items():
            for _ in range(poisson(rate * rises[unit] * day * hour_share(hour), rng)):
                theme = weighted(FLOOD_SHARES, rng)
                text = mangle(write(FLOOD[theme], rng), rng, 0.9)
                reports.append(planned(theme, text, arrival(hour, rng), unit, f"flood:{theme}",
                                       rng))
    return reports


def fault_reports(fault: Fault, end: datetime, rng: random.Random) -> list[Planned]:
    """The fault's reports: the first at its start, then growing for six hours, until `end`."""
    def report(at: datetime, unit: str) -> Planned:
        text = mangle(write(FAULTS[fault.name], rng), rng, 1.0)
        return planned(fault.name, text, at, unit, f"fault:{fault.name}", rng)

    reports = [report(fault.start, fault.units[0])]
    first_hour = fault.start.replace(minute=0, second=0)
    for offset, hour in enumerate(hours(first_hour, int((end - first_hour).total_seconds()
                                                        // 3600))):
        growth = min(1.0, (offset + 1) / 6)
        expected = fault.per_day * growth * HOURLY[hour.hour] / sum(HOURLY)
        for _ in range(poisson(expected, rng)):
            at = max(arrival(hour, rng), fault.start)
            reports.append(report(at, rng.choice(fault.units)))
    return reports


def choose_faults(names: tuple[str, ...], units: list[str], start: datetime, shape: Shape,
                  rng: random.Random) -> list[Fault]:
    """The faults named, each in 2-3 units, starting on day 1 or 2 of the go-live."""
    faults = []
    for name in names:
        begins = start + timedelta(days=rng.randrange(2) if shape.live_hours >= 56 else 0,
                                   hours=rng.randrange(8, 15), minutes=rng.randrange(5, 55))
        faults.append(Fault(name=name, units=tuple(rng.sample(units, rng.randint(2, 3))),
                            start=begins, per_day=rng.uniform(*shape.fault_per_day)))
    return faults


def corpus_texts() -> list[str]:
    """The bundled corpus's texts the report form accepts, with room for the letters
    `mangle` may drop (the corpus also holds one-word answers such as "ok")."""
    from app.reports.forms import TEXT_MIN
    from ml import load_corpus

    return [example.text for example in load_corpus() if len(example.text) >= TEXT_MIN + 5]


def shapes(seed: int, count: int) -> list[Shape]:
    """`count` full-size scenarios with one fault, then two, then one...: every fault in turn."""
    names = itertools.islice(itertools.cycle(sorted(FAULTS)), seed, None)
    return [Shape(faults=tuple(itertools.islice(names, 1 + index % 2)))
            for index in range(count)]


def go_live(seed: int, index: int, shape: Shape = Shape()) -> Scenario:
    """Scenario `index` of `seed`: quiet history, then the go-live with its flood and faults."""
    rng = random.Random(f"go-live {seed} {index}")
    rates = unit_rates(random.Random(f"units {seed} {index}"), shape.units)
    history_start = GO_LIVE - timedelta(days=shape.history_days)
    corpus = corpus_texts()
    history = quiet_reports(rates, history_start, 24 * shape.history_days, corpus, rng)
    live = quiet_reports(rates, GO_LIVE, shape.live_hours, corpus, rng)
    if shape.flood:
        live += flood_reports(rates, GO_LIVE, rng)
    faults = choose_faults(shape.faults, list(rates), GO_LIVE, shape, rng)
    end = GO_LIVE + timedelta(hours=shape.live_hours)
    for fault in faults:
        live += fault_reports(fault, end, rng)
    live = sorted((r for r in live if r.at < end), key=lambda r: r.at)
    flood = (GO_LIVE, GO_LIVE + timedelta(days=2)) if shape.flood else None
    return Scenario(name=f"go-live {index + 1}", history=sorted(history, key=lambda r: r.at),
                    live=live, start=GO_LIVE, hours=shape.live_hours, faults=faults, flood=flood)


def control(seed: int, history_days: int = 28, quiet_days: int = 35,
            units: int = 20) -> Scenario:
    """Quiet weeks only: `history_days` imported at once, then `quiet_days` replayed."""
    rng = random.Random(f"go-live {seed} 0")
    rates = unit_rates(random.Random(f"units {seed} 0"), units)
    first = GO_LIVE - timedelta(days=84)
    start = first + timedelta(days=history_days)
    reports = quiet_reports(rates, first, 24 * (history_days + quiet_days), corpus_texts(), rng)
    return Scenario(name="quiet control", history=[r for r in reports if r.at < start],
                    live=[r for r in reports if r.at >= start], start=start,
                    hours=24 * quiet_days)


#: The test suite's: eight units, five quiet days, the flood, the pneumatic tube fault.
SMALL = Shape(units=8, history_days=5, live_hours=40, faults=("tube",),
              fault_per_day=(30.0, 30.0))
