"""The export page's count of matching reports at a million reports, for a few filters.

    .venv/bin/python bench/export_count.py --database sqlite:////tmp/count.sqlite [--keep]

Fills the database with bench/fill.py (unless --keep finds it filled), then prints the
best of three timings of `matching_count` per filter: common filters stop at COUNT_CAP,
rare combinations read until the table ends.
"""

import argparse
import os
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
BENCH_SECRET = "bench-secret-key-for-the-export-count-0123456789"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", required=True)
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true", help="reuse the database if it is filled")
    args = parser.parse_args()
    os.environ.update({"DATABASE_URL": args.database, "SECRET_KEY": BENCH_SECRET})
    from sqlalchemy import func, select

    from app import create_app
    from app.services.export import matching_count
    from app.services.report_queries import ReportFilters
    from bench.fill import fill
    from config import Config
    from models import Report, Unit, db

    with create_app(Config).app_context():
        if not (args.keep and db.session.scalar(select(func.count()).select_from(Report))):
            fill(args.reports)
        unit = frozenset([db.session.scalar(select(func.min(Unit.id)))])
        rare = {"statuses": frozenset(["rejected"]), "kind": "feedback", "language": "en"}
        cases = {
            "no filter": ReportFilters(),
            "one unit": ReportFilters(unit_ids=unit),
            "safety, 30 days": ReportFilters(categories=frozenset(["safety"]),
                                             date_from=date(2026, 10, 29)),
            "feedback in English, one day": ReportFilters(
                kind="feedback", language="en", date_from=date(2026, 11, 1),
                date_to=date(2026, 11, 1)),
            "rejected feedback in English, one unit": ReportFilters(unit_ids=unit, **rare),
            "rejected feedback in English": ReportFilters(**rare),
        }
        for name, filters in cases.items():
            timings = []
            for _ in range(3):
                start = time.perf_counter()
                count = matching_count(filters)
                timings.append(time.perf_counter() - start)
            print(f"| {name} | {count.value}{'+' if count.more else ''} | "
                  f"{min(timings) * 1000:.0f} ms |", flush=True)


if __name__ == "__main__":
    main()
