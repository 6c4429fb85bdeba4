"""Speed and memory of the research export at a million reports, on SQLite or PostgreSQL.

    .venv/bin/python bench/export.py [--reports N] [--database URL] [--keep]

Fills a database with N reports (bench/fill.py: texts from the bundled corpus, scrubbed once as
the application does on submission), then measures, each in a fresh process so
that peak memory belongs to the export alone:

* baseline: a bare ``csv.writer`` over the same columns fetched by plain SQL
  through the database driver, one ``writerow`` per row;
* CLI: ``flask --app app export reports -o /dev/null`` as a subprocess; its
  start-up (importing the application) is measured separately and subtracted;
* web: ``GET /export/reports`` through the whole WSGI stack (Flask's test
  client, a logged-in researcher), the streamed body read to the end.

It prints rows per second, the ratio to the baseline and peak resident memory
(VmHWM). Without --database it uses a temporary SQLite file; for
PostgreSQL pass e.g. postgresql://postgres@127.0.0.1:5432/bench (the database
must exist; its tables are dropped and created).
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.fill import PASSWORD, fill, log  # noqa: E402

GOALS = {"cli": 100_000, "web": 70_000}
MEMORY_GOAL_MB = 150
BENCH_SECRET = "bench-secret-not-for-production"
RESEARCHER = "researcher@bench.example"

#: What the baseline selects: the export's columns, unprocessed, through the driver.
BASELINE_SQL = (
    "SELECT report.id, kind, submitted_on, occurred_at, unit.name, area, impact, status, "
    "language, model_version_id, score_safety, is_safety, score_training, is_training, "
    "score_functionality, is_functionality, labels_reviewed, text_deidentified, "
    "suggestion_deidentified FROM report JOIN unit ON unit.id = report.unit_id ORDER BY report.id"
)


def environment(url: str) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": url, "SECRET_KEY": BENCH_SECRET,
            "OMP_NUM_THREADS": "1"}


# --- filling the database -------------------------------------------------------------


def fill_database(url: str, count: int) -> None:
    """Create the tables and insert `count` reports plus a researcher account."""
    os.environ.update(environment(url))
    from app import create_app
    from config import Config

    with create_app(Config).app_context():
        fill(count, accounts={RESEARCHER: "researcher"})


# --- the measured runs, each in a process of its own ------------------------------------


def run_baseline(url: str) -> tuple[int, float]:
    """A bare csv.writer over plain SQL through the driver: (rows, seconds)."""
    import csv

    from sqlalchemy import create_engine

    from config import database_url
    engine = create_engine(database_url(url))
    with engine.connect() as connection, open(os.devnull, "w", newline="") as sink:
        cursor = connection.connection.driver_connection.cursor()
        began = time.perf_counter()
        cursor.execute(BASELINE_SQL)
        writer = csv.writer(sink)
        rows = 0
        for row in cursor:
            writer.writerow(row)
            rows += 1
        return rows, time.perf_counter() - began


def run_web(url: str) -> tuple[int, float]:
    """GET /export/reports through Flask's WSGI stack: (rows, seconds)."""
    os.environ.update(environment(url))
    from app import create_app
    from config import Config
    app = create_app(Config, WTF_CSRF_ENABLED=False, RATELIMIT_ENABLED=False)
    client = app.test_client()
    response = client.post("/login", data={"email": RESEARCHER, "password": PASSWORD})
    assert response.status_code == 302, "the bench researcher could not log in"
    began = time.perf_counter()
    response = client.get("/export/reports", buffered=False)
    newlines = sum(chunk.count(b"\n") for chunk in response.response)
    elapsed = time.perf_counter() - began
    return newlines - 1, elapsed


def _child(code: str, url: str) -> dict:
    """Run `code` in a fresh Python process; it prints rows and seconds, we add its peak memory."""
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent through exec.
    wrapped = (f"import atexit, re, sys; sys.path.insert(0, {str(ROOT)!r}); "
               "atexit.register(lambda: print('peak', re.search(r'VmHWM:\\s+(\\d+)', "
               "open('/proc/self/status').read()).group(1), file=sys.stderr)); " + code)
    began = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", wrapped], capture_output=True, text=True,
                            cwd=ROOT, env=environment(url))
    wall = time.perf_counter() - began
    if result.returncode:
        raise SystemExit(f"a measured run failed:\n{result.stderr}")
    peak_kb = int(result.stderr.split("peak")[-1])
    figures = result.stdout.split("FIGURES")[-1].split() if "FIGURES" in result.stdout else []
    rows, seconds = (int(figures[0]), float(figures[1])) if figures else (0, wall)
    return {"rows": rows, "seconds": seconds, "wall": wall, "peak_mb": peak_kb / 1024}


def measure(role: str, url: str) -> dict:
    return _child(f"import bench.export as b; print('FIGURES', *b.run_{role}({url!r}))", url)


def measure_cli(url: str, expected_rows: int) -> dict:
    """`flask export reports` in a fresh process, its start-up measured apart and subtracted."""
    def flask(*args: str) -> dict:
        argv = ["flask", "--app", "app", "export", *args]
        return _child(f"sys.argv = {argv!r}; from flask.cli import main; main()", url)

    startup = flask("codebook")["wall"]
    run = flask("reports", "--output", os.devnull)
    return {**run, "rows": expected_rows, "seconds": run["wall"] - startup}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--database", help="a database URL (default: a temporary SQLite file)")
    parser.add_argument("--keep", action="store_true", help="reuse the database if it is filled")
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="vaka-bench-")
    url = args.database or f"sqlite:///{folder}/bench.sqlite"
    log(f"filling {url} with {args.reports:,} reports")
    if not args.keep:
        fill_database(url, args.reports)
    log("baseline: csv.writer over plain SQL")
    baseline = measure("baseline", url)
    log("CLI: flask export reports")
    cli = measure_cli(url, baseline["rows"])
    log("web: GET /export/reports")
    web = measure("web", url)
    assert web["rows"] >= baseline["rows"], "the web export lost rows"
    print(f"Export of {baseline['rows']:,} reports on {url.split(':')[0]}")
    print(f"{'path':<10}{'rows/s':>10}{'ratio':>8}{'goal':>10}{'peak MB':>9}  verdict")
    base_rate = baseline["rows"] / baseline["seconds"]
    for name, figures in (("baseline", baseline), ("cli", cli), ("web", web)):
        rate = figures["rows"] / figures["seconds"]
        goal = GOALS.get(name)
        verdict = ""
        if goal:
            fast = rate >= goal
            small = figures["peak_mb"] <= MEMORY_GOAL_MB
            verdict = "PASS" if fast and small else "MISS"
        print(f"{name:<10}{rate:>10,.0f}{rate / base_rate:>8.2f}"
              f"{goal or '':>10}{figures['peak_mb']:>9.0f}  {verdict}")
    print(f"(cli wall time {cli['wall']:.1f} s including start-up; "
          f"memory goal {MEMORY_GOAL_MB} MB)")


if __name__ == "__main__":
    main()
