"""The operators' endpoints, for load balancers and Prometheus.

No login, no CSRF token, no rate limit, no audit row: a balancer asks every few
seconds, and none of them shows report data.
"""

from flask import Blueprint, Response, abort, jsonify
from prometheus_client import CONTENT_TYPE_LATEST

from app.extensions import csrf, limiter
from app.ops import health, metrics

bp = Blueprint("ops", __name__)
csrf.exempt(bp)
limiter.exempt(bp)


@bp.get("/healthz")
def healthz():
    """The process answers; nothing else is touched (not even the database)."""
    return Response("ok", mimetype="text/plain")


@bp.get("/readyz")
def readyz():
    readiness = health.readiness()
    return jsonify(readiness.as_json()), 200 if readiness.ready else 503


@bp.get("/metrics")
def prometheus_metrics():
    """404 for anyone not allowed: for them the endpoint does not exist."""
    if not metrics.scrape_allowed():
        abort(404)
    return Response(metrics.scrape(), content_type=CONTENT_TYPE_LATEST)
