"""Operations: /healthz and /readyz, /metrics (what it counts, its labels, who may read it,
several gunicorn workers answering as one) and a graceful shutdown under gunicorn."""

import socket
import time
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select, text, update

from app import create_app
from app.ops import health, metrics
from app.services.classification import classify_reports
from config import TestingConfig, database_url
from models import AuditEvent, Report, db, utcnow
from tests import gunicorn_server

#: Nothing listens on port 1 of the loopback: a connection there is refused at once.
UNREACHABLE_PG = "postgresql://postgres@127.0.0.1:1/vaka"
TOKEN = "metrics-token-for-tests"


def samples(client, **environ) -> dict[tuple[str, frozenset], float]:
    """The scraped samples, by name and labels."""
    response = client.get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1", **environ})
    assert response.status_code == 200, response.status_code
    return parse(response.get_data(as_text=True))


def parse(exposition: str) -> dict[tuple[str, frozenset], float]:
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(exposition)
            for sample in family.samples}


def requests_of(found: dict, route: str, status: str = "2xx") -> float:
    labels = frozenset({"method": "GET", "route": route, "status": status}.items())
    return found.get(("vaka_http_requests_total", labels), 0.0)


# /healthz and /readyz ------------------------------------------------------------------

def test_healthz_answers_without_touching_the_database():
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=database_url(UNREACHABLE_PG))
    client = app.test_client()
    response = client.get("/healthz")
    assert (response.status_code, response.data) == (200, b"ok")
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["status"] == "unavailable"
    assert response.json["checks"]["database"] == "failed"
    assert "database" in response.json["failing"]
    assert "127.0.0.1" not in response.get_data(as_text=True)  # no error text leaks out


def test_readyz_is_ready_with_a_database_and_a_loaded_model(client, active_model):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json == {"status": "ready", "checks": {"database": "ok", "model": "ok",
                                                           "redis": "skipped", "queue": "ok"}}


def test_readyz_names_an_unreachable_job_queue(app, active_model):
    from app.jobs import init_app as init_jobs

    app.config.update(JOBS_IMMEDIATE=False, JOBS_URL="redis://127.0.0.1:1/5")
    init_jobs(app)
    try:
        response = app.test_client().get("/readyz")
    finally:
        app.config["JOBS_IMMEDIATE"] = True
        init_jobs(app)
    assert response.status_code == 503
    assert response.json["failing"] == ["queue"]


def test_readyz_names_a_missing_model(client):
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["failing"] == ["model"]
    assert response.json["checks"]["database"] == "ok"


@pytest.mark.parametrize(("url", "state", "status"), [
    ("redis://127.0.0.1:6379/6", "ok", 200), ("redis://127.0.0.1:1/6", "failed", 503)])
def test_readyz_checks_redis_when_it_is_configured(app, active_model, url, state, status):
    app.config["REDIS_URL"] = url
    response = app.test_client().get("/readyz")
    assert (response.status_code, response.json["checks"]["redis"]) == (status, state)


def test_a_new_dependency_is_one_more_probe(client, active_model, monkeypatch):
    def queue_reachable() -> None:
        raise ConnectionError("the queue is down")

    monkeypatch.setattr(health, "PROBES", [*health.PROBES, ("queue", queue_reachable)])
    response = client.get("/readyz")
    assert response.status_code == 503 and response.json["failing"] == ["queue"]


def test_the_endpoints_need_no_login_and_write_no_audit_row(app, client, active_model):
    with app.app_context():
        before = db.session.scalar(select(func.count(AuditEvent.id)))
    for path in ("/healthz", "/readyz", "/metrics"):
        assert client.get(path).status_code == 200, path
    with app.app_context():
        assert db.session.scalar(select(func.count(AuditEvent.id))) == before


@pytest.mark.parametrize("app_config", [{"RATELIMIT_ENABLED": True,
                                         "RATELIMIT_DEFAULT": "2 per minute"}])
def test_the_endpoints_are_exempt_from_rate_limits(client, active_model):
    """Even an operator's default limit on every route leaves the probes alone."""
    assert [client.get("/login").status_code for _ in range(3)] == [200, 200, 429]
    for path in ("/healthz", "/readyz", "/metrics"):
        assert {client.get(path).status_code for _ in range(4)} == {200}, path


# /metrics: what it counts -----------------------------------------------------------------

def test_requests_are_counted_by_url_rule_never_by_path(client):
    before = samples(client)
    client.get("/triage/reports/4711")  # a visitor is sent to the login page
    client.get("/no-such-page-8472")
    after = samples(client)
    rule = "/triage/reports/<int:report_id>"
    assert requests_of(after, rule, "3xx") == requests_of(before, rule, "3xx") + 1
    assert requests_of(after, "unmatched", "4xx") == requests_of(before, "unmatched", "4xx") + 1
    labels = {value for _, found in after for _, value in found}
    assert not any("4711" in value or "8472" in value for value in labels)
    histogram = ("vaka_http_request_duration_seconds_count",
                 frozenset({"method": "GET", "route": rule}.items()))
    assert after[histogram] == before.get(histogram, 0) + 1


def test_the_anonymous_pages_are_not_counted(client, make_unit):
    """A counter moving between two scrapes would date an anonymous submission."""
    make_unit()
    client.get("/")
    client.get("/status")
    client.get("/static/vaka.css").close()
    routes = {value for _, found in samples(client) for name, value in found if name == "route"}
    assert routes.isdisjoint({"/", "/status", "/static/<path:filename>"})


def test_classification_lag_and_waiting_reports(app, client, make_report, active_model):
    now = utcnow()
    old = make_report(submitted=now - timedelta(hours=3))
    make_report(submitted=Report.hour_of(now) - timedelta(minutes=30))
    found = samples(client)
    assert found[("vaka_classification_waiting_reports", frozenset())] == 2
    lag = found[("vaka_classification_lag_seconds", frozenset())]
    assert 3 * 3600 <= lag <= 4 * 3600 + 60
    assert found[("vaka_reports_submitted_last_hour",
                  frozenset({"identity": "anonymous"}.items()))] == 1
    with app.app_context():
        classify_reports([old])
    found = samples(client)
    assert found[("vaka_classification_waiting_reports", frozenset())] == 1
    assert 3600 <= found[("vaka_classification_lag_seconds", frozenset())] <= 2 * 3600


def test_the_lag_query_reads_the_partial_index(app):
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("PostgreSQL's planner scans tables this small; README has the 1M figure")
    with app.app_context():
        plan = db.session.execute(text(
            "EXPLAIN QUERY PLAN SELECT count(*), min(submitted_hour) FROM report"
            " WHERE model_version_id IS NULL AND text_removed_on IS NULL")).all()
    assert "ix_report_unclassified" in str(plan)


def test_the_job_queue_and_its_backlog_are_published(app, client, make_report):
    waiting = [make_report(), make_report()]
    with app.app_context():
        db.session.execute(update(Report).where(Report.id.in_(waiting)).values(processed=False))
        db.session.commit()
    published = samples(client)
    assert published[("vaka_jobs_queue_depth", frozenset())] == 0
    assert published[("vaka_jobs_failed", frozenset())] == 0
    assert published[("vaka_reports_being_processed", frozenset())] == 2


def test_a_registered_scrape_gauge_is_published(client, monkeypatch):
    monkeypatch.setattr(metrics, "_scrape_gauges", {})
    depth = iter([7, 3])
    metrics.register_scrape_gauge("vaka_jobs_queue_depth", "Jobs waiting.", lambda: next(depth))
    assert samples(client)[("vaka_jobs_queue_depth", frozenset())] == 7
    assert samples(client)[("vaka_jobs_queue_depth", frozenset())] == 3


def test_metrics_answer_while_the_database_is_down(monkeypatch):
    """The request metrics matter most then; the gauges that need the database are left out."""
    monkeypatch.setattr(metrics, "_scrape_gauges", {})
    metrics.register_scrape_gauge("vaka_jobs_failed", "Failed jobs.", lambda: 1 / 0)
    metrics.register_scrape_gauge("vaka_jobs_queue_depth", "Jobs waiting.", lambda: 4)
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=database_url(UNREACHABLE_PG))
    client = app.test_client()
    client.get("/healthz")
    names = {name for name, _ in samples(client)}
    assert "vaka_http_requests_total" in names and "vaka_jobs_queue_depth" in names
    assert "vaka_classification_lag_seconds" not in names and "vaka_jobs_failed" not in names


# /metrics: who may read it ----------------------------------------------------------------

@pytest.mark.parametrize(("address", "headers", "status"), [
    ("127.0.0.1", {}, 200),
    ("::1", {}, 200),
    ("10.1.2.3", {}, 404),
    ("10.1.2.3", {"Authorization": f"Bearer {TOKEN}"}, 200),
    ("10.1.2.3", {"Authorization": "Bearer wrong"}, 404),
    ("10.1.2.3", {"Authorization": TOKEN}, 404),
    # Nobody's X-Forwarded-For is believed unless TRUSTED_PROXIES says so.
    ("10.1.2.3", {"X-Forwarded-For": "127.0.0.1"}, 404),
])
@pytest.mark.parametrize("app_config", [{"METRICS_TOKEN": TOKEN}])
def test_metrics_are_for_allowed_networks_or_the_token(client, address, headers, status):
    response = client.get("/metrics", headers=headers, environ_base={"REMOTE_ADDR": address})
    assert response.status_code == status
    assert (b"vaka_http_requests_total" in response.data) == (status == 200)


@pytest.mark.parametrize(("forwarded", "status"), [("127.0.0.1", 200), ("203.0.113.9", 404)])
@pytest.mark.parametrize("app_config", [{"TRUSTED_PROXIES": 1,
                                         "METRICS_ALLOWED_NETWORKS": "127.0.0.0/8, 192.0.2.0/24"}])
def test_behind_a_trusted_proxy_the_forwarded_address_counts(client, forwarded, status):
    response = client.get("/metrics", headers={"X-Forwarded-For": forwarded},
                          environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert response.status_code == status


def test_a_malformed_network_stops_the_start():
    with pytest.raises(ValueError, match=r"10\.0\.0\.300"):
        create_app(TestingConfig, METRICS_ALLOWED_NETWORKS="127.0.0.1,10.0.0.300/8")


# Under gunicorn ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """Two gunicorn workers; a stale metrics file of an earlier run in their directory."""
    tmp_path = tmp_path_factory.mktemp("gunicorn")
    directory = tmp_path / "metrics"
    directory.mkdir()
    (directory / "counter_99999.db").write_bytes(b"left by an earlier run")
    server = gunicorn_server.start(tmp_path, workers=2, PROMETHEUS_MULTIPROC_DIR=str(directory))
    yield server, directory
    if server.process.poll() is None:
        server.stop()


def test_any_worker_answers_for_all(served):
    """Several scrapes, answered by whichever worker accepts, see every request."""
    server, directory = served
    assert not (directory / "counter_99999.db").exists()  # emptied when the master started
    for _ in range(10):
        assert server.get("/healthz")[0] == 200
    for _ in range(4):
        status, _headers, body = server.get("/metrics")
        assert status == 200
        assert requests_of(parse(body.decode()), "/healthz") == 10


def test_sigterm_lets_a_request_in_flight_finish(served):
    """A login form sent slowly is still being received when gunicorn is told to stop."""
    server, _directory = served
    _status, headers, page = server.get("/login")
    token = gunicorn_server.CSRF_FIELD.search(page.decode()).group(1)
    [cookie] = [value.split(";")[0] for value in headers.get_all("Set-Cookie")
                if value.startswith("session=")]
    body = urlencode({"csrf_token": token, "email": "nobody@example.org",
                      "password": "not the password"}).encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as connection:
        connection.sendall(
            f"POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {cookie}\r\n"
            "Accept-Language: en\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\nConnection: close\r\n"
            f"Content-Length: {len(body)}\r\n\r\n".encode() + body[:10])
        time.sleep(0.5)
        server.process.send_signal(gunicorn_server.signal.SIGTERM)
        time.sleep(1.0)  # the master has passed the signal on and stopped listening
        assert server.process.poll() is None  # waiting for the request in flight
        connection.sendall(body[10:])
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 200 "), answer[:200]
    assert b"Wrong e-mail or password." in answer  # the form was read to its end
    assert server.process.wait(timeout=30) == 0
