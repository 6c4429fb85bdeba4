"""Spike alerts: is the count in the latest period significantly above its own baseline?

Method
------
For one series (the reports of a category, a unit or an affected area) let ``x`` be
the count in the current period (the last day, or the last seven days, both ending
today) and ``y_1 .. y_N`` the counts in the N periods just before it (28 days, or
8 weeks). If reports arrive as a Poisson process whose rate did not change, then
given the total ``n = x + sum(y)`` the current count is binomial:

    x | n  ~  Binomial(n, 1 / (N + 1))

so the one-sided p-value ``P(X >= x)`` is exact and needs no estimate of the rate
(the conditional test of two Poisson rates, Przyborowski and Wilenski 1940). Unlike
plugging the baseline mean in as if it were the true rate, it allows for the
baseline's own uncertainty, and a series that was silent for weeks needs no
made-up floor.

A series is flagged when all of these hold:

- ``x >= min_count`` (default 5): a handful of reports is not an alert, however
  unusual;
- ``x / baseline mean >= min_ratio`` (default 1.5): on a large series a small
  steady rise (a busy Monday after a quiet weekend) is "significant" but no news;
- ``p < alpha / m`` with alpha 0.001 and m the number of tests made on the page
  (Bonferroni): with dozens of series tested every day, a false alarm stays rare.

Assumptions and limits: reports are independent and the rate is steady over the
baseline window. Weekday and holiday rhythms and reports about one fault that
arrive in clusters break this (the counts are overdispersed); the ratio floor and
the strict level keep such ordinary swings quiet, but a slow drift over weeks is
absorbed into the baseline and is never flagged. The current period ends today, so
today's count is partial: that makes the test conservative (it fires later, never
falsely because of it). A new fault that also makes the baseline window busy
(a spike lasting longer than the baseline) stops being flagged.

History
-------
Before the first report there is nothing to compare with: a day before it is not
a quiet day. A test whose baseline window reaches back before the start of the
history (the day of the first report) is therefore not made at all, and does not
count towards m. See `recent_spike_tests`.
"""

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

#: Defaults of the overview's alerts (see the module docstring).
ALPHA = 0.001
MIN_COUNT = 5
MIN_RATIO = 1.5


@dataclass(frozen=True)
class Window:
    """One kind of spike test: the last `days` days against the `baseline` spans before them."""

    #: "day" or "week".
    period: str
    days: int
    baseline: int

    @property
    def reach(self) -> int:
        """How many days before today the baseline's first day lies."""
        return self.days * (self.baseline + 1) - 1

    def counts(self, per_day: Mapping[date, int], today: date) -> list[int]:
        """The baseline spans and then the current one (ending today), oldest first."""
        return [sum(per_day.get(today - timedelta(days=self.days * span + d), 0)
                    for d in range(self.days))
                for span in range(self.baseline, -1, -1)]

    def days_to_wait(self, history_from: date, today: date) -> int:
        """Days until the baseline lies wholly on or after `history_from`; 0 once it does."""
        return max(0, (history_from - (today - timedelta(days=self.reach))).days)


#: The overview's two tests: today against the 28 days before, the last 7 days
#: against the 8 weeks before.
DAILY = Window("day", days=1, baseline=28)
WEEKLY = Window("week", days=7, baseline=8)
WINDOWS = (DAILY, WEEKLY)


@dataclass(frozen=True)
class SpikeTest:
    """The evidence of one test: a series' current count against its baseline."""

    key: Hashable
    observed: int
    #: Mean count per period over the baseline periods.
    baseline_mean: float
    baseline_periods: int
    p_value: float
    #: The level p had to be under (alpha / number of tests).
    threshold: float
    spike: bool

    @property
    def ratio(self) -> float | None:
        """Observed over the baseline mean; None when the baseline was empty."""
        return self.observed / self.baseline_mean if self.baseline_mean else None


def binomial_upper_tail(k: int, n: int, p: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p), accurate also when it is tiny."""
    if k <= 0:
        return 1.0
    if k > n:
        return 0.0
    if p <= 0.0:
        return 0.0
    if p >= 1.0:
        return 1.0
    if k <= n * p:
        # The tail holds the bulk of the mass: one minus the small lower tail.
        return max(0.0, 1.0 - _binomial_sum(k - 1, n, p, step=-1))
    return min(1.0, _binomial_sum(k, n, p, step=1))


def _binomial_sum(start: int, n: int, p: float, step: int) -> float:
    """Sum of the binomial probabilities from `start` away from the mode (step +1 or -1).

    Past the mode the terms shrink geometrically, so the sum stops once they no
    longer change it.
    """
    log_term = (math.lgamma(n + 1) - math.lgamma(start + 1) - math.lgamma(n - start + 1)
                + start * math.log(p) + (n - start) * math.log1p(-p))
    term, total, i = math.exp(log_term), 0.0, start
    odds = p / (1.0 - p)
    while 0 <= i <= n:
        total += term
        if term <= total * 1e-17:
            break
        if step > 0:
            term *= (n - i) / (i + 1) * odds
        else:
            term *= i / (n - i + 1) / odds
        i += step
    return total


def poisson_spike_test(key: Hashable, baseline: Sequence[int], observed: int, *, tests: int = 1,
                       alpha: float = ALPHA, min_count: int = MIN_COUNT,
                       min_ratio: float = MIN_RATIO) -> SpikeTest:
    """Test `observed` (the current period) against the `baseline` periods before it.

    `tests` is how many series are tested together (for the Bonferroni correction).
    """
    if not baseline:
        raise ValueError("the baseline needs at least one period")
    if observed < 0 or any(count < 0 for count in baseline):
        raise ValueError("counts cannot be negative")
    periods = len(baseline)
    mean = sum(baseline) / periods
    p_value = binomial_upper_tail(observed, observed + sum(baseline), 1 / (periods + 1))
    threshold = alpha / max(tests, 1)
    spike = (observed >= min_count and p_value < threshold
             and (mean == 0 or observed / mean >= min_ratio))
    return SpikeTest(key=key, observed=observed, baseline_mean=mean, baseline_periods=periods,
                     p_value=p_value, threshold=threshold, spike=spike)


def detect_spikes(series: Mapping[Hashable, Sequence[int]], baseline_periods: int, *,
                  tests: int | None = None, alpha: float = ALPHA, min_count: int = MIN_COUNT,
                  min_ratio: float = MIN_RATIO) -> list[SpikeTest]:
    """Test the last value of each series against the `baseline_periods` values before it.

    Every series must hold at least `baseline_periods + 1` counts, oldest first.
    `tests` is the number of tests made together for the Bonferroni correction
    (default: one per series). Returns every test, spikes first and then by
    p-value, so that a page can show the evidence of the quiet series too.
    """
    results = []
    for key, counts in series.items():
        if len(counts) < baseline_periods + 1:
            raise ValueError(f"series {key!r} is shorter than its baseline plus one period")
        results.append(poisson_spike_test(
            key, counts[-baseline_periods - 1:-1], counts[-1], tests=tests or len(series),
            alpha=alpha, min_count=min_count, min_ratio=min_ratio))
    return sorted(results, key=lambda test: (not test.spike, test.p_value))


def recent_spike_tests(series: Mapping[Hashable, Mapping[date, int]], today: date,
                       history_from: date | None,
                       windows: Sequence[Window] = WINDOWS) -> list[tuple[str, SpikeTest]]:
    """Test the current span of every series against its baseline, in each of `windows`.

    `series` maps a key to its reports per day; `history_from` is the first day with
    reports (None: no report yet). Only the windows whose baseline lies wholly on or
    after `history_from` are tested, so the days before the first report never count as
    quiet ones; m (for Bonferroni) is the number of tests made. Returns (period, test)
    pairs, spikes first and then by p-value.
    """
    ready = [window for window in windows
             if history_from is not None and window.days_to_wait(history_from, today) == 0]
    tests = len(ready) * len(series)
    results = [(window.period, test) for window in ready
               for test in detect_spikes(
                   {key: window.counts(per_day, today) for key, per_day in series.items()},
                   window.baseline, tests=tests)]
    return sorted(results, key=lambda result: (not result[1].spike, result[1].p_value))
