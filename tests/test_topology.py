"""The production topology on loopback: two gunicorn masters (two workers each, started
from the Procfile's web line) on PostgreSQL and Redis, nginx in front (deploy/nginx.conf).

Skipped without nginx, PostgreSQL (TEST_DATABASE_URL) or Redis (TEST_REDIS_URL); CI has
all three. The instances start once for the module (each worker loads the model).
"""

import http.cookiejar
import json
import os
import secrets
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
import redis

from app import create_app
from app.services.classification import activate_version
from bench.burst import REPEAT_EVERY, Chaos, hidden_fields, run_load, vaka_rows
from config import TestingConfig
from deploy.local import Topology, app_environment, nginx_available
from models import ModelVersion, Unit, User, db
from tests.helpers import PASSWORD

DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
#: The suite's burst: small, as classification still runs inside the POST.
BURST_REPORTS, BURST_CLIENTS = 100, 16


def _redis_reachable() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_timeout=1).ping())
    except redis.RedisError:
        return False


pytestmark = [
    pytest.mark.skipif(not nginx_available(), reason="nginx is not installed"),
    pytest.mark.skipif(not DATABASE_URL.startswith("postgres"),
                       reason="the topology runs on PostgreSQL: set TEST_DATABASE_URL"),
    pytest.mark.skipif(not _redis_reachable(), reason=f"Redis is not reachable at {REDIS_URL}"),
]


class Browser:
    """A visitor with a cookie jar, speaking to one address (nginx or an instance)."""

    def __init__(self, jar: http.cookiejar.CookieJar | None = None) -> None:
        self.jar = jar or http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def get(self, url: str, request_id: str | None = None) -> tuple[int, str, str]:
        """Status, final URL (after redirects) and body."""
        headers = {"X-Request-ID": request_id} if request_id else {}
        try:
            with self.opener.open(urllib.request.Request(url, headers=headers),
                                  timeout=30) as response:
                return response.status, response.url, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, url, error.read().decode()

    def post(self, url: str, fields: dict[str, str]) -> tuple[int, str, str]:
        data = urllib.parse.urlencode(fields).encode()
        try:
            with self.opener.open(url, data=data, timeout=30) as response:
                return response.status, response.url, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, url, error.read().decode()

    def log_in(self, base: str, email: str, password: str) -> tuple[int, str, str]:
        _, _, page = self.get(base + "/login")
        return self.post(base + "/login", {**hidden_fields(page), "email": email,
                                           "password": password})


@pytest.fixture(scope="module")
def database(classifier_artifact, classifier):
    """The tables made anew, a unit, a coordinator and the session's model as active."""
    app = create_app(TestingConfig)
    with app.app_context():
        db.drop_all()
        db.create_all()
        coordinator = User(email="samordnare@example.org", role="coordinator", active=True)
        coordinator.set_password(PASSWORD)
        version = ModelVersion(algorithm=classifier.algorithm, params=classifier.params,
                               training_summary=classifier.training_summary,
                               metrics=classifier.metrics, artifact=classifier_artifact,
                               active=False)
        db.session.add_all([Unit(name="Avdelning 1"), coordinator, version])
        db.session.commit()
        activate_version(version.id)
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="module")
def topology(database, tmp_path_factory):
    directory = tmp_path_factory.mktemp("topology")
    env = app_environment(DATABASE_URL, REDIS_URL, secrets.token_hex(32), directory,
                          extra={"LOGIN_LIMIT_PER_ACCOUNT": "3 per minute"})
    with Topology(directory, env) as running:
        yield running


def access_lines(log_path, request: str) -> int:
    return sum(f'"{request}' in line for line in log_path.read_text().splitlines())


def tagged_lines(log_path, tag: str) -> int:
    """An instance's JSON log lines of requests whose X-Request-ID starts with `tag`."""
    return sum(json.loads(line).get("request_id", "").startswith(tag)
               for line in log_path.read_text().splitlines() if line.startswith("{"))


def get_tagged(url: str, count: int) -> tuple[str, list[int]]:
    """GET `url` `count` times, each with a request id starting with a new tag: the tag,
    and the statuses (the app logs a sane X-Request-ID it is sent: app/ops/logging.py)."""
    tag, browser = f"t{secrets.token_hex(6)}", Browser()
    return tag, [browser.get(url, request_id=f"{tag}-{n}")[0] for n in range(count)]


def served(instances, tag: str, total: int) -> list[int]:
    """Tagged lines in each instance's log, once they add up to `total` (a worker
    writes its line just after the answer: up to 5 s is waited for the last ones)."""
    deadline = time.monotonic() + 5
    while True:
        counts = [tagged_lines(instance.log, tag) for instance in instances]
        if sum(counts) >= total or time.monotonic() > deadline:
            return counts
        time.sleep(0.05)


def test_requests_through_nginx_are_served_by_both_instances(topology):
    tag, statuses = get_tagged(topology.url + "/login", 20)
    assert statuses == [200] * 20
    counts = served(topology.instances, tag, 20)
    assert sum(counts) == 20 and min(counts) > 0, counts
    # nginx logs with no user agent or referrer.
    [line, *_] = [line for line in topology.proxy.access_log.read_text().splitlines()
                  if '"GET /login ' in line]
    assert line.startswith("127.0.0.1 - - [") and line.endswith("200 " + line.split()[-1])
    assert "Python-urllib" not in topology.proxy.access_log.read_text()


def test_a_login_on_one_instance_holds_on_the_other(topology):
    first, second = (f"http://{i.address}" for i in topology.instances)
    browser = Browser()
    status, url, _ = browser.log_in(first, "samordnare@example.org", PASSWORD)
    assert (status, urllib.parse.urlsplit(url).path) == (200, "/triage/")
    status, url, _ = browser.get(second + "/triage/")
    assert (status, urllib.parse.urlsplit(url).path) == (200, "/triage/")


def test_the_login_limit_counts_across_instances(topology):
    """Three failed logins a minute per account (set for this module), spread over both."""
    email = f"{secrets.token_hex(4)}@example.org"
    bases = [f"http://{i.address}" for i in topology.instances]
    statuses = [Browser().log_in(bases[n % 2], email, "wrong password")[0] for n in range(4)]
    assert statuses == [200, 200, 200, 429]


def test_a_burst_with_a_worker_killed_and_an_instance_stopped_loses_nothing(topology,
                                                                           database):
    """Through nginx: one POST in ten twice with its token; a worker SIGKILLed twice, then
    one instance stopped (not started again: a start costs the suite its warm-up).
    Every report confirmed once, stored once, whole."""
    run_id = secrets.token_hex(4)
    chaos = Chaos(topology, BURST_REPORTS, restart=False)
    record, _seconds = run_load(topology.url, BURST_REPORTS, BURST_CLIENTS, run_id, chaos)
    chaos.wait()
    assert len(chaos.events) == 3, chaos.events
    with database.app_context():
        rows, orphaned = vaka_rows(db.engine, run_id, drain_timeout=30)
    assert (record.server_errors, record.connection_errors, record.rejected) == (0, 0, 0), (
        record.outcomes, chaos.events)
    assert len(record.confirmed) == len(record.sent) == BURST_REPORTS
    assert sorted(rows) == sorted(record.sent)
    assert set(rows.values()) == {1}  # none lost, none stored twice
    assert orphaned == 0
    assert len(record.latencies_ms) == BURST_REPORTS + BURST_REPORTS // REPEAT_EVERY
    # The anonymous form leaves no line in nginx's log, nor in gunicorn's.
    for log in (topology.proxy.access_log, *(i.log for i in topology.instances)):
        assert access_lines(log, "POST / ") == access_lines(log, "GET / ") == 0


def test_pages_are_served_while_one_instance_is_stopped(topology):
    topology.instances[0].stop()  # the burst stopped it already when it ran
    tag, statuses = get_tagged(topology.url + "/login", 20)
    assert statuses == [200] * 20
    assert served(topology.instances, tag, 20) == [0, 20]
