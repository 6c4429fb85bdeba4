"""A small go-live replayed through `reports import` and `alerts check` (bench/golive.py --small).

Eight units, five quiet days, a go-live flood and one fault (lab results from the
pneumatic tube post not reaching the record) in two units, hour by hour through the
real commands. It guards the capability the issue asks for: the fault alerts within
six hours and lands in one emerging issue, nearly all of it and nearly nothing else.
"""

from datetime import timedelta

from bench.golive import fault_figures, replay, scenario_figures
from bench.golive_scenario import SMALL, go_live

ALERT_KEYS = {"id", "kind", "title", "raised_at", "units", "categories", "report_ids",
              "evidence"}


def test_a_small_go_live_through_the_commands_finds_its_fault(app, active_model):
    outcome = replay(app, go_live(1, 0, SMALL))
    scenario = outcome.scenario
    # Every report was imported once, and every hour checked.
    assert len(outcome.truth) == len(scenario.history) + len(scenario.live)
    assert [s.as_of for s in outcome.snapshots] == [
        scenario.start + timedelta(hours=hour) for hour in range(1, scenario.hours + 1)]
    # The alerts follow the interface and count no report submitted after the check.
    alerts = [(s.as_of, alert) for s in outcome.snapshots for alert in s.alerts]
    assert alerts
    for as_of, alert in alerts:
        assert set(alert) == ALERT_KEYS
        assert alert["kind"] in {"emerging", "spike"}
        assert all(outcome.arrived[i] < as_of for i in alert["report_ids"])
    # The fault alerts within six hours and is one emerging issue a day after it began.
    [fault] = fault_figures(outcome)
    assert fault.reports >= 10
    assert fault.hours is not None and fault.hours <= 6
    assert fault.share >= 0.9 and fault.purity >= 0.9
    # The flood's open alerts are counted (the fault's among them).
    assert scenario_figures(outcome).open_max >= 1
