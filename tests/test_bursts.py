"""The emerging-issue alert rule and the storm collapse (trends/bursts.py): pure, no database."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import product

import pytest

from trends.bursts import (
    Arrival,
    BurstRule,
    burst_test,
    collapse_storms,
    effective_units,
    few_units_by_chance,
    in_window,
    one_broad_rise,
)
from trends.spikes import binomial_upper_tail

NOON = datetime(2026, 5, 4, 12)


def arrivals(*hours_ago: int, units: str = "ab", reporters=None) -> list[Arrival]:
    """One arrival per hour given, the units taken in turn from `units`."""
    return [Arrival(NOON - timedelta(hours=h), units[i % len(units)],
                    None if reporters is None else reporters[i % len(reporters)])
            for i, h in enumerate(hours_ago)]


def test_a_new_topic_alerts_on_four_reports_from_two_units_within_the_window():
    test = burst_test(arrivals(0, 3, 5, 7), baseline=0, as_of=NOON)
    assert test.alert and test.is_new_topic
    assert (test.observed, test.units, test.ratio) == (4, 2, None)


def test_three_reports_are_not_yet_an_alert():
    assert not burst_test(arrivals(0, 3, 7), baseline=0, as_of=NOON).alert


def test_one_unit_and_anonymous_reporters_are_one_source():
    assert not burst_test(arrivals(0, 1, 2, 3, units="a"), baseline=0, as_of=NOON).alert


def test_one_unit_with_two_named_reporters_is_two_sources():
    test = burst_test(arrivals(0, 1, 2, 3, units="a", reporters=[7, 8]), baseline=0,
                      as_of=NOON)
    assert test.alert and (test.units, test.reporters) == (1, 2)


def test_one_named_reporter_repeating_in_one_unit_is_one_voice():
    assert not burst_test(arrivals(0, 1, 2, units="a", reporters=[7]), baseline=0,
                          as_of=NOON).alert


def test_only_the_window_ending_at_as_of_counts():
    spread = arrivals(0, 13, 20, 30)
    assert [a.hour for a in in_window(spread, NOON)] == [NOON]
    assert not burst_test(spread, baseline=0, as_of=NOON).alert
    # Reports after the moment tested do not count either.
    later = arrivals(-1, -2, -3, -4)
    assert burst_test(later, baseline=0, as_of=NOON).observed == 0
    assert burst_test(later, baseline=0, as_of=NOON + timedelta(hours=4)).alert


def test_a_known_kind_needs_a_significant_rise_over_its_baseline():
    rule = BurstRule()
    share = rule.window_hours / (rule.window_hours + rule.baseline_hours)
    # 56 like reports in 28 days: one expected in 12 hours. Four is not enough.
    usual = burst_test(arrivals(0, 1, 2, 3), baseline=56, as_of=NOON)
    assert usual.expected == pytest.approx(1.0)
    assert usual.p_value == pytest.approx(binomial_upper_tail(4, 60, share))
    assert not usual.alert
    # Twelve in twelve hours is far beyond what the baseline rate gives.
    burst = burst_test(arrivals(*range(12)), baseline=56, as_of=NOON)
    assert burst.alert and burst.ratio == pytest.approx(12.0)
    assert burst.p_value < burst.threshold == rule.alpha


def test_bonferroni_divides_the_level_by_the_groups_tested():
    burst = arrivals(*range(6))
    alone = burst_test(burst, baseline=20, as_of=NOON)
    crowd = burst_test(burst, baseline=20, as_of=NOON, tests=1000)
    assert alone.alert and not crowd.alert
    assert crowd.threshold == pytest.approx(alone.threshold / 1000)


def test_the_ratio_floor_holds_even_when_significant():
    # A very common kind: 4 x 672 in 28 days, 48 expected in 12 hours; 80 is significant
    # but not three times as many.
    test = burst_test(arrivals(*[h % 12 for h in range(80)]), baseline=4 * 672, as_of=NOON,
                      )
    assert test.p_value < test.threshold
    assert test.ratio < 3 and not test.alert


def test_a_negative_baseline_is_refused():
    with pytest.raises(ValueError, match="negative"):
        burst_test([], baseline=-1, as_of=NOON)


@dataclass(frozen=True)
class Spike:
    dimension: str
    value: str
    period: str = "day"


def test_many_units_spiking_at_once_are_one_broad_rise():
    units = [Spike("unit", f"Avdelning {i}") for i in range(5)]
    area = Spike("area", "login")
    weekly = Spike("unit", "Avdelning 1", "week")
    alone, storms = collapse_storms([units[0], area, *units[1:], weekly],
                                    {("unit", "day"): 20, ("area", "day"): 8})
    assert alone == [area, weekly]
    [storm] = storms
    assert (storm.dimension, storm.period, storm.tested) == ("unit", "day", 20)
    assert storm.spikes == tuple(units)


def test_while_anything_storms_every_spike_is_part_of_one_broad_rise():
    units = [Spike("unit", f"Avdelning {i}") for i in range(4)]
    areas = [Spike("area", "login"), Spike("area", "records"), Spike("area", "other")]
    weekly = Spike("category", "training", "week")
    tested = {("unit", "day"): 20, ("area", "day"): 4, ("category", "week"): 4}
    alone, storms = one_broad_rise(*collapse_storms([*units, *areas, weekly], tested))
    assert alone == []
    [rise] = storms
    # The areas' storm is the larger share of its dimension (3 of 4 against 4 of 20).
    assert (rise.dimension, rise.spikes) == ("area", tuple(areas))
    assert rise.others == (*units, weekly) and rise.series == (*areas, *units, weekly)
    # Without a storm the spikes stand alone.
    assert one_broad_rise(*collapse_storms([units[0], weekly], tested)) == ([units[0], weekly], [])


def test_two_spikes_are_a_storm_only_when_they_are_a_large_share():
    two = [Spike("unit", "A"), Spike("unit", "B")]
    assert collapse_storms(two, {("unit", "day"): 3})[1][0].spikes == tuple(two)
    assert collapse_storms(two, {("unit", "day"): 10}) == (two, [])
    # A single spike is never a storm, even when its dimension has one series.
    assert collapse_storms(two[:1], {("unit", "day"): 1}) == (two[:1], [])


# Local or spread ----------------------------------------------------------------------------

@pytest.mark.parametrize(("reports", "units", "reporting"),
                         [(4, 2, 5), (4, 3, 6), (5, 3, 4), (6, 2, 3), (3, 1, 7)])
def test_the_chance_of_so_few_units_is_what_counting_every_case_gives(reports, units,
                                                                       reporting):
    cases = list(product(range(reporting), repeat=reports))
    few = sum(len(set(case)) <= units for case in cases)
    assert few_units_by_chance(reports, units, reporting) == pytest.approx(few / len(cases))


def test_four_reports_of_twenty_units_land_in_three_or_fewer_a_quarter_of_the_time():
    assert few_units_by_chance(4, 3, 20) == pytest.approx(0.27325)
    assert few_units_by_chance(4, 2, 20) == pytest.approx(2680 / 20**4)
    assert few_units_by_chance(6, 3, 20) < 0.01  # two more reports from the same three


def test_as_many_units_as_reports_or_as_are_reporting_is_no_evidence():
    assert few_units_by_chance(4, 4, 20) == 1.0
    assert few_units_by_chance(9, 3, 2.5) == 1.0
    with pytest.raises(ValueError):
        few_units_by_chance(-1, 2, 10)


def test_effective_units_count_busy_units_as_few():
    assert effective_units([5, 5, 5, 5]) == 4
    assert effective_units([10, 1, 1]) == pytest.approx(144 / 102)
    assert effective_units([]) == 0
