"""Grouping a new report and `alerts check` at a million reports and ten thousand open groups.

    .venv/bin/python bench/alerts_speed.py [--reports 1000000] [--groups 10000] \
        [--new 200] [--database-url postgresql://postgres@127.0.0.1:5432/bench]

It fills a SQLite file (and the PostgreSQL database of --database-url, too) the way
bench/dashboard.py does: `--reports` reports (bench/fill.py), indexed for similarity,
`VACUUM ANALYZE` on PostgreSQL. Then it adds `--groups` open emerging issues, each with
a profile summed from two perturbed corpus texts, its heaviest terms in
`emerging_issue_term` and five recent reports as members. It submits `--new` reports
(perturbed corpus texts and go-live fault texts; stored and indexed as submission does)
and times `app.services.grouping.group_report(report_id)` on each, then
`flask alerts check --json --no-notify` three times through the CLI runner.
"""

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.dashboard import bench_app, check_statistics, percentile, prepare  # noqa: E402
from bench.fill import BATCH, LAST_DAY, log  # noqa: E402
from bench.golive import run  # noqa: E402
from bench.golive_texts import FAULTS, mangle, write  # noqa: E402

#: Terms kept in a group's profile, and of those indexed in emerging_issue_term.
PROFILE_TERMS = 40
INDEXED_TERMS = 12
MEMBERS = 5
NOW = datetime.combine(LAST_DAY, datetime.min.time()) + timedelta(hours=12)
GOALS = {"group a report, median ms": 50.0, "alerts check, s": 2.0}


def group_report_service():
    """The grouping service of issue 11, imported only now: a clear stop if it is missing."""
    try:
        from app.services.grouping import group_report
    except ImportError as error:
        raise SystemExit(f"app.services.grouping.group_report is missing ({error}): this "
                         "bench times the grouping service of issue 11") from error
    return group_report


def profile(texts: list[str]) -> dict[str, float]:
    """A group's profile: the summed term vectors of `texts`, heaviest terms only."""
    from ml import similarity

    summed: Counter[str] = Counter()
    for text in texts:
        summed.update(similarity.vectorize(text))
    return dict(summed.most_common(PROFILE_TERMS))


def group_rows(count: int, corpus: list[str], recent: list[int],
               rng: random.Random) -> tuple[list[dict], list[dict], list[dict]]:
    """Rows of `count` open groups, their indexed terms and their members."""
    from ml.similarity import term_key

    groups, terms, members = [], [], []
    size = min(MEMBERS, len(recent) // count)  # a report is in one group at most
    chosen = iter(rng.sample(recent, count * size))
    for number in range(1, count + 1):
        weights = profile([mangle(rng.choice(corpus), rng) for _ in range(2)])
        last = NOW - timedelta(hours=rng.randrange(1, 72))
        groups.append({"id": number, "title": f"Grupp {number}", "language": "sv",
                       "status": "open", "profile": weights, "excluded": {},
                       "member_count": size, "first_report_at": last - timedelta(hours=6),
                       "last_report_at": last, "created_at": last})
        heaviest = sorted(weights.items(), key=lambda item: -item[1])[:INDEXED_TERMS]
        terms += [{"emerging_issue_id": number, "term_key": key, "weight": weight}
                  for key, weight in {term_key(t): w for t, w in heaviest}.items()]
        members += [{"emerging_issue_id": number, "report_id": next(chosen)}
                    for _ in range(size)]
    return groups, terms, members


def add_groups(count: int, rng: random.Random) -> None:
    from sqlalchemy import insert, select, text

    from ml import load_corpus
    from models import EmergingIssue, EmergingIssueReport, EmergingIssueTerm, Report, db

    corpus = [example.text for example in load_corpus()]
    recent = list(db.session.scalars(select(Report.id).order_by(Report.id.desc())
                                     .limit(count * MEMBERS)))
    groups, terms, members = group_rows(count, corpus, recent, rng)
    for model, rows in ((EmergingIssue, groups), (EmergingIssueTerm, terms),
                        (EmergingIssueReport, members)):
        for start in range(0, len(rows), BATCH):
            db.session.execute(insert(model), rows[start:start + BATCH])
    if db.engine.dialect.name == "postgresql":
        # The groups came with their ids: move the sequence past them, or the first group
        # the grouping makes collides with group 1.
        db.session.execute(text("SELECT setval(pg_get_serial_sequence('emerging_issue', 'id'),"
                                " (SELECT max(id) FROM emerging_issue))"))
    db.session.commit()


def new_reports(count: int, rng: random.Random) -> list[int]:
    """`count` reports submitted now, stored and indexed; their ids."""
    import secrets

    from sqlalchemy import select

    from app.services.drafts import ReportDraft, new_report
    from app.services.similarity import index_reports
    from ml import load_corpus
    from models import Unit, db

    corpus = [example.text for example in load_corpus()]
    faults = list(FAULTS.values())
    units = list(db.session.scalars(select(Unit.id)))
    reports = []
    for number in range(count):
        text = (write(rng.choice(faults), rng) if number % 4 == 0 else rng.choice(corpus))
        draft = ReportDraft(kind="incident", text=mangle(text, rng), occurred_at=NOW,
                            unit_id=rng.choice(units), area="other", impact="none",
                            suggestion=None, submission_token=secrets.token_urlsafe(16))
        reports.append(new_report(draft, None, NOW + timedelta(minutes=number % 60)))
    db.session.add_all(reports)
    db.session.commit()
    ids = [report.id for report in reports]
    index_reports(ids)
    return ids


def time_grouping(ids: list[int]) -> list[float]:
    group_report = group_report_service()
    timings = []
    for report_id in ids:
        started = time.perf_counter()
        group_report(report_id)
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def time_alerts_check(app, runs: int = 3) -> list[float]:
    runner = app.test_cli_runner()
    as_of = (NOW + timedelta(hours=1)).isoformat(timespec="seconds")
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        run(runner, ["alerts", "check", "--as-of", as_of, "--json", "--no-notify"])
        timings.append(time.perf_counter() - started)
    return timings


def measure(url: str, reports: int, groups: int, new: int, seed: int) -> dict[str, float]:
    from models import db

    rng = random.Random(seed)
    prepare(url, reports)
    app = bench_app(url)  # a fresh start: SQLite's planner statistics are gathered now
    with app.app_context():
        check_statistics(db.engine)
        log(f"adding {groups:,} open emerging issues")
        add_groups(groups, rng)
        ids = new_reports(new, rng)
        log(f"grouping {new} new reports")
        grouping = time_grouping(ids)
        log("alerts check")
        checks = time_alerts_check(app)
        db.engine.dispose()
    return {"group a report, median ms": statistics.median(grouping),
            "group a report, p95 ms": percentile(grouping, 0.95),
            "alerts check, first s": checks[0], "alerts check, s": statistics.median(checks)}


def print_figures(label: str, figures: dict[str, float]) -> None:
    print(f"\n{label}")
    for name, value in figures.items():
        goal = GOALS.get(name)
        verdict = "" if goal is None else f"  goal < {goal:g}  {'PASS' if value < goal else 'MISS'}"
        print(f"  {name:<28} {value:>9.2f}{verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--groups", type=int, default=10_000, help="open emerging issues")
    parser.add_argument("--new", type=int, default=200, help="new reports grouped")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database-url", help="a PostgreSQL database to measure as well")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        urls = [f"sqlite:///{folder}/grouping.sqlite", *filter(None, [args.database_url])]
        for url in urls:
            figures = measure(url, args.reports, args.groups, args.new, args.seed)
            print_figures(f"{url.split(':')[0]}: {args.reports:,} reports, {args.groups:,} "
                          f"open groups, {args.new} new reports", figures)


if __name__ == "__main__":
    main()
