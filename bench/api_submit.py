"""Reports sent through the JSON API against the same reports through the page form.

    .venv/bin/python bench/api_submit.py [--reports 2000] [--clients 16]
        [--database-url postgresql://postgres@127.0.0.1:5432/vaka_topo_bench]
        [--redis-url redis://127.0.0.1:6379/7]

The production topology runs on loopback (deploy/local.py: two instances behind nginx,
PostgreSQL, Redis, the jobs worker), as in bench/burst.py, without the burst's killed
workers. First --reports go through the form (GET for the tokens, then POST, one in ten
twice), then as many through `POST /api/v1/reports` (anonymous, JSON, a fresh
idempotency key each, one in ten sent twice), from --clients threads each time. Printed:
bench/burst.py's figures for both, the API's throughput over the form's (issue 14's goal:
at least 0.5) and the API's p99 (goal: under 250 ms).
"""

import argparse
import json
import secrets
import sys
import tempfile
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.burst import (  # noqa: E402
    Visitor,
    figures,
    prepare_vaka,
    print_table,
    run_load,
    vaka_rows,
)
from deploy.local import Topology, app_environment  # noqa: E402


class ApiVisitor(Visitor):
    """One system calling the API: no form to fetch, one JSON POST (sometimes twice)."""

    unit_id: int = 1

    def send(self, tag: str, text: str, twice: bool) -> None:
        with self.record.lock:
            self.record.sent.add(tag)
        body = json.dumps({"text": f"{text} [burst {tag}]", "unit_id": self.unit_id,
                           "impact": "none",
                           "idempotency_key": secrets.token_urlsafe(24)}).encode()
        for _ in range(2 if twice else 1):
            self._post(tag, urllib.request.Request(
                self.base + "/api/v1/reports", data=body,
                headers={"Content-Type": "application/json"}), confirmed=201)


def first_unit(engine) -> int:
    from sqlalchemy import text

    with engine.connect() as connection:
        return connection.scalar(text("SELECT min(id) FROM unit WHERE active"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--database-url",
                        default="postgresql://postgres@127.0.0.1:5432/vaka_topo_bench")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/7")
    parser.add_argument("--drain-timeout", type=float, default=300.0)
    args = parser.parse_args()
    from sqlalchemy import create_engine

    from config import database_url

    engine = create_engine(database_url(args.database_url))
    results = []
    with tempfile.TemporaryDirectory() as folder:
        directory = Path(folder)
        env = app_environment(args.database_url, args.redis_url, secrets.token_hex(32),
                              directory)
        prepare_vaka(env)
        ApiVisitor.unit_id = first_unit(engine)
        with Topology(directory, env) as topology:
            for name, visitor in (("form", Visitor), ("api", ApiVisitor)):
                run_id = secrets.token_hex(4)
                record, seconds = run_load(topology.url, args.reports, args.clients, run_id,
                                           visitor_class=visitor)
                rows, orphaned = vaka_rows(engine, run_id, args.drain_timeout)
                results.append(figures(name, record, seconds, rows, orphaned))
    engine.dispose()
    print_table(results, against_bare=False)
    form, api = results
    print(f"API over form throughput: {api.throughput / form.throughput:.2f} (goal >= 0.5); "
          f"API p99 {api.p99_ms:.0f} ms (goal < 250)")


if __name__ == "__main__":
    main()
