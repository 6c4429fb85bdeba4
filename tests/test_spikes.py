"""The spike detector on synthetic series whose change (or lack of one) is known."""

from datetime import date, timedelta

import numpy as np
import pytest
from scipy.stats import binom

from trends.spikes import (
    ALPHA,
    DAILY,
    WEEKLY,
    binomial_upper_tail,
    detect_spikes,
    poisson_spike_test,
    recent_spike_tests,
)

BASELINE = 28


def poisson_series(seed: int, rate: float, current_rate: float | None = None) -> list[int]:
    """28 baseline periods at `rate`, then one at `current_rate` (default: the same)."""
    rng = np.random.default_rng(seed)
    counts = rng.poisson(rate, BASELINE).tolist()
    return [*counts, int(rng.poisson(rate if current_rate is None else current_rate))]


@pytest.mark.parametrize(("k", "n", "p"), [
    (0, 10, 0.1), (1, 10, 0.1), (5, 5, 1 / 29), (17, 33, 1 / 9), (3, 100, 0.05),
    (10, 100, 0.05), (50, 1000, 0.0345), (200, 5000, 1 / 29), (30, 5000, 1 / 29),
    (400, 5000, 1 / 29), (11, 10, 0.5), (3, 10, 0.0), (3, 10, 1.0),
])
def test_the_binomial_tail_is_exact_even_when_tiny(k, n, p):
    expected = binom.sf(k - 1, n, p)
    assert binomial_upper_tail(k, n, p) == pytest.approx(expected, rel=1e-9, abs=1e-300)


def test_a_clear_spike_fires_with_its_evidence():
    baseline = [2, 3, 1, 4, 2, 3, 2, 2, 5, 1, 3, 2, 2, 3, 4, 2, 1, 3, 2, 2, 3, 1, 2, 4, 3, 2, 2, 3]
    test = poisson_spike_test("ward 12", baseline, 20)
    assert test.spike
    assert test.key == "ward 12" and test.observed == 20 and test.baseline_periods == 28
    assert test.baseline_mean == pytest.approx(sum(baseline) / 28)
    assert test.ratio == pytest.approx(20 / (sum(baseline) / 28))
    # Given the 20 + 70 reports, each fell in the current period with chance 1/29.
    assert test.p_value == pytest.approx(binom.sf(19, 20 + sum(baseline), 1 / 29))
    assert test.p_value < test.threshold == ALPHA


def test_it_fires_on_most_fivefold_rises():
    fired = sum(poisson_spike_test(seed, (s := poisson_series(seed, 5, 25))[:-1], s[-1]).spike
                for seed in range(300))
    assert fired >= 285


@pytest.mark.parametrize("rate", [0.2, 1, 3, 20, 200])
def test_poisson_noise_raises_no_alarm_over_many_seeds(rate):
    alarms = [seed for seed in range(400)
              if poisson_spike_test(seed, (s := poisson_series(seed, rate))[:-1], s[-1]).spike]
    # At the level 0.001 one false alarm in 400 would already be unlucky.
    assert len(alarms) <= 1


def test_a_quiet_or_empty_series_is_no_spike():
    empty = poisson_spike_test("empty", [0] * 28, 0)
    assert not empty.spike and empty.p_value == 1.0 and empty.ratio is None
    steady = poisson_spike_test("steady", [4] * 28, 4)
    assert not steady.spike and steady.p_value > 0.3


def test_a_handful_of_reports_is_no_alert_however_unusual():
    few = poisson_spike_test("new", [0] * 28, 4)
    assert few.p_value < 1e-5 and not few.spike
    assert poisson_spike_test("new", [0] * 28, 5).spike


def test_a_small_steady_rise_on_a_large_series_is_no_alert():
    busy_monday = poisson_spike_test("all", [1000] * 28, 1200)
    assert busy_monday.p_value < 1e-6 and busy_monday.ratio == pytest.approx(1.2)
    assert not busy_monday.spike


def test_the_level_is_divided_by_the_number_of_tests():
    alone = poisson_spike_test("x", [2] * 28, 10)
    assert ALPHA / 100 < alone.p_value < ALPHA and alone.spike
    among_many = poisson_spike_test("x", [2] * 28, 10, tests=100)
    assert among_many.threshold == pytest.approx(ALPHA / 100) and not among_many.spike


def test_detect_spikes_tests_the_last_period_of_every_series():
    quiet = [3] * 40
    spiking = [3] * 39 + [30]
    tests = detect_spikes({"quiet": quiet, "spiking": spiking, "zero": [0] * 29}, BASELINE)
    assert next(t.key for t in tests) == "spiking" and tests[0].spike
    assert [t.key for t in tests if t.spike] == ["spiking"]
    assert all(t.baseline_periods == BASELINE and t.threshold == pytest.approx(ALPHA / 3)
               for t in tests)
    # Only the 28 periods before the last are the baseline, not older ones.
    older = detect_spikes({"x": [100] * 10 + [3] * 28 + [30]}, BASELINE)[0]
    assert older.baseline_mean == 3 and older.spike


@pytest.mark.parametrize(("baseline", "observed", "message"), [
    ([], 3, "at least one period"),
    ([1, -1], 3, "negative"),
    ([1, 1], -3, "negative"),
])
def test_bad_counts_are_refused(baseline, observed, message):
    with pytest.raises(ValueError, match=message):
        poisson_spike_test("x", baseline, observed)


def test_a_series_shorter_than_its_baseline_is_refused():
    with pytest.raises(ValueError, match="shorter than its baseline"):
        detect_spikes({"short": [1] * 28}, BASELINE)


TODAY = date(2026, 3, 4)


def test_a_window_sums_its_spans_back_from_today():
    per_day = {TODAY - timedelta(days=n): n for n in range(70)}
    daily = DAILY.counts(per_day, TODAY)
    assert daily == list(range(28, -1, -1))
    weekly = WEEKLY.counts(per_day, TODAY)
    assert len(weekly) == 9 and weekly[-1] == sum(range(7)) and weekly[0] == sum(range(56, 63))
    assert (DAILY.reach, WEEKLY.reach) == (28, 62)
    assert DAILY.counts({}, TODAY) == [0] * 29


@pytest.mark.parametrize(("history_days", "daily_wait", "weekly_wait"), [
    (0, 28, 62), (9, 19, 53), (27, 1, 35), (28, 0, 34), (61, 0, 1), (62, 0, 0), (400, 0, 0),
])
def test_a_test_waits_until_its_baseline_lies_within_the_history(history_days, daily_wait,
                                                                 weekly_wait):
    history_from = TODAY - timedelta(days=history_days)
    assert DAILY.days_to_wait(history_from, TODAY) == daily_wait
    assert WEEKLY.days_to_wait(history_from, TODAY) == weekly_wait


def test_only_the_tests_with_a_full_baseline_are_made_and_counted():
    spiking = {TODAY - timedelta(days=n): 3 for n in range(1, 40)} | {TODAY: 30}
    series = {"spiking": spiking, "quiet": {TODAY - timedelta(days=n): 3 for n in range(40)}}
    # The days before the first report are no quiet days: nothing is tested yet.
    assert recent_spike_tests(series, TODAY, TODAY - timedelta(days=27)) == []
    assert recent_spike_tests(series, TODAY, None) == []
    # 39 days of history: the daily tests only, so m is 2 and not 4.
    made = recent_spike_tests(series, TODAY, TODAY - timedelta(days=39))
    assert [(period, test.key, test.spike) for period, test in made] == [
        ("day", "spiking", True), ("day", "quiet", False)]
    assert all(test.threshold == pytest.approx(ALPHA / 2) for _, test in made)
    # With the history of the weekly test too, both periods of both series are tested.
    made = recent_spike_tests(series, TODAY, TODAY - timedelta(days=62))
    assert sorted((period, test.key) for period, test in made) == [
        ("day", "quiet"), ("day", "spiking"), ("week", "quiet"), ("week", "spiking")]
    assert made[0][1].spike and all(test.threshold == pytest.approx(ALPHA / 4)
                                    for _, test in made)
