"""From a report's POST to its categories: the lag of the background jobs at a steady rate.

    .venv/bin/python bench/pipeline_lag.py [--rate 20] [--seconds 30] [--instance DIR]
                                           [--jobs-url URL] [--web-workers N]

Prepares an instance folder as bench/first_submit.py does (SQLite database, default
model, one unit), starts gunicorn with gunicorn.conf.py (one worker unless
--web-workers: several SQLite writers are for this measurement only, see README
"Production") and the Procfile's `worker` line (queue: a SQLite file in the instance
folder, or --jobs-url, e.g. redis://127.0.0.1:6379/5), and sends reports through the
real form (GET, then POST) at --rate reports a second from --clients clients. A poller
reads the database every 10 ms; a report's lag is from the end of its POST to the first
poll that finds it processed (classified, indexed, grouped), which is when its pages
stop saying "being classified". Prints the POST's and the lag's p50/p95/p99 and how
many reports were left unprocessed after a 30 s grace.

With --direct the reports are stored by `submit_report` in this process (no web server,
so a busy machine's HTTP does not cap the rate): the rate the worker is asked to keep up
with is then the one given. With --database-url (PostgreSQL) the app, the worker and the
poller use that database instead of the instance's SQLite file (it is upgraded, given a
model and a unit, and keeps the reports).
"""

import argparse
import os
import re
import secrets
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.fill import log  # noqa: E402
from bench.first_submit import (  # noqa: E402
    FLASK,
    START_TIMEOUT_S,
    Browser,
    environment,
    free_port,
    prepare,
    texts,
    wait_until_serving,
)
from deploy.local import procfile_command  # noqa: E402

#: The issue's goal for "report submitted to its categories shown", p95.
GOAL_S = 5.0
GRACE_S = 30
_REFERENCE = re.compile(r"V-(\d{6})")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


class Client(Browser):
    def submit(self, text: str) -> tuple[float, float, int]:
        """POST a report; its milliseconds, the moment it returned, and its id."""
        body = self.report_body(text)
        start = time.perf_counter()
        with self.opener.open(self.base + "/", data=body, timeout=START_TIMEOUT_S) as response:
            page = response.read().decode()
        end = time.perf_counter()
        match = _REFERENCE.search(page)
        if response.status != 200 or match is None:
            raise SystemExit(f"the report was not accepted: HTTP {response.status}")
        return (end - start) * 1000, end, int(match.group(1))


class Direct:
    """Stores reports as the form's POST does, in this process: `submit_report`."""

    def __init__(self, env: dict[str, str], unit_id: int) -> None:
        os.environ.update(env)
        from app import create_app

        self.app, self.unit_id = create_app(), unit_id

    def submit(self, text: str) -> tuple[float, float, int]:
        from app.services.drafts import ReportDraft
        from app.services.reports import submit_report

        draft = ReportDraft(kind="incident", text=text, occurred_at=datetime.now()
                            - timedelta(hours=1), unit_id=self.unit_id, area="other",
                            impact="none", suggestion=None,
                            submission_token=secrets.token_urlsafe(24))
        start = time.perf_counter()
        with self.app.test_request_context():
            report_id = submit_report(draft, None).report.id
        end = time.perf_counter()
        return (end - start) * 1000, end, report_id


def connect(database_url: str):
    """A DB-API connection to the bench's database (SQLite file or PostgreSQL)."""
    if database_url.startswith("sqlite:///"):
        return sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
    import psycopg

    return psycopg.connect(database_url, autocommit=True)


def poll(database_url: str, seen: dict[int, float], stop: threading.Event) -> None:
    connection = connect(database_url)
    last = connection.execute("SELECT coalesce(max(id), 0) FROM report").fetchone()[0]
    while not stop.is_set():
        now = time.perf_counter()
        for (report_id,) in connection.execute(
                f"SELECT id FROM report WHERE id > {int(last)} AND processed").fetchall():
            seen.setdefault(report_id, now)
        time.sleep(0.01)
    connection.close()


def prepare_database(env: dict[str, str]) -> int:
    """Upgrade a PostgreSQL database, give it a model and a unit; the unit's id."""
    for command in (["db", "upgrade"], ["ml", "ensure-model"]):
        log("flask " + " ".join(command))
        subprocess.run([*FLASK, *command], cwd=ROOT, env=env, check=True,
                       stdout=subprocess.DEVNULL)
    with connect(env["DATABASE_URL"]) as connection:
        connection.execute("INSERT INTO unit (name, active) VALUES ('Avdelning 1', true)"
                           " ON CONFLICT DO NOTHING")
        return connection.execute("SELECT min(id) FROM unit").fetchone()[0]


def run(instance: Path, rate: float, seconds: float, jobs_url: str | None,
        web_workers: int, clients_count: int, direct: bool, database_url: str | None) -> None:
    env = environment(instance)
    if jobs_url:
        env["JOBS_URL"] = jobs_url
    if database_url:
        env["DATABASE_URL"] = database_url
        unit_id = prepare_database(env)
    else:
        with sqlite3.connect(instance / "vaka.sqlite") as connection:
            unit_id = connection.execute("SELECT min(id) FROM unit").fetchone()[0]
    count = int(rate * seconds)
    reports = texts(min(count, 200))
    port = free_port()
    logs = [(instance / name).open("w") for name in ("gunicorn.log", "worker.log")]
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "-b", f"127.0.0.1:{port}",
         "-w", str(web_workers), "app:create_app()"], cwd=ROOT, env=env, stdout=logs[0],
        stderr=subprocess.STDOUT)
    # The Procfile's line, as a production start runs it (at a lower CPU priority).
    worker = subprocess.Popen(
        ["/bin/sh", "-c", f"exec {procfile_command('worker')}"], cwd=ROOT,
        env={**env, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"},
        stdout=logs[1], stderr=subprocess.STDOUT)
    seen: dict[int, float] = {}
    stop = threading.Event()
    poller = threading.Thread(target=poll, args=(env["DATABASE_URL"], seen, stop))
    clients = ([Direct(env, unit_id)] * clients_count if direct else
               [Client(f"http://127.0.0.1:{port}", unit_id) for _ in range(clients_count)])
    try:
        wait_until_serving(Client(f"http://127.0.0.1:{port}", unit_id), server)
        deadline = time.monotonic() + START_TIMEOUT_S
        while "Jobs worker on" not in (instance / "worker.log").read_text():
            if worker.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the jobs worker did not start; see worker.log")
            time.sleep(0.1)
        poller.start()
        log(f"sending {count} reports at {rate:g}/s from {len(clients)} clients")
        begin = time.perf_counter()

        def send(index: int) -> tuple[float, float, int]:
            time.sleep(max(0.0, begin + index / rate - time.perf_counter()))
            return clients[index % len(clients)].submit(reports[index % len(reports)])

        with ThreadPoolExecutor(len(clients)) as pool:
            sent = list(pool.map(send, range(count)))
        achieved = count / (time.perf_counter() - begin)
        wait_end = time.monotonic() + GRACE_S
        while time.monotonic() < wait_end and not all(r in seen for _, _, r in sent):
            time.sleep(0.05)
    finally:
        stop.set()
        if poller.is_alive():
            poller.join()
        for process in (server, worker):
            process.terminate()
            process.wait(timeout=30)
        for handle in logs:
            handle.close()
    posts = [ms for ms, _, _ in sent]
    lags = [seen[r] - end for _, end, r in sent if r in seen]
    print(f"{count} reports at {achieved:.1f}/s (asked {rate:g}/s), {len(clients)} clients, "
          f"{web_workers} web worker(s), load average {os.getloadavg()[0]:.1f}")
    print(f"{'submit' if direct else 'POST':<6} ms      p50 {percentile(posts, .5):7.1f}  "
          f"p95 {percentile(posts, .95):7.1f}  p99 {percentile(posts, .99):7.1f}  "
          f"max {max(posts):7.1f}")
    if lags:
        p95 = percentile(lags, .95)
        print(f"lag s          p50 {percentile(lags, .5):7.2f}  p95 {p95:7.2f}  "
              f"p99 {percentile(lags, .99):7.2f}  max {max(lags):7.2f}  mean "
              f"{statistics.fmean(lags):.2f}   goal p95 < {GOAL_S:g} s "
              f"{'PASS' if p95 < GOAL_S else 'MISS'}")
    print(f"left unprocessed after {GRACE_S} s: {count - len(lags)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=20.0, help="reports a second")
    parser.add_argument("--seconds", type=float, default=30.0, help="how long to send")
    parser.add_argument("--jobs-url", help="the queue (default: SQLite in the instance)")
    parser.add_argument("--web-workers", type=int, default=1, help="gunicorn workers")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients")
    parser.add_argument("--database-url", help="a PostgreSQL database instead of SQLite")
    parser.add_argument("--direct", action="store_true",
                        help="store the reports with submit_report here, not over HTTP")
    parser.add_argument("--instance", type=Path,
                        help="instance folder to prepare once and reuse (default: temporary)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        instance = args.instance or Path(folder)
        prepare(instance)
        run(instance, args.rate, args.seconds, args.jobs_url, args.web_workers, args.clients,
            args.direct, args.database_url)


if __name__ == "__main__":
    main()
