"""Structured logs, read from a real gunicorn's output: one JSON object per line, the
request id in the access line and the app's records equal to the response's header, no
report text or receipt code anywhere, and no line at all for the anonymous pages."""

import json
import logging
import sys
from http.cookiejar import CookieJar
from urllib.parse import urlencode
from urllib.request import HTTPCookieProcessor, Request, build_opener

from app import create_app
from app.ops.logging import JsonFormatter
from config import TestingConfig
from config import database_url as config_url
from models import Unit, db
from tests import gunicorn_server
from tests.helpers import RECEIPT, form_data

#: Text no log line may hold: it is in the report and its suggestion.
REPORT_TEXT = "Journalen visade fel blodgrupp för patienten i sal fyra"
SUGGESTION = "Kontrollera blodgruppen två gånger"
PROXY_ID = "nginx-0123456789abcdef"


def test_a_record_is_one_line_of_json_with_its_traceback():
    try:
        raise ValueError("broken\nartifact")
    except ValueError:
        record = logging.LogRecord("app.warm_up", logging.ERROR, __file__, 1,
                                   "model %s did not load", (3,), exc_info=sys.exc_info())
    line = JsonFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["level"] == "ERROR" and entry["message"] == "model 3 did not load"
    assert "ValueError: broken" in entry["exception"] and entry["logger"] == "app.warm_up"


def test_gunicorn_writes_json_lines_with_request_ids_and_no_report_text(app, tmp_path):
    """`app` empties the test database, which the server serves on PostgreSQL."""
    url = gunicorn_server.database_url(tmp_path)
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=config_url(url))
    with app.app_context():
        unit = Unit(name="Avdelning 4")
        db.session.add(unit)
        db.session.commit()
        unit_id = unit.id
        db.session.remove()
        db.engine.dispose()
    server = gunicorn_server.start(tmp_path)
    browser = build_opener(HTTPCookieProcessor(CookieJar()))
    try:
        def open_page(path: str, data: dict | None = None, **headers: str):
            request = Request(server.url(path), data=urlencode(data).encode() if data else None,
                              headers={"Accept-Language": "en", **headers})
            try:
                with browser.open(request, timeout=30) as answer:
                    return answer.headers["X-Request-ID"], answer.read().decode()
            except OSError as error:  # an HTTP error status: its answer counts as well
                return error.headers["X-Request-ID"], error.read().decode()

        _, form = open_page("/")
        token = gunicorn_server.CSRF_FIELD.search(form).group(1)
        _, submitted = open_page("/", {**form_data(unit_id, text=REPORT_TEXT,
                                                   suggestion=SUGGESTION),
                                       "csrf_token": token})
        receipt = RECEIPT.search(submitted).group(1)
        open_page("/status", {"receipt": receipt, "csrf_token": token})
        kept = open_page("/login", **{"X-Request-ID": PROXY_ID})[0]
        replaced = open_page("/login", **{"X-Request-ID": "no spaces allowed"})[0]
        searched = open_page("/triage/?q=blodgrupp")[0]  # the login page it is sent to
        not_ready = open_page("/readyz")[0]  # no model: a warning from the app
    finally:
        assert server.stop() == 0
    assert kept == PROXY_ID and replaced != "no spaces allowed"

    access = [json.loads(line) for line in server.access_lines()]
    records = [json.loads(line) for line in server.error_lines()]
    assert [(entry["method"], entry["path"], entry["status"]) for entry in access] == [
        ("GET", "/login", 200), ("GET", "/login", 200), ("GET", "/triage/", 302),
        ("GET", "/login", 200), ("GET", "/readyz", 503)]
    ids = [entry["request_id"] for entry in access]
    assert ids[:2] + ids[3:] == [kept, replaced, searched, not_ready]
    assert len(set(ids)) == len(ids)
    assert access[2]["route"] == "/triage/" and access[0]["duration_ms"] >= 0
    [warning] = [entry for entry in records if entry["logger"] == "app.ops.health"]
    assert warning["request_id"] == not_ready and warning["level"] == "WARNING"

    everything = server.stdout.read_text() + server.stderr.read_text()
    for secret in (REPORT_TEXT, SUGGESTION, receipt, "blodgrupp", "q="):
        assert secret not in everything, secret
