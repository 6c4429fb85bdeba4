"""Server time of the coordination group's pages at a million reports, SQLite and PostgreSQL.

    .venv/bin/python bench/dashboard.py [--reports N] [--database URL ...] [--repeat N]

Fills each database with N reports (bench/fill.py) and indexes them for
similarity, then times, in this one process, through the whole Flask stack
(the test client, a logged-in coordinator):

* the default queue page (open reports, most urgent first);
* a filtered and searched queue page (a word, a category, a unit, all statuses);
* page 500 of the default queue (its keyset cursor found first);
* the overview (charts, heat map, spike alerts);
* a report's page opened from the queue (page 500's last report, the queue's filters
  carried: its previous and next in that queue), and from a filtered queue;
* the similar-reports panel of a report (`similar_reports`);
* the known-issue suggestion for a newly submitted report (`suggest_known_issues`).

Each figure is the median and 95th percentile of --repeat runs after two
warm-ups, and a ratio to "bare SQL": the very SELECT statements the page ran
(captured from the driver) replayed through the driver's own cursor, rows
fetched, nothing else. The ratio is what the application adds on top of the
database's work. The queue's query plan is printed beside the figures. On
SQLite the bench runs no ANALYZE of its own: the app gathers the planner
statistics when it starts, and the bench stops if they are missing.

Without --database it uses a temporary SQLite file; pass e.g.
postgresql://postgres@127.0.0.1:5432/bench for PostgreSQL (the database
must exist; its tables are dropped and created). --database may be repeated.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.fill import PASSWORD, fill, log  # noqa: E402

GOALS_MS = {"queue": 100, "filtered": 100, "page 500": 100, "overview": 300, "report": 100,
            "report filt.": 100, "similar": 100}
COORDINATOR = "bench-coordinator@bench.example"
SEARCH = {"q": "provsvar", "category": "safety", "status": ""}
PAGE_SIZE = 25  # Config.QUEUE_PAGE_SIZE


def percentile(values: list[float], fraction: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[round(fraction * 100) - 1]


class Recorder:
    """Keeps the SELECT statements sent to the driver while it is on."""

    def __init__(self, engine: Any) -> None:
        from sqlalchemy import event

        self.statements: list[tuple[str, Any]] = []
        self.on = False
        event.listen(engine, "before_cursor_execute", self._record)

    def _record(self, _conn, _cursor, statement, parameters, _context, _many) -> None:
        if self.on and statement.lstrip().upper().startswith(("SELECT", "WITH")):
            self.statements.append((statement, parameters))

    def capture(self, action: Callable[[], Any]) -> list[tuple[str, Any]]:
        self.statements, self.on = [], True
        try:
            action()
        finally:
            self.on = False
        return self.statements


def timings_ms(action: Callable[[], Any], repeat: int) -> list[float]:
    for _ in range(2):
        action()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return times


def replay(engine: Any, statements: list[tuple[str, Any]]) -> Callable[[], None]:
    """Run the captured statements through a bare driver cursor, fetching every row."""
    def run() -> None:
        connection = engine.raw_connection()
        try:
            cursor = connection.cursor()
            for statement, parameters in statements:
                cursor.execute(statement, parameters)
                cursor.fetchall()
            cursor.close()
        finally:
            connection.close()
    return run


def bench_app(url: str) -> Any:
    from app import create_app
    from config import Config, database_url

    # The benchmark logs in with a plain POST: no CSRF token, no login throttle.
    return create_app(Config, SQLALCHEMY_DATABASE_URI=database_url(url),
                      SECRET_KEY="bench-secret-not-for-production", WTF_CSRF_ENABLED=False,
                      RATELIMIT_ENABLED=False)


def prepare(url: str, count: int) -> None:
    from sqlalchemy import text

    from app.services.similarity import rebuild_index
    from models import db

    app = bench_app(url)
    with app.app_context():
        log(f"filling {url.split('@')[-1]} with {count:,} reports")
        fill(count, accounts={COORDINATOR: "coordinator"})
        log("indexing for similarity")
        rebuild_index()
        db.session.commit()
        if db.engine.dialect.name != "postgresql":
            return  # SQLite: the app gathers its statistics when it starts (`check_statistics`)
        # Planner statistics and the visibility map that index-only scans need: what
        # autovacuum gives a database in use.
        with db.engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").execute(
                text("VACUUM ANALYZE"))


def check_statistics(engine: Any) -> None:
    """Stop unless the app, once started, has SQLite's planner statistics for the reports.

    Without them SQLite reads every open report through the status index and sorts
    them, and the figures would measure that instead of the queue's index.
    """
    if engine.dialect.name != "sqlite":
        return
    with engine.connect() as connection:
        analysed = connection.exec_driver_sql(
            "SELECT 1 FROM sqlite_schema WHERE name = 'sqlite_stat1'").first() and \
            connection.exec_driver_sql("SELECT 1 FROM sqlite_stat1 WHERE tbl = 'report'").first()
    if not analysed:
        raise SystemExit("sqlite_stat1 has no statistics for the report table after the fill "
                         "and the app's start: the app should have gathered them "
                         "(models/base.py, analyze_unanalyzed_tables)")


def queue_plan(engine: Any, statements: list[tuple[str, Any]]) -> list[str]:
    """The database's plan for the queue's SELECT of reports (EXPLAIN QUERY PLAN / EXPLAIN)."""
    queries = [(s, p) for s, p in statements if "ORDER BY report.priority DESC" in s]
    if not queries:
        raise SystemExit("the queue page ran no SELECT ordered by report.priority")
    statement, parameters = queries[0]
    sqlite = engine.dialect.name == "sqlite"
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        cursor.execute(f"{'EXPLAIN QUERY PLAN' if sqlite else 'EXPLAIN'} {statement}", parameters)
        return [row[3] if sqlite else row[0] for row in cursor.fetchall()]
    finally:
        connection.close()


def measure(url: str, repeat: int) -> tuple[dict[str, dict[str, float]], list[str]]:
    """Each scenario's figures, and the queue's query plan."""
    from sqlalchemy import select, text

    from app.services.drafts import ReportDraft
    from app.services.known_issues import suggest_known_issues
    from app.services.reports import submit_report
    from app.services.similarity import similar_reports
    from models import OPEN_STATUSES, Report, Unit, db

    app = bench_app(url)
    client = app.test_client()
    # Requests run outside this set-up context: each gets its own, as in a server.
    with app.app_context():
        engine = db.engine
        check_statistics(engine)
        unit_id = db.session.scalar(select(Unit.id).order_by(Unit.id))
        statuses = ", ".join(f"'{s}'" for s in sorted(OPEN_STATUSES))
        open_count = db.session.scalar(text(
            f"SELECT count(*) FROM report WHERE status IN ({statuses})"))
        # Page 500 starts after the last report of page 499 (a smaller fill: its last page).
        skip = min(499 * PAGE_SIZE, open_count - PAGE_SIZE) - 1
        priority, last_id = db.session.execute(text(
            f"SELECT priority, id FROM report WHERE status IN ({statuses})"
            " ORDER BY priority DESC, id LIMIT 1 OFFSET :skip"), {"skip": skip}).one()
        report_id = db.session.scalar(select(Report.id).order_by(Report.id.desc()).limit(1))
        fresh = submit_report(ReportDraft(
            kind="incident", text="Provsvaren från labbet kommer inte in i journalen sedan "
            "uppgraderingen, vi får ringa labbet för varje patient.",
            occurred_at=db.session.scalar(select(Report.occurred_at).limit(1)), unit_id=unit_id,
            area="test_results", impact="near_miss", suggestion=None,
            submission_token="bench-fresh-report"), None).report.id
    recorder = Recorder(engine)
    client.post("/login", data={"email": COORDINATOR, "password": PASSWORD})

    def page(url_: str) -> Callable[[], None]:
        def get() -> None:
            response = client.get(url_)
            assert response.status_code == 200, (url_, response.status_code)
        return get

    def service(function: Callable[[int], Any], argument: int) -> Callable[[], None]:
        def call() -> None:
            with app.app_context():
                function(argument)
        return call

    scenarios: dict[str, Callable[[], Any]] = {
        "queue": page("/triage/"),
        "filtered": page("/triage/?" + "&".join(
            f"{k}={v}" for k, v in {**SEARCH, "unit": unit_id}.items())),
        "page 500": page(f"/triage/?after={priority!r}~{last_id}"),
        "overview": page("/overview"),
        "report": page(f"/triage/reports/{last_id}?status=open&order=urgency"),
        "report filt.": page(f"/triage/reports/{last_id}?" + "&".join(
            f"{k}={v}" for k, v in {**SEARCH, "unit": unit_id}.items())),
        "similar": service(similar_reports, report_id),
        "suggestion": service(suggest_known_issues, fresh),
    }
    results, plan = {}, []
    for name, action in scenarios.items():
        statements = recorder.capture(action)
        if name == "queue":
            plan = queue_plan(engine, statements)
        times = timings_ms(action, repeat)
        bare = timings_ms(replay(engine, statements), repeat)
        results[name] = {"median": statistics.median(times), "p95": percentile(times, 0.95),
                         "bare": statistics.median(bare), "statements": len(statements)}
        log(f"  {name}: {results[name]['median']:.1f} ms")
    return results, plan


def report(label: str, results: dict[str, dict[str, float]], plan: list[str]) -> None:
    print(f"\n{label}")
    print(f"{'page':<12}{'median ms':>10}{'p95 ms':>9}{'bare SQL ms':>13}{'ratio':>7}"
          f"{'SELECTs':>9}{'goal ms':>9}")
    for name, figures in results.items():
        ratio = figures["median"] / figures["bare"] if figures["bare"] else float("inf")
        goal = GOALS_MS.get(name)
        verdict = f"{goal} {'ok' if figures['median'] < goal else 'MISSED'}" if goal else ""
        print(f"{name:<12}{figures['median']:>10.1f}{figures['p95']:>9.1f}"
              f"{figures['bare']:>13.1f}{ratio:>7.1f}{figures['statements']:>9}{verdict:>10}")
    print("queue plan:")
    for step in plan:
        print(f"  {step}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--database", action="append",
                        help="database URL (repeatable); default: a temporary SQLite file")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--keep", action="store_true",
                        help="measure the databases as they are (filled by an earlier run)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        urls = args.database or [f"sqlite:///{folder}/dashboard.sqlite"]
        for url in urls:
            if not args.keep:
                prepare(url, args.reports)
            results, plan = measure(url, args.repeat)
            report(f"{url.split(':')[0]}, {args.reports:,} reports, load {os.getloadavg()[0]:.1f}",
                   results, plan)


if __name__ == "__main__":
    main()
