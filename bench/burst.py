"""A burst of reports through the real web form, with workers killed and an instance stopped.

    .venv/bin/python bench/burst.py [--reports 10000] [--clients 64] [--small]
        [--database-url postgresql://postgres@127.0.0.1:5432/vaka_topo_bench]
        [--redis-url redis://127.0.0.1:6379/7] [--export] [--url URL]

The production topology runs on loopback (deploy/local.py: two app instances from the
Procfile's web line, two workers each, nginx in front, PostgreSQL and Redis). Each of
--clients threads is a visitor with a cookie jar who, for each report, GETs the form (its
CSRF and submission tokens, its first unit) and POSTs it filled in, the text marked with
a unique tag; one POST in ten is sent twice with the same token, as a double click or a
browser retry does. During the burst two workers are killed with SIGKILL (at 20% and 40%
of the reports, one of each instance) and one instance is stopped with SIGTERM (at 50%)
and started again (at 75%); with --export, the research export runs from 30% on (one
long read transaction beside the writes) and its outcome is printed with the
interruptions. Then the same load, with the same interruptions, runs against
bench/bare_app.py (a Flask app that inserts one row per POST) behind the same nginx, on
the same database.

Figures, from the client's records and the database's rows (by tag):
sent: reports the clients tried to send; confirmed: a POST answered 200;
stored: tags found in the database; lost: confirmed but not stored; duplicated: rows
beyond the first per tag; orphaned (the app only): stored reports missing what each
must have once processed (a de-identified text, a model's labels); 5xx: answers 500 or
more; connection errors: a POST that got no answer (reset, refused, timed out);
p50/p95/p99 of the POSTs answered, in ms; throughput: confirmed reports per second of the
burst; ratio: the app's throughput over the bare app's.

--small (the suite's) sends a few hundred reports to the app only and asserts nothing; the
test asserts. Unclassified reports are waited for up to --drain-timeout seconds before the
orphans are counted (once classification runs in background jobs, their backlog drains).
"""

import argparse
import csv
import http.client
import http.cookiejar
import itertools
import re
import secrets
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.first_submit import FLASK, hidden_fields  # noqa: E402
from deploy.local import Topology, app_environment  # noqa: E402

#: The tag every report's text ends with, and how the database is searched for it.
TAG = re.compile(r"\[burst ([a-z0-9]+-[a-z]+)\]")
#: One POST in this many is sent a second time with the same form.
REPEAT_EVERY = 10
REQUEST_TIMEOUT_S = 120
_UNIT = re.compile(r'<select[^>]*name="unit_id"[^>]*>.*?<option[^>]*value="(\d+)"', re.S)
_TEXTS = ("Provsvaret för Hb syntes inte i journalen och patienten fick fel dos.",
          "Skrivaren på expeditionen skriver ut tomma sidor sedan i morse.",
          "The medication list showed a doubled dose after the transfer.",
          "Inloggningen tar över en minut och vi hinner inte dokumentera.",
          "Vi behöver utbildning i det nya journalsystemets läkemedelsmodul.")


@dataclass
class Record:
    """What the clients saw, for one run."""

    sent: set[str] = field(default_factory=set)
    confirmed: set[str] = field(default_factory=set)
    latencies_ms: list[float] = field(default_factory=list)
    server_errors: int = 0
    connection_errors: int = 0
    rejected: int = 0  # 4xx answers: a form the server refused
    #: Every answer's status and every failure's kind, counted ("POST 200", "GET timeout").
    outcomes: Counter = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass(frozen=True)
class Figures:
    name: str
    sent: int
    confirmed: int
    stored: int
    lost: int
    duplicated: int
    orphaned: int | None
    server_errors: int
    connection_errors: int
    rejected: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    seconds: float
    throughput: float


def report_form(page: str, text: str) -> dict[str, str]:
    """The form as a reporter fills it in: its hidden fields, the first unit, `text`."""
    unit = _UNIT.search(page)
    if unit is None:
        raise RuntimeError("the form offers no unit")
    return {**hidden_fields(page), "kind": "incident", "text": text, "when": "other_day",
            "occurred_at": "2026-03-14T08:30", "unit_id": unit.group(1), "area": "other",
            "impact": "none", "suggestion": "", "identity": "anonymous"}


class Visitor:
    """One client: a cookie jar, the form fetched, then POSTed (sometimes twice)."""

    def __init__(self, base: str, record: Record) -> None:
        self.base, self.record = base, record
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def send(self, tag: str, text: str, twice: bool) -> None:
        with self.record.lock:
            self.record.sent.add(tag)
        try:
            with self.opener.open(self.base + "/", timeout=REQUEST_TIMEOUT_S) as response:
                page = response.read().decode()
        except (urllib.error.HTTPError, OSError, http.client.HTTPException) as error:
            self._failed_get(error)
            return
        body = urllib.parse.urlencode(report_form(page, f"{text} [burst {tag}]")).encode()
        for _ in range(2 if twice else 1):
            self._post(tag, urllib.request.Request(self.base + "/", data=body))

    def _failed_get(self, error: Exception) -> None:
        """A form that did not load: the report is counted as sent and not confirmed."""
        with self.record.lock:
            self.record.connection_errors += 1
            self.record.outcomes[f"GET {_kind(error)}"] += 1

    def _post(self, tag: str, request: urllib.request.Request, confirmed: int = 200) -> None:
        """Send `request`, a report's POST; an answer `confirmed` confirms the report."""
        start = time.perf_counter()
        try:
            with self.opener.open(request, timeout=REQUEST_TIMEOUT_S) as response:
                response.read()
                status = response.status
        except urllib.error.HTTPError as error:
            status = error.code
        except (OSError, http.client.HTTPException) as error:
            with self.record.lock:
                self.record.connection_errors += 1
                self.record.outcomes[f"POST {_kind(error)}"] += 1
            return
        elapsed = (time.perf_counter() - start) * 1000
        with self.record.lock:
            self.record.outcomes[f"POST {status}"] += 1
            self.record.latencies_ms.append(elapsed)
            if status == confirmed:
                self.record.confirmed.add(tag)
            elif status >= 500:
                self.record.server_errors += 1
            else:
                self.record.rejected += 1


def _kind(error: Exception) -> str:
    """An HTTP status, or the failure's class ("ConnectionResetError", "TimeoutError")."""
    if isinstance(error, urllib.error.HTTPError):
        return str(error.code)
    reason = getattr(error, "reason", None)
    return type(reason if isinstance(reason, Exception) else error).__name__


def run_load(base: str, reports: int, clients: int, run_id: str,
             on_progress: Callable[[int], None] = lambda done: None,
             visitor_class: type[Visitor] = Visitor) -> tuple[Record, float]:
    """Send `reports` through the form at `base` from `clients` threads (each a
    `visitor_class`); the record and the burst's seconds. `on_progress(done)` is called
    after each report, from the thread that sent it."""
    record, counter, done = Record(), itertools.count(), itertools.count(1)
    stopping = threading.Event()  # set when the run is interrupted: the clients stop too

    def work() -> None:
        visitor = visitor_class(base, record)
        while not stopping.is_set() and (n := next(counter)) < reports:
            tag = f"{run_id}-{_letters(n)}"
            visitor.send(tag, _TEXTS[n % len(_TEXTS)], twice=n % REPEAT_EVERY == 0)
            on_progress(next(done))

    threads = [threading.Thread(target=work, daemon=True) for _ in range(clients)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            thread.join()
    except BaseException:  # Ctrl-C: failing requests would race through the chaos steps
        stopping.set()
        raise
    return record, time.perf_counter() - start


def _letters(n: int) -> str:
    """n in letters only (a tag of digits could look like a phone number to the scrubber)."""
    word = ""
    while True:
        n, digit = divmod(n, 26)
        word += chr(ord("a") + digit)
        if n == 0:
            return word


class Chaos:
    """Kills two workers and stops one instance (then, with `restart`, starts it again) as
    the burst goes."""

    def __init__(self, topology: Topology, reports: int, restart: bool = True,
                 export_to: Path | None = None) -> None:
        self.topology, self.lock = topology, threading.Lock()
        steps = [(int(reports * 0.2), self._kill), (int(reports * 0.4), self._kill),
                 (int(reports * 0.5), self._stop)]
        if restart:
            steps.append((int(reports * 0.75), self._start))
        if export_to is not None:
            steps.append((int(reports * 0.3), lambda: self._export(export_to)))
        self.steps = sorted(steps, key=lambda step: step[0])
        self.events: list[str] = []
        self.threads: list[threading.Thread] = []

    def __call__(self, done: int) -> None:
        with self.lock:
            while self.steps and done >= self.steps[0][0]:
                _, step = self.steps.pop(0)
                # In its own thread: stopping and starting take seconds, the load goes on.
                thread = threading.Thread(target=step, daemon=True)
                thread.start()
                self.threads.append(thread)

    def wait(self) -> None:
        for thread in self.threads:
            thread.join()

    def _kill(self) -> None:
        """One worker of web-2, then one of web-1: never both of an instance, which would
        leave no worker at all once web-1 is stopped (replacements take seconds to warm up)."""
        instance = self.topology.instances[1 - sum("SIGKILL" in e for e in self.events) % 2]
        pid = instance.kill_worker()
        self.events.append(f"SIGKILL worker {pid} of {instance.name}")

    def _stop(self) -> None:
        self.topology.instances[0].stop()
        self.events.append("SIGTERM web-1")

    def _start(self) -> None:
        self.topology.instances[0].start()
        self.events.append("web-1 started again")

    def _export(self, path: Path) -> None:
        """The research export (`flask export reports`, one long read) while reports arrive."""
        start = time.perf_counter()
        done = subprocess.run([*FLASK, "export", "reports", "-o", str(path)], cwd=ROOT,
                              capture_output=True, text=True,
                              env=self.topology.instances[0].env)
        seconds = time.perf_counter() - start
        if done.returncode:
            self.events.append(f"export failed (exit {done.returncode}) after {seconds:.1f} s: "
                               f"{done.stderr.strip()[-500:]}")
            return
        with path.open(newline="", encoding="utf-8") as exported:
            rows = sum(1 for _ in csv.reader(exported)) - 1  # the header
        self.events.append(f"export of {rows} reports completed in {seconds:.1f} s")


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def figures(name: str, record: Record, seconds: float, rows: dict[str, int],
            orphaned: int | None) -> Figures:
    """`rows`: rows stored per tag of this run."""
    stored = {tag for tag, count in rows.items() if count}
    return Figures(
        name=name, sent=len(record.sent), confirmed=len(record.confirmed), stored=len(stored),
        lost=len(record.confirmed - stored),
        duplicated=sum(count - 1 for count in rows.values() if count > 1), orphaned=orphaned,
        server_errors=record.server_errors, connection_errors=record.connection_errors,
        rejected=record.rejected, p50_ms=percentile(record.latencies_ms, 0.50),
        p95_ms=percentile(record.latencies_ms, 0.95),
        p99_ms=percentile(record.latencies_ms, 0.99), seconds=seconds,
        throughput=len(record.confirmed) / seconds if seconds else 0.0)


def tag_counts(texts: list[str], run_id: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for text in texts:
        for tag in TAG.findall(text):
            if tag.startswith(run_id + "-"):
                counts[tag] = counts.get(tag, 0) + 1
    return counts


def vaka_rows(engine, run_id: str, drain_timeout: float) -> tuple[dict[str, int], int]:
    """Rows per tag in `report`, and the orphans: stored reports of the run that have no
    de-identified text or, after waiting up to `drain_timeout` s, no model's labels."""
    from sqlalchemy import text

    like = {"pattern": f"%[burst {run_id}-%"}
    deadline = time.monotonic() + drain_timeout
    with engine.connect() as connection:
        while True:
            pending = connection.scalar(text(
                "SELECT count(*) FROM report WHERE text LIKE :pattern"
                " AND model_version_id IS NULL"), like)
            if not pending or time.monotonic() > deadline:
                break
            connection.rollback()
            time.sleep(1)
        texts = connection.scalars(text("SELECT text FROM report WHERE text LIKE :pattern"),
                                   like).all()
        orphaned = connection.scalar(text(
            "SELECT count(*) FROM report r WHERE r.text LIKE :pattern AND ("
            " coalesce(r.text_deidentified, '') = '' OR r.model_version_id IS NULL"
            " OR NOT EXISTS (SELECT 1 FROM label l WHERE l.report_id = r.id"
            "                AND l.source = 'model'))"), like)
    return tag_counts(list(texts), run_id), orphaned


def prepare_vaka(env: dict[str, str]) -> None:
    """Migrations, a model (trained once if none is active) and a unit, as a production start."""
    for command in (["db", "upgrade"], ["ml", "ensure-model"]):
        subprocess.run([*FLASK, *command], cwd=ROOT, env=env, check=True,
                       stdout=subprocess.DEVNULL)
    from sqlalchemy import create_engine, text

    from config import database_url

    engine = create_engine(database_url(env["DATABASE_URL"]))
    with engine.begin() as connection:
        if not connection.scalar(text("SELECT count(*) FROM unit WHERE active")):
            connection.execute(text("INSERT INTO unit (name, active) VALUES ('Avdelning 1', true)"))
    engine.dispose()


def burst(topology: Topology, reports: int, clients: int, run_id: str,
          chaos: bool = True, export_to: Path | None = None) -> tuple[Record, float, list[str]]:
    interrupt = Chaos(topology, reports, export_to=export_to) if chaos else None
    start, step = time.perf_counter(), max(1, reports // 20)

    def progress(done: int) -> None:
        if interrupt:
            interrupt(done)
        if done % step == 0:
            print(f"  {done}/{reports} sent, {time.perf_counter() - start:.0f} s",
                  file=sys.stderr, flush=True)

    record, seconds = run_load(topology.url, reports, clients, run_id, progress)
    if interrupt:
        interrupt.wait()
    return record, seconds, interrupt.events if interrupt else []


def print_table(results: list[Figures], against_bare: bool = True) -> None:
    columns = ["sent", "confirmed", "stored", "lost", "duplicated", "orphaned",
               "server_errors", "connection_errors", "rejected", "p50_ms", "p95_ms", "p99_ms",
               "throughput"]
    print(f"{'figure':<20}" + "".join(f"{r.name:>14}" for r in results))
    for column in columns:
        cells = []
        for result in results:
            value = getattr(result, column)
            cells.append("n/a" if value is None else
                         f"{value:.1f}" if isinstance(value, float) else str(value))
        label = {"server_errors": "5xx", "connection_errors": "connection errors",
                 "throughput": "reports/s"}.get(column, column)
        print(f"{label:<20}" + "".join(f"{cell:>14}" for cell in cells))
    if against_bare and len(results) == 2 and results[1].throughput:
        print(f"{'ratio to bare':<20}{results[0].throughput / results[1].throughput:>14.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--small", action="store_true",
                        help="300 reports, 16 clients, the app only")
    parser.add_argument("--database-url",
                        default="postgresql://postgres@127.0.0.1:5432/vaka_topo_bench")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/7")
    parser.add_argument("--drain-timeout", type=float, default=600.0)
    parser.add_argument("--url", help="a server already running (`make run`: "
                        "http://127.0.0.1:5000, with --database-url sqlite:///instance/"
                        "vaka.sqlite): the load goes there, with no interruptions and no "
                        "bare app")
    parser.add_argument("--export", action="store_true",
                        help="run the research export (flask export reports) at 30%% of the "
                        "app's burst and say whether it completed")
    args = parser.parse_args()
    if args.small:
        args.reports, args.clients = 300, 16
    from sqlalchemy import create_engine

    from config import database_url

    run_id = secrets.token_hex(4)
    engine = create_engine(database_url(args.database_url))
    if args.url:
        results = [_running_server(args.url, args, engine, run_id)]
        print(f"{args.reports} reports to {args.url}, {args.clients} clients, one POST in "
              f"{REPEAT_EVERY} sent twice")
    else:
        results = _topology_and_bare(args, engine, run_id)
        print(f"{args.reports} reports, {args.clients} clients, one POST in {REPEAT_EVERY} "
              "sent twice; two workers SIGKILLed, one instance stopped and started again")
    engine.dispose()
    print_table(results)


def _running_server(url: str, args: argparse.Namespace, engine, run_id: str) -> Figures:
    record, seconds = run_load(url.rstrip("/"), args.reports, args.clients, run_id)
    rows, orphaned = vaka_rows(engine, run_id, args.drain_timeout)
    return figures("app", record, seconds, rows, orphaned)


def _topology_and_bare(args: argparse.Namespace, engine, run_id: str) -> list[Figures]:
    from bench.bare_app import bare_rows, create_table

    with tempfile.TemporaryDirectory() as folder:
        directory = Path(folder)
        env = app_environment(args.database_url, args.redis_url, secrets.token_hex(32),
                              directory)
        prepare_vaka(env)
        results = []
        with Topology(directory, env) as topology:
            record, seconds, events = burst(
                topology, args.reports, args.clients, run_id,
                export_to=directory / "export.csv" if args.export else None)
            print("app:", "; ".join(events), file=sys.stderr)
            # Counted while the topology (its jobs worker too) runs: the backlog drains.
            rows, orphaned = vaka_rows(engine, run_id, args.drain_timeout)
        results.append(figures("app", record, seconds, rows, orphaned))
        if not args.small:
            create_table(engine)
            bare_dir = directory / "bare"
            bare_dir.mkdir()
            with Topology(bare_dir, env, command=BARE_COMMAND, probe_path="/") as topology:
                record, seconds, events = burst(topology, args.reports, args.clients, run_id)
                print("bare:", "; ".join(events), file=sys.stderr)
            results.append(figures("bare", record, seconds, bare_rows(engine, run_id), None))
    return results


#: The bare app under gunicorn, two workers, the same worker class and timeout as the app.
BARE_COMMAND = ("gunicorn --worker-class sync --workers ${WEB_CONCURRENCY:-2} --timeout 60"
                " --bind 127.0.0.1:${PORT} 'bench.bare_app:create_app()'")


if __name__ == "__main__":
    main()
