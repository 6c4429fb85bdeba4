"""A simulated go-live replayed through the command line: how soon and how cleanly faults surface.

    .venv/bin/python bench/golive.py [--seed 1] [--seeds 1] [--scenarios 3] [--small]

Each scenario (bench/golive_scenario.py) runs on a fresh SQLite database with a
trained model. Its quiet history goes in with one `flask reports import`; then the
live period goes hour by hour: that hour's reports through `reports import`, then
`alerts check --as-of <end of the hour> --json --no-notify`, whose alerts are kept.
Only those two commands touch the data (in-process, through Flask's CLI runner), so
the replay measures what the command-line interfaces show. It prints, per scenario,
for each fault: the hours from its first report to the first moment an alert was
the fault's (at least 3 of its report_ids are the fault's, and they are at least 60%
of them; judged at the first check showing one, from its `raised_at` and the reports
that had arrived by then); 24 hours after its first report, the share of its reports in the
emerging alert holding most of them, and that alert's purity; the most and the median
alerts open at once during the go-live's two flood days; and for the quiet control,
the alerts raised, scaled to 30 days. Then a summary against the goals.
"""

import argparse
import json
import secrets
import sqlite3
import statistics
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.fill import log  # noqa: E402
from bench.golive_scenario import SMALL, Fault, Planned, Scenario, control, go_live, shapes  # noqa: E402

#: An alert is a fault's when at least this many of its reports are, making this share.
FAULT_ALERT_REPORTS = 3
FAULT_ALERT_SHARE = 0.6
#: Hours after a fault's first report at which its grouping is judged.
GROUPING_AFTER_HOURS = 24


class CommandFailed(RuntimeError):
    """A command of the replay exited with an error or printed what the interface does not."""


@dataclass(frozen=True)
class Snapshot:
    """The open alerts printed by one `alerts check`."""

    as_of: datetime
    alerts: list[dict]


@dataclass
class Replay:
    scenario: Scenario
    #: Each imported report's id: its truth ("quiet", "flood:THEME", "fault:NAME") and time.
    truth: dict[int, str]
    arrived: dict[int, datetime]
    snapshots: list[Snapshot]


def run(runner, args: list[str], cli=None) -> list[str]:
    """Run a command in-process; the JSON lines it printed on standard output."""
    result = runner.invoke(cli, args=args)
    if result.exit_code != 0:
        raise CommandFailed(f"flask {' '.join(args)} exited with {result.exit_code}:\n"
                            f"{result.output[-3000:]}") from result.exception
    return [line for line in result.stdout.splitlines() if line.startswith("{")]


def import_reports(runner, reports: list[Planned], folder: Path) -> list[int]:
    """Import `reports` with one `reports import --create-units`; their ids, in order."""
    path = folder / "reports.jsonl"
    with open(path, "w", encoding="utf-8") as handle:
        for report in reports:
            handle.write(json.dumps(report.line(), ensure_ascii=False) + "\n")
    rows = [json.loads(line)
            for line in run(runner, ["reports", "import", str(path), "--create-units"])]
    if [row["line"] for row in rows] != list(range(1, len(reports) + 1)):
        raise CommandFailed(f"reports import printed {len(rows)} lines for {len(reports)} "
                            "reports, or not in input order")
    return [row["id"] for row in rows]


def check_alerts(runner, as_of: datetime) -> list[dict]:
    lines = run(runner, ["alerts", "check", "--as-of", as_of.isoformat(timespec="seconds"),
                         "--json", "--no-notify"])
    return [json.loads(line) for line in lines]


def steps(scenario: Scenario, step_hours: int) -> Iterator[tuple[datetime, datetime]]:
    for offset in range(0, scenario.hours, step_hours):
        start = scenario.start + timedelta(hours=offset)
        yield start, min(start + timedelta(hours=step_hours),
                         scenario.start + timedelta(hours=scenario.hours))


def replay(app, scenario: Scenario, step_hours: int = 1) -> Replay:
    """Feed `scenario` to `app` through its commands; every check's open alerts."""
    runner = app.test_cli_runner()
    outcome = Replay(scenario, {}, {}, [])
    with tempfile.TemporaryDirectory() as folder:
        _record(outcome, scenario.history, import_reports(runner, scenario.history, Path(folder)))
        for start, end in steps(scenario, step_hours):
            batch = [report for report in scenario.live if start <= report.at < end]
            if batch:
                _record(outcome, batch, import_reports(runner, batch, Path(folder)))
            outcome.snapshots.append(Snapshot(end, check_alerts(runner, end)))
    return outcome


def _record(outcome: Replay, reports: list[Planned], ids: list[int]) -> None:
    for report, report_id in zip(reports, ids, strict=True):
        outcome.truth[report_id] = report.truth
        outcome.arrived[report_id] = report.at


# The figures.

@dataclass(frozen=True)
class FaultFigures:
    scenario: str
    fault: str
    units: int
    reports: int  # in its first 24 hours
    hours: float | None  # to its first alert
    share: float | None
    purity: float | None


@dataclass(frozen=True)
class ScenarioFigures:
    name: str
    faults: list[FaultFigures]
    alerts_raised: int
    open_max: int | None
    open_median: float | None
    quiet_days: float | None  # the control's evaluated days
    false_per_30_days: float | None


def fault_reports(outcome: Replay, fault: Fault, until: datetime | None = None) -> set[int]:
    return {report_id for report_id, truth in outcome.truth.items()
            if truth == f"fault:{fault.name}"
            and (until is None or outcome.arrived[report_id] < until)}


def is_faults(report_ids: list[int], fault_ids: set[int]) -> bool:
    """Whether an alert about `report_ids` is the fault's (see FAULT_ALERT_REPORTS)."""
    hits = len(fault_ids.intersection(report_ids))
    return hits >= FAULT_ALERT_REPORTS and hits >= FAULT_ALERT_SHARE * len(report_ids)


def hours_to_alert(outcome: Replay, fault: Fault) -> float | None:
    """Hours from the fault's first report to the moment an alert first was the fault's.

    That is judged at the first check showing such an alert, from the alert's `raised_at`
    (an alert raised by a submission's alert test carries the report's time) and its
    reports that had arrived by then: the earliest moment from `raised_at` on at which
    those make it the fault's."""
    ids = fault_reports(outcome, fault)
    for snapshot in outcome.snapshots:
        moments = [_became_faults(outcome, alert, ids) for alert in snapshot.alerts]
        if known := [moment for moment in moments if moment is not None]:
            return (min(known) - fault.start).total_seconds() / 3600
    return None


def _became_faults(outcome: Replay, alert: dict, fault_ids: set[int]) -> datetime | None:
    if not is_faults(alert["report_ids"], fault_ids):
        return None
    raised_at = datetime.fromisoformat(alert["raised_at"]).replace(tzinfo=None)
    arrivals = sorted(outcome.arrived[report_id] for report_id in alert["report_ids"])
    for moment in [raised_at] + [arrived for arrived in arrivals if arrived > raised_at]:
        arrived_ids = [report_id for report_id in alert["report_ids"]
                       if outcome.arrived[report_id] <= moment]
        if is_faults(arrived_ids, fault_ids):
            return moment
    return None


def snapshot_at(outcome: Replay, moment: datetime) -> Snapshot | None:
    return next((s for s in outcome.snapshots if s.as_of >= moment), None)


def share_and_purity(outcome: Replay, fault: Fault) -> tuple[float, float] | None:
    """At 24 hours: the fault's share in the emerging alert holding most of its reports, and
    that alert's purity (0, 0 when no emerging alert holds any); None if the replay is shorter."""
    snapshot = snapshot_at(outcome, fault.start + timedelta(hours=GROUPING_AFTER_HOURS))
    if snapshot is None:
        return None
    ids = fault_reports(outcome, fault, until=snapshot.as_of)
    emerging = [alert for alert in snapshot.alerts if alert["kind"] == "emerging"]
    best = max(emerging, key=lambda alert: len(ids.intersection(alert["report_ids"])),
               default=None)
    hits = len(ids.intersection(best["report_ids"])) if best else 0
    if not hits:
        return 0.0, 0.0
    return hits / len(ids), hits / len(best["report_ids"])


def fault_figures(outcome: Replay) -> list[FaultFigures]:
    figures = []
    for fault in outcome.scenario.faults:
        grouping = share_and_purity(outcome, fault)
        day = fault.start + timedelta(hours=GROUPING_AFTER_HOURS)
        figures.append(FaultFigures(
            scenario=outcome.scenario.name, fault=fault.name, units=len(fault.units),
            reports=len(fault_reports(outcome, fault, until=day)),
            hours=hours_to_alert(outcome, fault),
            share=grouping[0] if grouping else None, purity=grouping[1] if grouping else None))
    return figures


def flood_snapshots(outcome: Replay) -> list[Snapshot]:
    flood = outcome.scenario.flood
    if flood is None:
        return []
    return [s for s in outcome.snapshots if flood[0] < s.as_of <= flood[1]]


def raised(outcome: Replay) -> set:
    return {alert["id"] for snapshot in outcome.snapshots for alert in snapshot.alerts}


def scenario_figures(outcome: Replay) -> ScenarioFigures:
    counts = [len(snapshot.alerts) for snapshot in flood_snapshots(outcome)]
    quiet = outcome.scenario.flood is None and not outcome.scenario.faults
    days = outcome.scenario.hours / 24
    return ScenarioFigures(
        name=outcome.scenario.name, faults=fault_figures(outcome),
        alerts_raised=len(raised(outcome)), open_max=max(counts, default=None),
        open_median=statistics.median(counts) if counts else None,
        quiet_days=days if quiet else None,
        false_per_30_days=len(raised(outcome)) * 30 / days if quiet else None)


def dominant_truth(outcome: Replay, alert: dict) -> str:
    """What most of an alert's reports truly are about, with their share."""
    truths = Counter(outcome.truth.get(i, "?") for i in alert["report_ids"])
    if not truths:
        return "no reports"
    truth, count = truths.most_common(1)[0]
    return f"{truth} {count}/{sum(truths.values())}"


def peak_alerts(outcome: Replay) -> list[str]:
    """The alerts open at the flood's busiest check (in the control: every alert, when it
    first showed): kind, title, what they are about."""
    snapshots = flood_snapshots(outcome)
    if snapshots:
        peak = max(snapshots, key=lambda snapshot: len(snapshot.alerts))
        shown = [(peak.as_of, alert) for alert in peak.alerts]
    else:
        first: dict[int, tuple[datetime, dict]] = {}
        for snapshot in outcome.snapshots:
            for alert in snapshot.alerts:
                first.setdefault(alert["id"], (snapshot.as_of, alert))
        shown = list(first.values())
    return [f"  {as_of:%m-%d %H:%M} {alert['kind']:<8} {alert['title'][:60]:<60} "
            f"{dominant_truth(outcome, alert)}" for as_of, alert in shown]


# Running it.

def bench_app(database: Path):
    from app import create_app
    from config import Config, TestingConfig

    # Cheap hashes, as the tests have them: a receipt's scrypt hash costs 0.1 s a report,
    # which would make the import, not the grouping, the replay's work.
    return create_app(Config, SQLALCHEMY_DATABASE_URI=f"sqlite:///{database}",
                      SECRET_KEY=secrets.token_hex(32), WARM_UP_MODEL=False,
                      RATELIMIT_STORAGE_URI="memory://",
                      PASSWORD_HASH_METHOD=TestingConfig.PASSWORD_HASH_METHOD)


def dispose(app) -> None:
    from models import db

    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def template_database(folder: Path) -> Path:
    """An empty database at the latest migration with a trained, active model."""
    from flask_migrate.cli import db as migration_commands

    path = folder / "template.sqlite"
    app = bench_app(path)
    runner = app.test_cli_runner()
    run(runner, ["upgrade"], cli=migration_commands)
    log("training the model (flask ml ensure-model)")
    run(runner, ["ml", "ensure-model"])
    dispose(app)
    return path


def copy_database(template: Path, path: Path) -> None:
    source, target = sqlite3.connect(template), sqlite3.connect(path)
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()


def replay_fresh(scenario: Scenario, template: Path, folder: Path, step_hours: int) -> Replay:
    database = folder / f"{scenario.name.replace(' ', '-')}.sqlite"
    copy_database(template, database)
    app = bench_app(database)
    log(f"{scenario.name}: {len(scenario.history)} reports of history, "
        f"{len(scenario.live)} in {scenario.hours} hours, checked every {step_hours} h")
    try:
        return replay(app, scenario, step_hours)
    finally:
        dispose(app)
        database.unlink()


def scenarios(seed: int, count: int, small: bool, quiet_days: int) -> list[Scenario]:
    if small:
        return [go_live(seed, 0, SMALL), control(seed, history_days=5, quiet_days=quiet_days,
                                                 units=SMALL.units)]
    return [*(go_live(seed, index, shape) for index, shape in enumerate(shapes(seed, count))),
            control(seed, quiet_days=quiet_days)]


def hours_text(value: float | None) -> str:
    return "none" if value is None else f"{value:.1f}"


def ratio_text(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def print_seed(seed: int, results: list[tuple[Replay, ScenarioFigures]], verbose: bool) -> None:
    print(f"\nSeed {seed}")
    print(f"{'scenario':<14} {'fault':<10} {'units':>5} {'reports 24h':>11} "
          f"{'first alert h':>13} {'share 24h':>9} {'purity':>6}")
    for _, figures in results:
        for fault in figures.faults:
            print(f"{fault.scenario:<14} {fault.fault:<10} {fault.units:>5} {fault.reports:>11} "
                  f"{hours_text(fault.hours):>13} {ratio_text(fault.share):>9} "
                  f"{ratio_text(fault.purity):>6}")
    print(f"\n{'scenario':<14} {'alerts raised':>13} {'open in flood, max':>18} "
          f"{'median':>6} {'false alarms / 30 days':>22}")
    for outcome, figures in results:
        print(f"{figures.name:<14} {figures.alerts_raised:>13} "
              f"{'-' if figures.open_max is None else figures.open_max:>18} "
              f"{'-' if figures.open_median is None else figures.open_median:>6} "
              f"{ratio_text(figures.false_per_30_days):>22}")
        if verbose:
            print("\n".join(peak_alerts(outcome)))


def verdict(passed: bool) -> str:
    return "PASS" if passed else "MISS"


def print_summary(all_figures: list[ScenarioFigures]) -> None:
    faults = [fault for figures in all_figures for fault in figures.faults]
    hours = [fault.hours for fault in faults]
    found = sorted(h for h in hours if h is not None)
    grouped = [f for f in faults if (f.share or 0) >= 0.9 and (f.purity or 0) >= 0.9]
    opened = [f.open_max for f in all_figures if f.open_max is not None]
    quiet = [f for f in all_figures if f.quiet_days]
    false_alarms = sum(f.alerts_raised for f in quiet) * 30 / sum(f.quiet_days for f in quiet)
    print("\nSummary")
    print(f"  first alert that is the fault's (goal <= 6 h, aim 3): median "
          f"{hours_text(statistics.median(found) if found else None)} h, worst "
          f"{hours_text(found[-1] if found else None)} h, {len(hours) - len(found)} of "
          f"{len(hours)} faults never alerted: "
          f"{verdict(len(found) == len(hours) and found[-1] <= 6)}")
    print(f"  fault in one emerging issue at 24 h (goal share >= 0.9 at purity >= 0.9): "
          f"{len(grouped)} of {len(faults)} faults, share median "
          f"{ratio_text(statistics.median(f.share or 0 for f in faults))}, purity median "
          f"{ratio_text(statistics.median(f.purity or 0 for f in faults))}: "
          f"{verdict(len(grouped) == len(faults))}")
    print(f"  alerts open at once in the flood (goal: a handful, read as <= 5): most "
          f"{max(opened)}, median of the scenarios' most {statistics.median(opened)}: "
          f"{verdict(max(opened) <= 5)}")
    print(f"  false alarms per 30 quiet days (goal <= 1): {false_alarms:.2f}: "
          f"{verdict(false_alarms <= 1)}")
    print("  (share and purity are read from the open emerging alerts' report_ids: the CLI has "
          "no query for emerging issues that have not alerted)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--seeds", type=int, default=1, help="seeds from --seed on")
    parser.add_argument("--scenarios", type=int, default=3, help="go-live scenarios per seed")
    parser.add_argument("--small", action="store_true", help="one small go-live and control")
    parser.add_argument("--quiet-days", type=int, default=35,
                        help="days of the control replayed after its 4 weeks of history")
    parser.add_argument("--control-step", type=int, default=3,
                        help="hours between two alert checks in the control")
    parser.add_argument("--verbose", action="store_true",
                        help="list the alerts open at the flood's busiest check")
    args = parser.parse_args()
    quiet_days = min(args.quiet_days, 5) if args.small else args.quiet_days
    all_figures = []
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        template = template_database(folder)
        for seed in range(args.seed, args.seed + args.seeds):
            results = []
            for scenario in scenarios(seed, args.scenarios, args.small, quiet_days):
                step = args.control_step if scenario.flood is None else 1
                outcome = replay_fresh(scenario, template, folder, step)
                results.append((outcome, scenario_figures(outcome)))
            print_seed(seed, results, args.verbose)
            all_figures += [figures for _, figures in results]
    print_summary(all_figures)


if __name__ == "__main__":
    main()
