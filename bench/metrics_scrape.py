"""The cost of a Prometheus scrape of /metrics at a million reports, SQLite and PostgreSQL.

    .venv/bin/python bench/metrics_scrape.py [--reports N] [--waiting N] [--database URL ...]
        [--repeat N] [--keep]

Fills each database (bench/fill.py), marks every report classified by a stand-in
model version but the last --waiting (the backlog the lag is computed over), and
on PostgreSQL runs VACUUM ANALYZE. Then it times --repeat scrapes of GET /metrics
through the whole Flask stack (test client, from the loopback) after two warm-ups,
and the database gauges' two SELECTs alone, with the partial index
`ix_report_unclassified` and, for comparison, after dropping it. It prints the
median and 95th percentile in milliseconds and the lag query's plan.

Without --database it uses a temporary SQLite file. The database must exist; its
tables are dropped and created (unless --keep reuses a filled one).
"""

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.fill import fill, log  # noqa: E402

GOAL_MS = 50
LAG = ("SELECT count(*), min(submitted_hour) FROM report"
       " WHERE model_version_id IS NULL AND text_removed_on IS NULL")


def timed(action: Callable[[], Any], repeat: int) -> tuple[float, float]:
    """Median and 95th percentile in ms of `repeat` runs after two warm-ups."""
    for _ in range(2):
        action()
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        runs.append((time.perf_counter() - started) * 1000)
    runs.sort()
    return statistics.median(runs), runs[min(len(runs) - 1, int(len(runs) * 0.95))]


def prepare(count: int, waiting: int) -> None:
    from sqlalchemy import text

    from models import ModelVersion, db

    fill(count)
    version = ModelVersion(algorithm="stand-in", artifact=b"")
    db.session.add(version)
    db.session.commit()
    db.session.execute(text("UPDATE report SET model_version_id = :version WHERE id <= :last"),
                       {"version": version.id, "last": count - waiting})
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").execute(
                text("VACUUM ANALYZE"))


def plan(dialect: str) -> str:
    from sqlalchemy import text

    from models import db

    explain = "EXPLAIN QUERY PLAN " if dialect == "sqlite" else "EXPLAIN "
    found = " | ".join(str(row[-1]) for row in db.session.execute(text(explain + LAG)))
    db.session.rollback()
    return found


def measure(url: str, count: int, waiting: int, repeat: int, keep: bool) -> None:
    from sqlalchemy import text

    from app import create_app
    from app.ops.metrics import _DatabaseGauges
    from config import Config, database_url
    from models import db

    app = create_app(Config, SQLALCHEMY_DATABASE_URI=database_url(url),
                     SECRET_KEY="bench-secret-not-for-production")
    with app.app_context():
        if not keep:
            log(f"filling {url.split('@')[-1]} with {count:,} reports, {waiting} waiting")
            prepare(count, waiting)
        dialect = db.engine.dialect.name
        client = app.test_client()

        def scrape() -> None:
            assert client.get("/metrics").status_code == 200

        def gauges() -> None:
            list(_DatabaseGauges().collect())

        print(f"\n{dialect}, {count:,} reports, {waiting} waiting")
        print(f"plan with the index: {plan(dialect)}")
        for name, action in (("GET /metrics", scrape), ("database gauges", gauges)):
            median, p95 = timed(action, repeat)
            verdict = "PASS" if p95 < GOAL_MS else "MISS"
            print(f"{name:<28} median {median:7.2f} ms  p95 {p95:7.2f} ms  "
                  f"goal p95 < {GOAL_MS} ms: {verdict}")
        db.session.execute(text("DROP INDEX ix_report_unclassified"))
        db.session.commit()
        db.session.remove()
        db.engine.dispose()  # fresh connections: no statement prepared against the index
        print(f"plan without it: {plan(dialect)}")
        median, p95 = timed(gauges, max(3, repeat // 5))
        print(f"{'database gauges, no index':<28} median {median:7.2f} ms  p95 {p95:7.2f} ms")
        db.session.execute(text(
            "CREATE INDEX ix_report_unclassified ON report (submitted_hour)"
            " WHERE model_version_id IS NULL AND text_removed_on IS NULL"))
        db.session.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--waiting", type=int, default=50)
    parser.add_argument("--database", action="append")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--keep", action="store_true")
    options = parser.parse_args()
    databases = options.database or [
        f"sqlite:///{Path(tempfile.mkdtemp(prefix='vaka-scrape-')) / 'bench.sqlite'}"]
    for url in databases:
        measure(url, options.reports, options.waiting, options.repeat, options.keep)


if __name__ == "__main__":
    main()
