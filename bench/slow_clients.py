"""Slow clients against nginx + gunicorn and against bare gunicorn: is the app still there?

    .venv/bin/python bench/slow_clients.py [--clients 200] [--seconds 60] [--worker-class sync]

Starts the production topology on loopback (deploy/local.py: two instances from the
Procfile's web line, two workers each, nginx in front; an SQLite file, as the probe reads
no data). Then, for 60 s each, --clients connections send their request a byte every half
second (half of them dribble their headers, half a declared 10 kB body; one cut off
reconnects at once), first through nginx, then straight to one instance's port. A probe
GETs /login every 100 ms (timeout 5 s) and the probe latencies are printed: answered,
max, p99, and the share within 1 s (the issue's goal: every probe within 1 s).

--worker-class gthread runs the instances with `--worker-class gthread --threads 4` on
top of the Procfile's line, to compare.
"""

import argparse
import secrets
import socket
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from deploy.local import Topology, app_environment, procfile_command  # noqa: E402

#: Seconds between two bytes of a slow client, and between two probes.
DRIP_S = 0.5
PROBE_EVERY_S = 0.1
PROBE_TIMEOUT_S = 5.0
GOAL_S = 1.0
_HEADERS = b"POST /login HTTP/1.1\r\nHost: vaka\r\nX-Padding: " + b"a" * 4000 + b"\r\n\r\n"
_BODY_HEADERS = (b"POST /login HTTP/1.1\r\nHost: vaka\r\n"
                 b"Content-Type: application/x-www-form-urlencoded\r\n"
                 b"Content-Length: 10000\r\n\r\n")


@dataclass
class Probes:
    #: Seconds per probe; PROBE_TIMEOUT_S for one that got no answer in time.
    latencies: list[float] = field(default_factory=list)
    failures: int = 0  # no answer, or not 200

    def summary(self) -> dict[str, float]:
        ordered = sorted(self.latencies) or [float("nan")]
        within = sum(value < GOAL_S for value in self.latencies)
        return {"probes": len(self.latencies), "failed": self.failures,
                "max_s": ordered[-1], "p99_s": ordered[min(len(ordered) - 1,
                                                           int(0.99 * len(ordered)))],
                "within_1s": within / len(self.latencies) if self.latencies else 0.0}


class SlowClients:
    """`count` connections to `port` that never finish their request, in one thread."""

    def __init__(self, port: int, count: int) -> None:
        self.port, self.count = port, count
        self.stopping = threading.Event()
        self.reconnects = 0
        self.thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "SlowClients":
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stopping.set()
        self.thread.join()

    def _connect(self, n: int) -> tuple[socket.socket | None, bytes]:
        payload = _HEADERS if n % 2 else _BODY_HEADERS + b"x" * 10000
        try:
            connection = socket.create_connection(("127.0.0.1", self.port), timeout=2)
        except OSError:
            return None, payload
        connection.setblocking(False)
        if payload is not _HEADERS:  # the body dribbles; its headers go at once
            connection.sendall(_BODY_HEADERS)
            payload = payload[len(_BODY_HEADERS):]
        return connection, payload

    def _run(self) -> None:
        clients = [self._connect(n) for n in range(self.count)]
        offsets = [0] * self.count
        while not self.stopping.wait(DRIP_S):
            for n, (connection, payload) in enumerate(clients):
                try:
                    if connection is None:
                        raise ConnectionError
                    connection.send(payload[offsets[n]:offsets[n] + 1])
                    offsets[n] = (offsets[n] + 1) % len(payload)
                except OSError:  # cut off (or never connected): come back at once
                    if connection is not None:
                        connection.close()
                    clients[n], offsets[n] = self._connect(n), 0
                    self.reconnects += 1
        for connection, _ in clients:
            if connection is not None:
                connection.close()


def probe(url: str, seconds: float) -> Probes:
    """GET `url` every PROBE_EVERY_S (or right after a slower answer) for `seconds`."""
    probes, deadline = Probes(), time.monotonic() + seconds
    while time.monotonic() < deadline:
        start = time.monotonic()
        try:
            with urllib.request.urlopen(url, timeout=PROBE_TIMEOUT_S) as response:
                response.read()
                ok = response.status == 200
        except (urllib.error.URLError, OSError):
            ok = False
        elapsed = time.monotonic() - start
        probes.latencies.append(elapsed if ok else max(elapsed, PROBE_TIMEOUT_S))
        probes.failures += not ok
        time.sleep(max(0.0, PROBE_EVERY_S - elapsed))
    return probes


def under_slow_clients(port: int, url: str, clients: int, seconds: float) -> Probes:
    with SlowClients(port, clients):
        time.sleep(1.0)  # let every slow client connect first
        return probe(url, seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--worker-class", choices=["sync", "gthread"], default="sync")
    args = parser.parse_args()
    command = procfile_command()
    if args.worker_class == "gthread":
        command += " --worker-class gthread --threads 4"
    with tempfile.TemporaryDirectory() as folder:
        directory = Path(folder)
        prepare_sqlite(directory / "vaka.sqlite")
        env = app_environment(f"sqlite:///{directory / 'vaka.sqlite'}", None,
                              secrets.token_hex(32), directory)
        with Topology(directory, env, command=command) as topology:
            direct = topology.instances[0]
            results = {
                "nginx + gunicorn": under_slow_clients(topology.proxy.port,
                                                       topology.url + "/login",
                                                       args.clients, args.seconds),
                "bare gunicorn": under_slow_clients(direct.port,
                                                    f"http://{direct.address}/login",
                                                    args.clients, args.seconds),
            }
    print(f"{args.clients} slow clients for {args.seconds:.0f} s, {args.worker_class} workers "
          "(2 instances x 2); a probe GET /login every 100 ms, timeout 5 s")
    print(f"{'':<18}{'probes':>8}{'failed':>8}{'max s':>8}{'p99 s':>8}{'< 1 s':>8}")
    for name, probes in results.items():
        s = probes.summary()
        print(f"{name:<18}{s['probes']:>8}{s['failed']:>8}{s['max_s']:>8.2f}"
              f"{s['p99_s']:>8.2f}{s['within_1s']:>8.1%}")


def prepare_sqlite(path: Path) -> None:
    """The schema in an SQLite file (no model: the instances serve without one)."""
    from app import create_app
    from config import TestingConfig
    from models import db

    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}")
    with app.app_context():
        db.create_all()
        db.engine.dispose()


if __name__ == "__main__":
    main()
