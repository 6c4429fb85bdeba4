"""Prometheus metrics at `/metrics`, with the official client.

Request metrics are labelled by the URL rule (``/triage/reports/<int:report_id>``),
never the raw path, so ids and receipt codes never become labels. The anonymous
pages (app/anonymity.py `unlogged`) are not counted at all: a counter that moves
between two scrapes would date an anonymous submission to the scrape interval,
which is what their missing log lines protect. Submissions are therefore counted
from the database, per completed hour, the resolution a report keeps anyway.

Under gunicorn the client's multiprocess mode is on (PROMETHEUS_MULTIPROC_DIR,
set up by `app.ops.gunicorn_hooks`), so whichever worker answers a scrape reports
the counts of all. Gauges read from the database are computed by the answering
worker at scrape time, as are those registered with `register_scrape_gauge`.
"""

import hmac
import ipaddress
import logging
import os
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

from flask import current_app, request
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import case, func, select
from sqlalchemy.exc import SQLAlchemyError

from models import Report, db, utcnow

log = logging.getLogger(__name__)

#: Until the response starts: a streamed export's body is not included (the access
#: log's duration_ms is).
REQUEST_SECONDS = Histogram("vaka_http_request_duration_seconds",
                            "Time to answer a request, by method and URL rule.",
                            ["method", "route"])
REQUESTS = Counter("vaka_http_requests", "Requests answered, by method, URL rule and status "
                   "class (2xx, 3xx, 4xx, 5xx).", ["method", "route", "status"])
#: The route label of a request no URL rule matched (a 404 or 405).
UNMATCHED = "unmatched"

#: Gauges other parts of the app add, computed at scrape time: name -> (help, callback).
_scrape_gauges: dict[str, tuple[str, Callable[[], float]]] = {}


def register_scrape_gauge(name: str, documentation: str, callback: Callable[[], float]) -> None:
    """Publish `callback()`'s value as the gauge `name` on every scrape.

    For figures that live outside this process, such as the background job queue's
    depth and its failed jobs (the jobs package calls this once, at import or in its
    init_app): the callback runs in the scraping request's app context, so it may
    query the database or Redis. Registering a name again replaces its callback.
    """
    _scrape_gauges[name] = (documentation, callback)


def observe(method: str, route: str | None, status: int, seconds: float) -> None:
    route = route or UNMATCHED
    REQUEST_SECONDS.labels(method, route).observe(seconds)
    REQUESTS.labels(method, route, f"{status // 100}xx").inc()


class _DatabaseGauges(Collector):
    """Classification lag, recent submissions and the registered gauges, read when scraped.

    Both queries are index range scans (`ix_report_unclassified`, partial on the
    waiting reports, and `ix_report_submitted_hour`), so they cost the same at a
    million reports as at a hundred (README, Operations, for the figures). A gauge
    that cannot be read is left out and logged: the request metrics still answer,
    when the database is down above all.
    """

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            yield from _report_gauges(utcnow())
        except SQLAlchemyError as error:
            db.session.rollback()
            log.warning("report gauges left out of the scrape: %s", error)
        for name, (documentation, callback) in sorted(_scrape_gauges.items()):
            try:
                value = callback()
            except Exception as error:  # someone else's figure; ours must still answer
                log.warning("gauge %s left out of the scrape: %s", name, error)
                continue
            yield GaugeMetricFamily(name, documentation, value=value)


def _report_gauges(now: datetime) -> list[GaugeMetricFamily]:
    waiting, oldest = db.session.execute(
        select(func.count(), func.min(Report.submitted_hour))
        .where(Report.unclassified())).one()
    anonymous = Report.reporter_id.is_(None)
    named_count, anonymous_count = db.session.execute(
        select(func.count(case((~anonymous, 1))), func.count(case((anonymous, 1))))
        .where(Report.submitted_hour == Report.hour_of(now) - timedelta(hours=1))).one()
    db.session.rollback()
    submitted = GaugeMetricFamily("vaka_reports_submitted_last_hour",
                                  "Reports that came in during the last completed hour.",
                                  labels=["identity"])
    submitted.add_metric(["named"], named_count)
    submitted.add_metric(["anonymous"], anonymous_count)
    return [
        GaugeMetricFamily("vaka_classification_waiting_reports",
                          "Reports with text that no model has classified yet.", value=waiting),
        GaugeMetricFamily(
            "vaka_classification_lag_seconds",
            "Seconds since the hour the oldest unclassified report came in (0: none waits). "
            "To the hour: an anonymous report keeps no finer time.",
            value=(now - oldest).total_seconds() if oldest else 0.0),
        submitted,
    ]


def scrape() -> bytes:
    """The metrics in Prometheus's text format: this process's or, under gunicorn, all
    workers', plus the gauges computed now."""
    registry = CollectorRegistry(support_collectors_without_names=True)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)
    else:
        registry.register(REGISTRY)
    registry.register(_DatabaseGauges())
    return generate_latest(registry)


def scrape_allowed() -> bool:
    """Whether this request may read the metrics: from an allowed network (the client
    address as `TRUSTED_PROXIES` resolves it, as everywhere in the app) or with the
    bearer token `METRICS_TOKEN`, compared in constant time."""
    token = current_app.config["METRICS_TOKEN"]
    sent = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
        return True
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    networks = allowed_networks(current_app.config["METRICS_ALLOWED_NETWORKS"])
    return any(address in network for network in networks)


def allowed_networks(spec: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """Comma-separated CIDR blocks (a bare address is a /32 or /128); ValueError names a
    bad one."""
    return [ipaddress.ip_network(part.strip()) for part in spec.split(",") if part.strip()]
