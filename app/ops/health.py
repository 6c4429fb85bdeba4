"""Liveness and readiness for load balancers: `/healthz` and `/readyz`.

Readiness runs `PROBES` in order, each a named function that returns when its
dependency answers and raises when it does not. The answer names each check
("ok", "failed" or "skipped") and nothing else: no error text, which could carry a
database address, and no report data. A failure's reason goes to the log.
A new dependency is one added line in `PROBES`.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass

import redis
from flask import current_app
from sqlalchemy import text

from app.jobs import queue_depth
from app.services.classification import active_classifier
from models import db

log = logging.getLogger(__name__)

#: Seconds a probe of Redis may take: a balancer asks often and waits briefly.
REDIS_TIMEOUT_S = 1.0


class Skipped(Exception):
    """The dependency is not configured here, so there is nothing to check."""


def database_reachable() -> None:
    db.session.execute(text("SELECT 1"))
    db.session.rollback()


def model_loaded() -> None:
    """The active model version, loaded in this process (warm_up loaded it at start)."""
    active_classifier()


def redis_reachable() -> None:
    url = current_app.config["REDIS_URL"]
    if not url:
        raise Skipped
    client = redis.Redis.from_url(url, socket_timeout=REDIS_TIMEOUT_S,
                                  socket_connect_timeout=REDIS_TIMEOUT_S)
    try:
        client.ping()
    finally:
        client.close()


def queue_reachable() -> None:
    """The background jobs' queue answers (its storage: SQLite, Redis or PostgreSQL)."""
    queue_depth()


Probe = Callable[[], None]
#: The readiness checks, in order.
PROBES: list[tuple[str, Probe]] = [
    ("database", database_reachable),
    ("model", model_loaded),
    ("redis", redis_reachable),
    ("queue", queue_reachable),
]


@dataclass(frozen=True)
class Readiness:
    checks: dict[str, str]

    @property
    def ready(self) -> bool:
        return "failed" not in self.checks.values()

    def as_json(self) -> dict:
        failing = [name for name, state in self.checks.items() if state == "failed"]
        return {"status": "ready" if self.ready else "unavailable", "checks": self.checks,
                **({"failing": failing} if failing else {})}


def readiness() -> Readiness:
    """Run every probe; one failing does not keep the others from being reported."""
    checks = {}
    for name, probe in PROBES:
        try:
            probe()
            checks[name] = "ok"
        except Skipped:
            checks[name] = "skipped"
        except Exception as error:  # any failure of a dependency means "not ready"
            db.session.rollback()
            log.warning("readiness check %s failed: %s", name, error)
            checks[name] = "failed"
    return Readiness(checks)
