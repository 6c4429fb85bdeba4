"""An anonymous report leaves no trace of its reporter: not in the database, not in any log.

Issue 6: neither the address, the user agent, the user (a logged-in member of staff
may choose anonymous) nor the time of day of a submission (a POST to the report
form, "/") or of a visit to the receipt page ("/status") may be stored or logged,
gunicorn's access log under gunicorn.conf.py included.

Issue 15: nor may it come back through when the report says it happened: an anonymous
report keeps its occurrence to the hour, whatever path made it, old rows included.
"""

import json
import logging
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from urllib.request import Request, urlopen
from zoneinfo import ZoneInfo

import pytest
from flask import url_for
from gunicorn.app.base import Application
from gunicorn.glogging import Logger
from gunicorn.http import wsgi
from gunicorn.http.parser import RequestParser
from sqlalchemy import select, text

from app.services.demo import load_demo_data
from app.services.drafts import ReportDraft
from app.services.reports import submit_report
from config import TestingConfig
from models import Report, User, db, utcnow
from tests.helpers import PASSWORD, RECEIPT, form_data, persist

ADDRESS = "203.0.113.77"
AGENT = "Tracer-Browser/9.1 (anonymity-test)"
USER_ID = 48151
EMAIL = "traceable.nurse@example.org"
ROOT = Path(__file__).resolve().parents[2]
CONF = ROOT / "gunicorn.conf.py"
#: The attributes every log record has; anything else was passed in `extra`.
_RECORD_FIELDS = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message"}


@dataclass(frozen=True)
class Window:
    """When the anonymous requests ran (UTC), and the minutes a clock showed meanwhile."""

    start: datetime
    end: datetime

    @property
    def clock_minutes(self) -> set[datetime]:
        """Every minute a clock showed meanwhile, in UTC, in the machine's local time (log
        formatters use it) and in the region's (the report form's "now" uses that one)."""
        offsets = {datetime.now() - utcnow(), region_clock() - utcnow()}
        minute = (self.start - timedelta(seconds=1)).replace(second=0, microsecond=0)
        shown = set()
        while minute <= self.end + timedelta(seconds=1):
            shown |= {minute} | {(minute + offset).replace(second=0, microsecond=0)
                                 for offset in offsets}
            minute += timedelta(minutes=1)
        return shown

    @property
    def minutes(self) -> set[str]:
        return {f"{minute:%H:%M}" for minute in self.clock_minutes}

    def shows(self, moment: datetime) -> bool:
        """A time finer than the hour, in a minute the requests ran in: it gives them away."""
        finer = moment != moment.replace(minute=0, second=0, microsecond=0)
        return finer and moment.replace(second=0, microsecond=0) in self.clock_minutes


def leaves(value: object) -> Iterator[object]:
    """The plain values inside a row value, a JSON document or a log record's arguments."""
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list | tuple):
        for item in value:
            yield from leaves(item)
    else:
        yield value


def identity_traces(value: object) -> list[str]:
    """The reporter's address or browser: they belong nowhere, in no row and no record."""
    return [f"{name} in {value!r:.80}" for name, needle in (("address", ADDRESS),
                                                            ("user agent", AGENT))
            if any(needle in str(leaf) for leaf in leaves(value))]


def person_traces(value: object, window: Window, logged: bool = False) -> list[str]:
    """The reporting user or the time of day, in what the anonymous requests wrote."""
    found = []
    for leaf in leaves(value):
        if isinstance(leaf, datetime) and window.shows(leaf):
            found.append(f"time of day {leaf}")
        elif type(leaf) is int and leaf == USER_ID:
            found.append("user id")
        elif isinstance(leaf, str):
            # Log text has no hashes in which the id's digits could turn up by chance.
            needles = [EMAIL, *window.minutes, *([str(USER_ID)] if logged else [])]
            found += [f"{needle!r} in {leaf!r:.80}" for needle in needles if needle in leaf]
    return found


def all_rows(app) -> dict[str, list[dict[str, object]]]:
    """Every row of every table, as {column: value}."""
    with app.app_context():
        return {table.name: [dict(row._mapping) for row in db.session.execute(select(table))]
                for table in db.metadata.sorted_tables}


def record_values(record: logging.LogRecord) -> list[object]:
    extra = [value for name, value in vars(record).items() if name not in _RECORD_FIELDS]
    return [record.getMessage(), record.args, record.exc_text, record.stack_info, *extra]


@pytest.fixture
def app_config():
    return {"RATELIMIT_ENABLED": True}  # receipts are throttled as in production


@pytest.fixture
def every_log(caplog):
    """Every record of every logger at DEBUG, those that do not propagate included.

    SQLAlchemy's statement log stays at WARNING: it repeats every query's parameters
    (report text, the logged-in user's id) by design and is off unless SQLALCHEMY_ECHO
    is set, which the test below checks.
    """
    caplog.set_level(logging.DEBUG)
    isolated = []
    for name, logger in list(logging.root.manager.loggerDict.items()):
        if isinstance(logger, logging.Logger):
            sql = name.partition(".")[0] == "sqlalchemy"
            caplog.set_level(logging.WARNING if sql else logging.DEBUG, logger=name)
            if not logger.propagate:
                logger.addHandler(caplog.handler)
                isolated.append(logger)
    caplog.handler.setLevel(logging.DEBUG)  # set_level set it too, last perhaps to WARNING
    yield caplog
    for logger in isolated:
        logger.removeHandler(caplog.handler)


@pytest.fixture
def staff(app) -> User:
    """A member of staff with an id and an e-mail address that cannot turn up by chance."""
    user = User(id=USER_ID, email=EMAIL, role="staff")
    with app.app_context():  # the hash method is the app's
        user.set_password(PASSWORD)
    return persist(app, user)


def occurrence(when: str) -> dict[str, str]:
    """The report form's answer to "When did it happen?" as a reporter would give it."""
    if when == "now":
        return {"when": "now", "occurred_at": ""}
    if when == "typed now":  # the reporter types the clock's time under "earlier today"
        return {"when": "today", "time_today": f"{region_clock():%H:%M}", "occurred_at": ""}
    return {"when": "other_day",
            "occurred_at": f"{region_clock() - timedelta(days=1, hours=3):%Y-%m-%dT%H:%M}"}


def region_clock() -> datetime:
    """The wall clock a reporter reads: the region's (TIME_ZONE)."""
    return datetime.now(ZoneInfo(TestingConfig.TIME_ZONE)).replace(tzinfo=None)


@pytest.mark.parametrize("when", ["yesterday", "now", "typed now"])
def test_staff_choosing_anonymous_leaves_no_trace_in_rows_or_logs(
        app, client, make_unit, staff, login, active_model, every_log, when):
    unit = make_unit()
    login(staff)
    every_log.clear()
    before = all_rows(app)
    visitor = {"headers": {"User-Agent": AGENT}, "environ_base": {"REMOTE_ADDR": ADDRESS}}
    start = utcnow()

    sent = client.post("/", data=form_data(unit.id, identity="anonymous", **occurrence(when)),
                       **visitor)
    receipt = RECEIPT.search(sent.get_data(as_text=True)).group(1)
    status = client.post("/status", data={"receipt": receipt}, **visitor)
    answer = client.post("/status", data={"receipt": receipt, "body": "Det hände igen i natt.",
                                          "send": "Send answer"}, **visitor)

    window = Window(start, utcnow())
    assert status.status_code == 200 and "Your answer is sent." in answer.get_data(as_text=True)
    after = all_rows(app)
    written = {table: [row for row in rows if row not in before[table]]
               for table, rows in after.items()}
    assert written["report"] and written["message"]  # else the checks below prove nothing
    leaks = [f"{table}.{column}: {trace}" for table, rows in after.items() for row in rows
             for column, value in row.items() for trace in identity_traces(value)]
    leaks += [f"{table}.{column} (written): {trace}" for table, rows in written.items()
              for row in rows for column, value in row.items()
              for trace in person_traces(value, window)]
    for record in every_log.records:
        values = record_values(record)
        leaks += [f"log {record.name}: {trace}" for trace in
                  identity_traces(values) + person_traces(values, window, logged=True)]
    assert leaks == []
    assert not app.config.get("SQLALCHEMY_ECHO")


# when it happened -------------------------------------------------------------------------

MOMENT = datetime(2026, 3, 1, 8, 37, 12, 345678)


def test_an_anonymous_reports_occurrence_is_cut_to_the_hour_by_the_service(app, ctx, make_unit,
                                                                           staff):
    unit = make_unit()

    def submit(reporter: User | None) -> Report:
        draft = ReportDraft(kind="incident", text="Journalen låste sig vid signering.",
                            occurred_at=MOMENT, unit_id=unit.id, area="records", impact="none",
                            suggestion=None, submission_token=secrets.token_urlsafe(24))
        return submit_report(draft, reporter).report

    assert submit(None).occurred_at == datetime(2026, 3, 1, 8)
    assert submit(db.session.get(User, staff.id)).occurred_at == MOMENT


def test_reports_built_without_the_form_keep_the_rule_too(app, make_report, staff):
    anonymous, named = make_report(occurred_at=MOMENT), make_report(occurred_at=MOMENT,
                                                                    reporter=staff)
    with app.app_context():
        assert db.session.get(Report, anonymous).occurred_at == datetime(2026, 3, 1, 8)
        assert db.session.get(Report, named).occurred_at == MOMENT


def test_demo_data_keeps_the_rule(ctx):
    load_demo_data(report_count=30)
    anonymous = db.session.scalars(select(Report.occurred_at)
                                   .where(Report.reporter_id.is_(None))).all()
    named = db.session.scalars(select(Report.occurred_at)
                               .where(Report.reporter_id.is_not(None))).all()
    assert anonymous and all((moment.minute, moment.second, moment.microsecond) == (0, 0, 0)
                             for moment in anonymous)
    assert any(moment.minute for moment in named)  # else the check above proves nothing


def test_the_migration_cuts_existing_anonymous_occurrences_to_the_hour(app, runner):
    with app.app_context():
        db.drop_all()
        db.session.execute(text("DROP TABLE IF EXISTS alembic_version"))
        db.session.commit()
    assert runner.invoke(args=["db", "upgrade", "0011"]).exit_code == 0
    # Rows written as revision 0011 had them: the models of today have more columns.
    with app.app_context():
        db.session.execute(
            text("INSERT INTO unit (id, name, active) VALUES (1, 'Avdelning 3', :yes)"),
            {"yes": True})
        db.session.execute(text(
            "INSERT INTO \"user\" (id, email, password_hash, role, active, session_token,"
            " created_at) VALUES (:id, :email, 'x', 'staff', :yes, 't', :now)"),
            {"id": USER_ID, "email": EMAIL, "yes": True, "now": MOMENT})
        ids = {name: _insert_0011_report(name, reporter_id)
               for name, reporter_id in (("anonymous", None), ("named", USER_ID))}
        db.session.commit()
    upgrade = runner.invoke(args=["db", "upgrade"])
    assert upgrade.exit_code == 0, upgrade.output
    with app.app_context():
        occurred = dict(db.session.execute(select(Report.id, Report.occurred_at)).all())
    assert occurred == {ids["anonymous"]: datetime(2026, 3, 1, 8), ids["named"]: MOMENT}
    assert runner.invoke(args=["db", "downgrade", "base"]).exit_code == 0


def _insert_0011_report(name: str, reporter_id: int | None) -> int:
    """A report as revision 0011 stored it, by plain SQL; returns its id."""
    return db.session.execute(text(
        "INSERT INTO report (kind, text, text_deidentified, identifiers_found, occurred_at,"
        " unit_id, area, impact, reporter_id, receipt_hash, submission_token, status,"
        " submitted_on, submitted_at, labels_reviewed, needs_review, risk_confirmed, priority,"
        " lex_maria, medical_products_agency, data_protection_authority)"
        " VALUES ('incident', 'Listan visades inte.', 'x', 0, :moment, 1, 'other', 'none',"
        " :reporter, :receipt, :token, 'new', :day, :submitted, :no, :no, :no, 0,"
        " :no, :no, :no) RETURNING id"),
        {"moment": MOMENT, "reporter": reporter_id,
         "receipt": "h" if reporter_id is None else None, "token": f"token-{name}",
         "day": MOMENT.date(), "submitted": None if reporter_id is None else MOMENT,
         "no": False}).scalar_one()


# gunicorn ----------------------------------------------------------------------------------

class ConfigFile(Application):
    """Gunicorn reading gunicorn.conf.py as `gunicorn -c` does, without a command line."""

    def load_config(self) -> None:
        self.load_config_from_file(str(CONF))


@pytest.fixture
def gunicorn_logger(tmp_path) -> Iterator[Logger]:
    """The logger gunicorn builds from gunicorn.conf.py, writing its access log to a file."""
    cfg = ConfigFile().cfg
    cfg.set("accesslog", str(tmp_path / "access.log"))
    logger = cfg.logger_class(cfg)
    yield logger
    for log in (logger.error_log, logger.access_log, logging.getLogger()):
        for handler in [h for h in log.handlers if getattr(h, "_gunicorn", False)]:
            log.removeHandler(handler)
            handler.close()


def log_request(logger: Logger, method: str, target: str) -> None:
    """Parse a request with gunicorn's parser and log its response as a worker does."""
    raw = (f"{method} {target} HTTP/1.1\r\nHost: vaka.example\r\nUser-Agent: {AGENT}\r\n"
           f"Referer: https://vaka.example/status\r\nContent-Length: 0\r\n\r\n").encode()
    request = next(RequestParser(logger.cfg, [raw], (ADDRESS, 50123)))
    response, environ = wsgi.create(request, None, (ADDRESS, 50123), ("127.0.0.1", 8000),
                                    logger.cfg)
    response.start_response("200 OK", [("Content-Type", "text/html")])
    logger.access(response, request, environ, timedelta(milliseconds=12))


@pytest.mark.parametrize(("method", "target"), [
    ("POST", "/"), ("GET", "/"), ("GET", "/?lang=en"), ("POST", "/status"),
    ("GET", "/status"), ("POST", "//status"), ("POST", "/status/answer"),
    ("GET", "/static/vaka.css"), ("GET", "/favicon.ico"),
    ("GET", "/report/matching-issues?text=Skrivaren+skriver+inte+ut")])
def test_gunicorn_writes_no_access_line_for_the_anonymous_pages(gunicorn_logger, tmp_path,
                                                                method, target):
    log_request(gunicorn_logger, method, target)
    log_request(gunicorn_logger, "POST", "/login")
    [line] = (tmp_path / "access.log").read_text().splitlines()
    assert access_entry(line) == ("POST", "/login", 200)


def test_gunicorn_access_lines_carry_no_user_agent_or_referrer(gunicorn_logger, tmp_path):
    log_request(gunicorn_logger, "GET", "/triage/?status=new")
    [line] = (tmp_path / "access.log").read_text().splitlines()
    assert access_entry(line) == ("GET", "/triage/", 200)
    assert json.loads(line)["remote"] == ADDRESS
    assert "Tracer-Browser" not in line and "vaka.example" not in line
    assert "status=new" not in line  # nor the query string, which may hold a search


def test_the_unlogged_paths_are_the_apps_anonymous_pages(app):
    unlogged = ConfigFile().get_config_from_filename(str(CONF))["unlogged"]
    with app.test_request_context():
        assert unlogged(url_for("reports.new")) and unlogged(url_for("reports.status"))
        assert unlogged(url_for("static", filename="vaka.css"))
    anonymous = {"reports.new", "reports.status", "reports.matching_issues", "static",
                 "api.submit", "api.queue", "api.receipt"}
    assert {rule.endpoint for rule in app.url_map.iter_rules() if unlogged(rule.rule)} == anonymous


def test_gunicorn_serving_the_app_logs_no_anonymous_page(tmp_path):
    """The documented command, for real: `gunicorn -c gunicorn.conf.py 'app:create_app()'`."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "SECRET_KEY": "anonymity-test", "VAKA_INSTANCE_DIR": str(tmp_path),
           "DATABASE_URL": f"sqlite:///{tmp_path / 'vaka.sqlite'}"}
    access_log = tmp_path / "access.log"
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(CONF), "-b", f"127.0.0.1:{port}",
         "--access-logfile", str(access_log), "--no-control-socket", "app:create_app()"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        wait_for(port)
        for path in ("/login", "/status", "/static/vaka.css", "/login"):
            fetch(port, path)
    finally:
        server.terminate()
        try:
            output = server.communicate(timeout=30)[0].decode()
        except subprocess.TimeoutExpired:
            server.kill()
            raise
    lines = access_log.read_text().splitlines()
    assert [access_entry(line) for line in lines] == [("GET", "/login", 200)] * 2
    assert AGENT not in access_log.read_text() + output


def access_entry(line: str) -> tuple[str, str, int]:
    """Method, path and status of a JSON access line (app/ops/logging.py)."""
    entry = json.loads(line)
    return entry["method"], entry["path"], entry["status"]


def wait_for(port: int) -> None:
    """Wait up to 30 s for the server to accept connections."""
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def fetch(port: int, path: str) -> None:
    """GET a page as the tracer's browser."""
    request = Request(f"http://127.0.0.1:{port}{path}", headers={"User-Agent": AGENT})
    with urlopen(request, timeout=30) as response:
        assert response.status == 200


@pytest.mark.parametrize(("line", "kept"), [
    ('"POST / HTTP/1.1" 200 -', False),
    ('"GET /status?lang=sv HTTP/1.1" 200 -', False),
    ('"GET /static/vaka.css HTTP/1.1" 200 -', False),
    ('"GET /triage/ HTTP/1.1" 200 -', True),
    ('"POST /login HTTP/1.1" 302 -', True),
])
def test_the_development_server_log_leaves_out_the_anonymous_pages(app, line, kept):
    """`flask run` serves with Werkzeug, which logs address and time for every request."""
    record = logging.LogRecord("werkzeug", logging.INFO, __file__, 1,
                               '203.0.113.9 - - [29/Nov/2026 06:30:00] %s', (line,), None)
    assert logging.getLogger("werkzeug").filter(record) is kept
