"""Time of the first report sent after a start, against the next ones, through the real form.

    .venv/bin/python bench/first_submit.py [--next N] [--instance DIR]

Prepares an instance folder (a SQLite database upgraded through the migrations,
the default model trained by `flask ml ensure-model`, one unit), starts
gunicorn with gunicorn.conf.py on a free loopback port in a fresh process, and
sends reports as a browser does: GET / (the form, its CSRF token and session
cookie), then POST / with the form filled in. It prints, in milliseconds, how
long the server took to answer its first request after being started, the
first POST, and the median and maximum of the next --next POSTs (only the POST
is timed). A `flask jobs worker` runs beside it (reports are classified in the
background); at the end it counts the reports the worker classified within 30 s of the
last POST: a report left unclassified would show.

Without --instance the folder is temporary; with it, the folder is prepared on
first use and reused afterwards (training the model takes a while).
"""

import argparse
import http.cookiejar
import os
import random
import re
import secrets
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.fill import log  # noqa: E402

FLASK = [sys.executable, "-m", "flask", "--app", "app"]
START_TIMEOUT_S = 120
#: The issue's goal for the first report after a start, as for any other.
GOAL_MS = 200
_INPUT = re.compile(r"<input\b[^>]*>")
_ATTRIBUTE = re.compile(r'(\w+)="([^"]*)"')


def environment(instance: Path) -> dict[str, str]:
    return {**os.environ, "VAKA_INSTANCE_DIR": str(instance),
            "DATABASE_URL": f"sqlite:///{instance / 'vaka.sqlite'}",
            "SECRET_KEY": (instance / "secret_key").read_text().strip(),
            # Plain HTTP on loopback: the login cookie must not be HTTPS-only.
            "SESSION_COOKIE_SECURE": "0"}


def prepare(instance: Path) -> None:
    """Database, model, a unit and a server key, unless the folder has them already."""
    instance.mkdir(parents=True, exist_ok=True)
    key = instance / "secret_key"
    if not key.exists():
        key.write_text(secrets.token_hex(32) + "\n")
    env = environment(instance)
    for command in (["db", "upgrade"], ["ml", "ensure-model"]):
        log("flask " + " ".join(command))
        subprocess.run([*FLASK, *command], cwd=ROOT, env=env, check=True,
                       stdout=subprocess.DEVNULL)
    with sqlite3.connect(instance / "vaka.sqlite") as connection:
        connection.execute("INSERT OR IGNORE INTO unit (name, active) VALUES ('Avdelning 1', 1)")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def hidden_fields(page: str) -> dict[str, str]:
    fields = {}
    for tag in _INPUT.findall(page):
        attributes = dict(_ATTRIBUTE.findall(tag))
        if attributes.get("type") == "hidden" and "name" in attributes:
            fields[attributes["name"]] = attributes.get("value", "")
    return fields


class Browser:
    """One visitor with a cookie jar, sending reports through the form."""

    def __init__(self, base: str, unit_id: int) -> None:
        self.base, self.unit_id = base, unit_id
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def form(self) -> dict[str, str]:
        with self.opener.open(self.base + "/", timeout=START_TIMEOUT_S) as response:
            return hidden_fields(response.read().decode())

    def report_body(self, text: str) -> bytes:
        """GET the form; the POST body of an anonymous report of `text` on it."""
        occurred = (datetime.now() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
        return urllib.parse.urlencode({
            **self.form(), "kind": "incident", "text": text, "occurred_at": occurred,
            "unit_id": self.unit_id, "area": "other", "impact": "none", "suggestion": "",
            "identity": "anonymous"}).encode()

    def send(self, text: str) -> float:
        """GET the form, then POST a report; the POST's milliseconds."""
        body = self.report_body(text)
        start = time.perf_counter()
        with self.opener.open(self.base + "/", data=body, timeout=START_TIMEOUT_S) as response:
            response.read()
            elapsed = (time.perf_counter() - start) * 1000
        if response.status != 200:
            raise SystemExit(f"the report was not accepted: HTTP {response.status}")
        return elapsed


def wait_until_serving(browser: Browser, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited with {server.returncode}")
        try:
            browser.form()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"gunicorn did not answer within {START_TIMEOUT_S} s")


def texts(count: int) -> list[str]:
    from ml.corpus import load_corpus

    corpus = [e.text for e in load_corpus() if len(e.text) >= 10]
    return random.Random(7).sample(corpus, count)


def measure(instance: Path, following: int) -> None:
    with sqlite3.connect(instance / "vaka.sqlite") as connection:
        unit_id = connection.execute("SELECT min(id) FROM unit").fetchone()[0]
        before = connection.execute("SELECT count(*) FROM report").fetchone()[0]
    reports = texts(following + 1)
    port = free_port()
    browser = Browser(f"http://127.0.0.1:{port}", unit_id)
    server_log = (instance / "gunicorn.log").open("w")
    started = time.perf_counter()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "-b", f"127.0.0.1:{port}",
         "app:create_app()"], cwd=ROOT, env=environment(instance),
        stdout=server_log, stderr=subprocess.STDOUT)
    worker = subprocess.Popen([*FLASK, "jobs", "worker"], cwd=ROOT, env=environment(instance),
                              stdout=server_log, stderr=subprocess.STDOUT)
    try:
        wait_until_serving(browser, server)
        ready = (time.perf_counter() - started) * 1000
        first = browser.send(reports[0])
        rest = [browser.send(text) for text in reports[1:]]
        sent, classified = _classified(instance, before, time.monotonic() + 30)
    finally:
        for process in (server, worker):
            process.terminate()
            process.wait(timeout=30)
        server_log.close()
    median = statistics.median(rest)
    print(f"load average {os.getloadavg()[0]:.1f}")
    print(f"{'figure':<36}{'ms':>9}  goal")
    print(f"{'server start until its first answer':<36}{ready:>9.0f}")
    print(f"{'first report (POST)':<36}{first:>9.1f}  < {GOAL_MS} ms "
          f"{'PASS' if first < GOAL_MS else 'MISS'}")
    print(f"{f'next {len(rest)} reports, median':<36}{median:>9.1f}")
    print(f"{f'next {len(rest)} reports, maximum':<36}{max(rest):>9.1f}")
    print(f"reports classified by the jobs worker: {classified} of {sent}")


def _classified(instance: Path, before: int, deadline: float) -> tuple[int, int]:
    """The reports sent and how many of them the worker classified, by `deadline`."""
    with sqlite3.connect(instance / "vaka.sqlite") as connection:
        while True:
            sent = connection.execute("SELECT count(*) FROM report").fetchone()[0] - before
            classified = connection.execute(
                "SELECT count(*) FROM (SELECT model_version_id FROM report ORDER BY id DESC"
                " LIMIT ?) WHERE model_version_id IS NOT NULL", (sent,)).fetchone()[0]
            if classified == sent or time.monotonic() > deadline:
                return sent, classified
            time.sleep(0.1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--next", type=int, default=20, dest="following",
                        help="reports sent after the first (default 20)")
    parser.add_argument("--instance", type=Path,
                        help="instance folder to prepare once and reuse (default: temporary)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        instance = args.instance or Path(folder)
        prepare(instance)
        measure(instance, args.following)


if __name__ == "__main__":
    main()
