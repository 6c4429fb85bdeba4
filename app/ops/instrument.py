"""Request hooks: every request is timed for the metrics and given an id for the logs."""

import time

from flask import Flask, Response, g, request

from app.anonymity import unlogged
from app.jobs import queue_depth, scheduled_count
from app.ops import logging as ops_logging
from app.ops import metrics
from app.services.jobs import backlog, failed_count

#: The background jobs as the scrape reads them (README, "Operations").
JOB_GAUGES = (
    ("vaka_jobs_queue_depth", "Job messages waiting in the queue.", queue_depth),
    ("vaka_jobs_retrying", "Failed jobs waiting for their back-off to pass.", scheduled_count),
    ("vaka_jobs_failed", "Jobs that failed on their last retry (the admin's list).",
     failed_count),
    ("vaka_reports_being_processed", "Reports whose job has not finished.", backlog),
)


def _start() -> None:
    g.request_started = time.perf_counter()
    ops_logging.start_request()


def _finish(response: Response) -> Response:
    started = g.get("request_started")
    if started is not None and not unlogged(request.path):
        metrics.observe(request.method, ops_logging.route(), response.status_code,
                        time.perf_counter() - started)
    return ops_logging.finish_request(response)


def init_app(app: Flask) -> None:
    """Install the hooks; a malformed METRICS_ALLOWED_NETWORKS stops the start here.

    The timer starts before every other hook, so a request refused by one (a 400 for
    bad input) is timed and named too.
    """
    metrics.allowed_networks(app.config["METRICS_ALLOWED_NETWORKS"])
    app.before_request_funcs.setdefault(None, []).insert(0, _start)
    app.after_request(_finish)
    for name, documentation, callback in JOB_GAUGES:
        metrics.register_scrape_gauge(name, documentation, callback)
