"""Emerging-issue alerts: does a group of like reports arrive faster than its kind ever did?

A group (an emerging issue, formed by the grouping) is a set of reports about
one thing; each member arrived in some hour, from some unit, and a named one from
a reporter. Its *baseline* is how many reports like it arrived in the
`baseline_hours` (28 days) before the window: its own members then, and reports
resembling its profile from before its first report (app/services/alerts.py
`baseline_count`): what its terms did before.

Method
------
Let ``x`` be the members that arrived in the `window_hours` ending at the moment
of evaluation (12 hours), and ``b`` the baseline count.

- A **new topic** (``b = 0``, nothing like it before) alerts when ``x >=
  min_reports`` (4) and the members in the window come from more than one unit or
  more than one named reporter: a handful of like reports from more than one
  source within hours. One person reporting the same thing three times is one
  voice, however insistent. Four, not three: on the replays of bench/golive.py
  three gave 1.7 false alarms per 30 quiet days (three like reports from two
  units happen by chance), four gave 0.9, and a fault still alerted within
  4.5 hours of its first report.
- A **known kind** (``b > 0``) alerts when the count in the window is
  significantly above what the baseline rate predicts. If reports like it arrive
  as a Poisson process whose rate did not change, then given ``n = x + b`` the
  window's share is binomial, ``x | n ~ Binomial(n, w / (w + B))`` with ``w`` the
  window's and ``B`` the baseline's length, so the one-sided p-value ``P(X >= x)``
  is exact (the conditional test of two Poisson rates, as in trends/spikes.py). It
  alerts when ``p < alpha / m`` (m: the groups tested together, Bonferroni),
  ``x >= min_reports``, ``x`` is at least ``min_ratio`` times the expected
  ``b * w / B`` and, as for a new topic, more than one source sent them.

Assumptions and limits: the members are the grouping's, so the test inherits its
mistakes (a group that swallowed two topics counts both). The group was found
*because* its reports resemble each other, so the test is optimistic about
chance clusters; the strict level, the minimum count and the two-source rule keep
that in check. The baseline counts reports that resemble the group's profile as
it is now, found through the bounded similarity index, so a very common kind of
report is undercounted (it stops at the look-up's bound) and alerts a little more
easily than the test says. Anonymous reports keep only their hour, so the window
is counted in whole hours (a report of 10:59 counts at 10:00). A burst that
started more than `window_hours` before the evaluation is judged on the part in
the window: run the evaluation at least every few hours.

Local or spread
---------------
A fault is reported by the two or three units where it happens; a go-live's flood
by every unit. When a small group's reports come from few units, that may be
chance: four reports of a flood's theme from twenty units land in three or fewer
of them more than a quarter of the time. `few_units_by_chance` gives that chance,
``P(D <= d)`` for the number ``D`` of distinct units among ``n`` reports that each
come from one of ``u`` equally likely units (the occupancy distribution, computed
exactly by counting how each report adds a new unit or repeats one). ``u`` is the
effective number of units reporting (`effective_units`: the inverse Simpson index
of their report counts), so that a few busy units count as few. Only when that
chance is small do so few units say "local".

Storms
------
The per-series spike tests (trends/spikes.py) fire together when something lifts
every unit at once (a go-live): twenty unit alerts say one thing. When at least
`min_series` series of one dimension (unit, area or category) spike in the same
period, or at least `min_share` of that dimension's tested series, they become
one *broad rise* for that dimension and period, listing them (`collapse_storms`).
While anything storms, the rise is one fact: one storm leads it and every other
spike, of any dimension and period, is part of it (`one_broad_rise`).
"""

from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Generic, Protocol, TypeVar

from trends.spikes import binomial_upper_tail

#: Defaults of the emerging-issue alert (see the module docstring).
WINDOW_HOURS = 12
BASELINE_HOURS = 28 * 24
MIN_REPORTS = 4
MIN_RATIO = 3.0
ALPHA = 0.001
#: A storm: this many series of one dimension spiking together, or this share of them.
STORM_MIN_SERIES = 3
STORM_MIN_SHARE = 0.5


@dataclass(frozen=True)
class Arrival:
    """One member of a group: the hour it arrived, its unit, its named reporter (or None)."""

    hour: datetime
    unit: Hashable
    reporter: Hashable | None = None


@dataclass(frozen=True)
class BurstRule:
    window_hours: int = WINDOW_HOURS
    baseline_hours: int = BASELINE_HOURS
    min_reports: int = MIN_REPORTS
    min_ratio: float = MIN_RATIO
    alpha: float = ALPHA


@dataclass(frozen=True)
class BurstTest:
    """The evidence of one group's test at one moment."""

    #: Members that arrived in the window ending at the moment tested.
    observed: int
    #: Distinct units and distinct named reporters among them.
    units: int
    reporters: int
    #: Reports like it in the baseline span before the group began (0: a new topic).
    baseline: int
    #: What the baseline rate predicts for the window.
    expected: float
    #: The binomial test's p-value (1.0 for a new topic: no test is made).
    p_value: float
    #: The level p had to be under (alpha / number of groups tested).
    threshold: float
    alert: bool

    @property
    def is_new_topic(self) -> bool:
        return self.baseline == 0

    @property
    def ratio(self) -> float | None:
        """Observed over expected; None for a new topic."""
        return self.observed / self.expected if self.expected else None


def in_window(arrivals: Iterable[Arrival], as_of: datetime,
              window_hours: int = WINDOW_HOURS) -> list[Arrival]:
    """The arrivals in the `window_hours` ending at `as_of` (later ones do not count)."""
    start = as_of - timedelta(hours=window_hours)
    return [arrival for arrival in arrivals if start < arrival.hour <= as_of]


def burst_test(arrivals: Iterable[Arrival], baseline: int, as_of: datetime, *,
               tests: int = 1, rule: BurstRule = BurstRule()) -> BurstTest:
    """Test one group's members against its baseline, as of `as_of` (see the module docstring).

    `tests` is the number of groups tested together (Bonferroni).
    """
    if baseline < 0:
        raise ValueError("the baseline is a count of reports: it cannot be negative")
    recent = in_window(arrivals, as_of, rule.window_hours)
    observed = len(recent)
    units = len({arrival.unit for arrival in recent})
    reporters = len({arrival.reporter for arrival in recent if arrival.reporter is not None})
    share = rule.window_hours / (rule.window_hours + rule.baseline_hours)
    expected = baseline * rule.window_hours / rule.baseline_hours
    threshold = rule.alpha / max(tests, 1)
    enough = observed >= rule.min_reports and (units > 1 or reporters > 1)
    if baseline == 0:
        p_value, alert = 1.0, enough
    else:
        p_value = binomial_upper_tail(observed, observed + baseline, share)
        alert = enough and observed >= rule.min_ratio * expected and p_value < threshold
    return BurstTest(observed=observed, units=units, reporters=reporters, baseline=baseline,
                     expected=expected, p_value=p_value, threshold=threshold, alert=alert)


def few_units_by_chance(reports: int, units: int, units_reporting: float) -> float:
    """P(the `reports` come from at most `units` distinct units) if each came from one of
    `units_reporting` equally likely units (see "Local or spread" above)."""
    if reports < 0 or units < 0:
        raise ValueError("counts cannot be negative")
    if units >= reports or units_reporting <= units:
        return 1.0
    # seen[k]: the chance that the reports so far came from exactly k distinct units
    # (the chance of more than `units` is dropped as it arises).
    seen = [1.0] + [0.0] * units
    for _ in range(reports):
        seen = [seen[k] * k / units_reporting
                + (seen[k - 1] * (units_reporting - k + 1) / units_reporting if k else 0.0)
                for k in range(units + 1)]
    return sum(seen)


def effective_units(report_counts: Iterable[int]) -> float:
    """How many equally busy units the counts amount to: (sum c)^2 / sum c^2 (0 for none)."""
    counts = [count for count in report_counts if count > 0]
    squares = sum(count * count for count in counts)
    return sum(counts) ** 2 / squares if squares else 0.0


class SeriesSpike(Protocol):
    """A series spike as the overview gives it: its dimension and period are what counts."""

    @property
    def dimension(self) -> str: ...

    @property
    def period(self) -> str: ...


S = TypeVar("S", bound=SeriesSpike)


@dataclass(frozen=True)
class Storm(Generic[S]):
    """Many series of one dimension spiking in one period: one broad rise."""

    dimension: str
    period: str
    spikes: tuple[S, ...]
    #: How many series of the dimension were tested in the period.
    tested: int
    #: Spikes of other dimensions or periods that the rise stands for (`one_broad_rise`).
    others: tuple[S, ...] = ()

    @property
    def series(self) -> tuple[S, ...]:
        """Every spike the rise stands for: its dimension's, then the others."""
        return self.spikes + self.others


def collapse_storms(spikes: Sequence[S], tested: Mapping[tuple[str, str], int], *,
                    min_series: int = STORM_MIN_SERIES,
                    min_share: float = STORM_MIN_SHARE) -> tuple[list[S], list[Storm[S]]]:
    """Split spikes into those that stand alone and the storms that swallow the rest.

    `tested` maps (dimension, period) to the number of series tested there. A
    dimension's spikes in one period are a storm when there are at least
    `min_series` of them, or at least `min_share` of the tested series (and more
    than one: a single spike is never a storm). Order is kept within each.
    """
    together: defaultdict[tuple[str, str], list[S]] = defaultdict(list)
    for spike in spikes:
        together[(spike.dimension, spike.period)].append(spike)
    storms = []
    for (dimension, period), members in together.items():
        count = tested.get((dimension, period), len(members))
        if len(members) >= min_series or 1 < len(members) >= min_share * count:
            storms.append(Storm(dimension, period, tuple(members), count))
    stormy = {(storm.dimension, storm.period) for storm in storms}
    return [spike for spike in spikes if (spike.dimension, spike.period) not in stormy], storms


def one_broad_rise(alone: Sequence[S],
                   storms: Sequence[Storm[S]]) -> tuple[list[S], list[Storm[S]]]:
    """While anything storms, the rise is one fact: the storm of the largest share of its
    dimension stands for it and takes every other spike in, the other dimensions' storms
    and the spikes that stood alone, of either period, as its `others`.

    A go-live lifts the units, the affected areas and the categories together, today and
    over the week; an alert for each (bench/golive.py: up to four at the flood's peak,
    beside the emerging issues) buried the fault's. A fault's own spike is not lost: its
    emerging issue alerts, and the rise lists the series. Without a storm nothing changes.
    """
    if not storms:
        return list(alone), []
    lead = max(storms, key=lambda storm: (len(storm.spikes) / storm.tested, len(storm.spikes)))
    others = tuple(spike for storm in storms if storm is not lead for spike in storm.spikes)
    return [], [replace(lead, others=others + tuple(alone))]
