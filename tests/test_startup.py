"""Starting the app: the server key, the model loaded before the first report, SQLite statistics."""

import logging
import os
import secrets
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import event, select, text

from app import create_app
from app.services.classification import store_version
from app.services.drafts import ReportDraft, new_report
from app.services.triage import ReportFilters, queue_page
from app.warm_up import warm_up
from config import DEFAULT_SECRET_KEY, TestingConfig, database_url, secret_key
from models import OPEN_STATUSES, ModelVersion, Report, Status, Unit, db, utcnow

ROOT = Path(__file__).resolve().parent.parent
FLASK = [str(Path(sys.executable).with_name("flask")), "--app", "app"]
ON_POSTGRES = bool(os.environ.get("TEST_DATABASE_URL"))
sqlite_only = pytest.mark.skipif(ON_POSTGRES, reason="checks SQLite's own statistics")
#: The flask commands below always run on a SQLite file of their own.
own_database = pytest.mark.skipif(ON_POSTGRES, reason="does not use the test database")


def test_the_key_comes_from_the_environment_else_from_the_instance_file(tmp_path):
    key_file = tmp_path / "secret_key"
    assert secret_key({}, key_file) is None
    key_file.write_text("")
    assert secret_key({}, key_file) is None
    key_file.write_text("from-the-file\n")
    assert secret_key({}, key_file) == "from-the-file"
    assert secret_key({"SECRET_KEY": "from-the-environment"}, key_file) == "from-the-environment"
    key_file.write_text(DEFAULT_SECRET_KEY)
    assert secret_key({}, key_file) == DEFAULT_SECRET_KEY  # which create_app refuses


def flask_command(instance: Path, *args: str, env: dict[str, str] | None = None,
                  stdin: str = "") -> subprocess.CompletedProcess:
    """Run `flask --app app ARGS` as a user would, with no SECRET_KEY unless `env` has one."""
    environment = {name: value for name, value in os.environ.items()
                   if name not in ("SECRET_KEY", "FLASK_DEBUG", "WARM_UP_MODEL")}
    environment.update(VAKA_INSTANCE_DIR=str(instance),
                       DATABASE_URL=f"sqlite:///{instance / 'vaka.sqlite'}", **(env or {}))
    return subprocess.run([*FLASK, *args], cwd=ROOT, env=environment, input=stdin, text=True,
                          capture_output=True, timeout=300)


@own_database
def test_flask_commands_use_the_key_make_run_wrote(tmp_path):
    (tmp_path / "secret_key").write_text(secrets.token_hex(32) + "\n")
    upgrade = flask_command(tmp_path, "db", "upgrade")
    assert upgrade.returncode == 0, upgrade.stderr
    created = flask_command(tmp_path, "users", "create", "admin@region.se", "--role", "admin",
                            "--password-stdin", stdin="a long and good password 42\n")
    assert created.returncode == 0, created.stderr
    assert "Created admin@region.se (admin)." in created.stdout
    with sqlite3.connect(tmp_path / "vaka.sqlite") as connection:
        assert connection.execute("SELECT role FROM user").fetchall() == [("admin",)]


@own_database
@pytest.mark.parametrize(("key_file", "environment"), [
    (None, {}),                                                       # no key anywhere
    (secrets.token_hex(32), {"SECRET_KEY": DEFAULT_SECRET_KEY}),      # the environment wins
], ids=["no key", "placeholder in the environment"])
def test_flask_commands_refuse_to_start_without_a_real_key(tmp_path, key_file, environment):
    if key_file:
        (tmp_path / "secret_key").write_text(key_file)
    refused = flask_command(tmp_path, "users", "create", "admin@region.se", "--password-stdin",
                            env=environment, stdin="a long and good password 42\n")
    assert refused.returncode != 0
    assert "SECRET_KEY is missing or the placeholder" in refused.stderr
    assert str(tmp_path / "secret_key") in refused.stderr  # where to put one


@pytest.fixture
def first_app(tmp_path) -> Iterator[Flask]:
    """An app on a database that outlives it (a file on SQLite), with one unit."""
    url = os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_path}/vaka.sqlite"
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=database_url(url))
    with app.app_context():
        db.drop_all()
        db.create_all()
        db.session.add(Unit(name="Avdelning 1"))
        db.session.commit()
    yield app
    with app.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


@contextmanager
def restarted(first: Flask, **config: object) -> Iterator[Flask]:
    """A new app (as after a restart) on the database of `first`."""
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=first.config[
        "SQLALCHEMY_DATABASE_URI"], **config)
    try:
        yield app
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def send_report(app: Flask) -> Report:
    """Send one report through the form and return it as stored."""
    with app.app_context():
        unit_id = db.session.scalar(select(Unit.id))
    response = app.test_client().post("/", data={
        "kind": "incident", "text": "Läkemedelslistan visade fel dos efter uppdateringen.",
        "occurred_at": "2026-03-14T08:30", "unit_id": str(unit_id), "area": "medication",
        "impact": "near_miss", "suggestion": "", "identity": "anonymous",
        "submission_token": secrets.token_urlsafe(24)})
    assert response.status_code == 200
    with app.app_context():
        report = db.session.scalars(select(Report).order_by(Report.id.desc())).first()
        db.session.expunge(report)
        return report


def test_a_start_loads_the_active_model_before_the_first_report(first_app, classifier):
    with first_app.app_context():
        version_id = store_version(classifier).id
    with restarted(first_app) as cold:
        assert not cold.extensions.get("vaka_classifier")
    with restarted(first_app, WARM_UP_MODEL=True) as app:
        loaded = app.extensions["vaka_classifier"][version_id]
        report = send_report(app)
        assert report.model_version_id == version_id
        assert app.extensions["vaka_classifier"][version_id] is loaded  # not loaded again


def test_a_broken_model_neither_stops_a_start_nor_loses_a_report(first_app, classifier, caplog):
    with first_app.app_context():
        version = db.session.get(ModelVersion, store_version(classifier).id)
        version.artifact = b"not a model"
        db.session.commit()
    with caplog.at_level(logging.WARNING), restarted(first_app, WARM_UP_MODEL=True) as app:
        assert "no model loaded at start" in caplog.text
        report = send_report(app)
        assert report.id and report.model_version_id is None and not report.is_classified
        assert warm_up(app) is False  # and again, for a gunicorn worker


def add_reports(count: int) -> None:
    """Reports in every status, straight into the database (needs an app context)."""
    unit_id = db.session.scalar(select(Unit.id))
    statuses = list(Status)
    for number in range(count):
        report = new_report(ReportDraft(
            kind="incident", text=f"Rapport nummer {number} om journalsystemet.",
            occurred_at=datetime(2026, 3, 1, 8, 30), unit_id=unit_id, area="other",
            impact="none", suggestion=None, submission_token=secrets.token_urlsafe(24)),
            None, utcnow())
        report.status = statuses[number % len(statuses)]
        db.session.add(report)
    db.session.commit()


def default_queue_plan() -> list[str]:
    """EXPLAIN QUERY PLAN of the SELECT that the default queue page runs."""
    statements = []

    def keep(_conn, _cursor, statement, parameters, _context, _many):
        statements.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", keep)
    try:
        queue_page(ReportFilters(statuses=frozenset(OPEN_STATUSES)))
    finally:
        event.remove(db.engine, "before_cursor_execute", keep)
    [(statement, parameters)] = [s for s in statements if "ORDER BY report.priority" in s[0]]
    cursor = db.session.connection().connection.cursor()
    return [row[3] for row in cursor.execute(f"EXPLAIN QUERY PLAN {statement}", parameters)]


def stat1_tables() -> set[str]:
    if not db.session.execute(text(
            "SELECT 1 FROM sqlite_schema WHERE name = 'sqlite_stat1'")).first():
        return set()
    return set(db.session.scalars(text("SELECT tbl FROM sqlite_stat1")))


@sqlite_only
def test_a_start_gathers_statistics_so_the_queue_walks_its_urgency_index(first_app):
    with first_app.app_context():
        add_reports(40)
    with restarted(first_app) as app, app.app_context():
        assert "report" in stat1_tables()
        plan = default_queue_plan()
    assert any("USING INDEX ix_report_urgency" in step for step in plan), plan
    assert not any("TEMP B-TREE" in step for step in plan), plan


@sqlite_only
@pytest.mark.parametrize("every_s", [0, 3600])
def test_pooled_connections_run_pragma_optimize_on_schedule(tmp_path, every_s):
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/v.sqlite",
                     SQLITE_OPTIMIZE_EVERY_S=every_s)
    with app.app_context():
        db.create_all()  # after the start: its tables have no statistics yet
        db.session.add(Unit(name="Avdelning 1"))
        add_reports(20)
        queue_page(ReportFilters(statuses=frozenset(OPEN_STATUSES)))
        db.session.commit()  # the connection goes back to the pool ...
        analysed = "report" in stat1_tables()  # ... and is checked out again
        db.engine.dispose()
    assert analysed == (every_s == 0)


@sqlite_only
def test_an_autocommit_connection_is_not_rolled_back(tmp_path):
    path = tmp_path / "v.sqlite"
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}")
    with app.app_context():
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("CREATE TABLE kept (id INTEGER PRIMARY KEY)"))
        db.engine.dispose()
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT name FROM sqlite_schema").fetchall() == [("kept",)]
