"""Database set-up: SQLite concurrency, migrations, and refusing unsafe configuration."""

import os
import sqlite3
import threading
from datetime import datetime

import pytest
from sqlalchemy import func, inspect, select, text
from sqlalchemy.exc import OperationalError

from app import ConfigurationError, create_app
from app.services.drafts import ReportDraft
from app.services.reports import submit_report
from config import Config, TestingConfig
from models import Report, Unit, db, transaction

ON_POSTGRES = bool(os.environ.get("TEST_DATABASE_URL"))
sqlite_only = pytest.mark.skipif(ON_POSTGRES, reason="checks SQLite's own settings")


@pytest.fixture
def file_app(tmp_path):
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/v.sqlite")
    with app.app_context():
        db.create_all()
        db.session.add(Unit(name="Avdelning 1"))
        db.session.commit()
    yield app
    with app.app_context():
        db.engine.dispose()


@sqlite_only
def test_sqlite_uses_wal_foreign_keys_and_a_busy_timeout(file_app):
    with file_app.app_context():
        assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert db.session.execute(text("PRAGMA busy_timeout")).scalar() >= 1000


@sqlite_only
def test_concurrent_submissions_never_fail_with_a_locked_database(file_app):
    errors: list[BaseException] = []

    def submit(worker: int) -> None:
        with file_app.app_context():
            try:
                for n in range(10):
                    submit_report(ReportDraft(
                        kind="incident", text=f"Rapport {worker}-{n} om systemet",
                        occurred_at=datetime(2026, 1, 1),
                        unit_id=1, area="other", impact="none", suggestion=None,
                        submission_token=f"token-{worker}-{n}-padding-padding"), None)
            except BaseException as error:  # collected for the assertion below
                errors.append(error)
            finally:
                db.session.remove()

    # A long read transaction stays open meanwhile, as an export would.
    with file_app.app_context():
        reader = db.engine.connect()
        reader.execute(select(func.count()).select_from(Report))
        threads = [threading.Thread(target=submit, args=(w,)) for w in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        reader.close()
        assert errors == []
        assert db.session.scalar(select(func.count()).select_from(Report)) == 40


def _lock_for(app, seconds: float) -> threading.Thread:
    """Another process's writer, as far as the app can tell: a plain sqlite3 connection
    that takes the write lock and keeps it for `seconds`; started once it holds it."""
    path = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    locked = threading.Event()

    def hold() -> None:
        connection = sqlite3.connect(path, isolation_level=None)
        connection.execute("BEGIN IMMEDIATE")
        locked.set()
        threading.Event().wait(seconds)
        connection.execute("COMMIT")
        connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    locked.wait(5)
    return holder


@sqlite_only
def test_a_writer_waits_for_another_writers_lock_and_then_writes(file_app):
    holder = _lock_for(file_app, 0.3)
    with file_app.app_context():
        with transaction():
            db.session.add(Unit(name="Avdelning 2"))
        holder.join()
        assert db.session.scalar(select(func.count()).select_from(Unit)) == 2
        # The wait polls with SQLite's own busy handler off; the setting is back after it.
        assert db.session.execute(text("PRAGMA busy_timeout")).scalar() == \
            file_app.config["SQLITE_BUSY_TIMEOUT_MS"]


@pytest.fixture
def impatient_app(tmp_path):
    """A file database whose writers wait 200 ms for the lock, with no units."""
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/v.sqlite",
                     SQLITE_BUSY_TIMEOUT_MS=200)
    with app.app_context():
        db.create_all()
    yield app
    with app.app_context():
        db.engine.dispose()


@sqlite_only
def test_a_writer_gives_up_after_the_busy_timeout_and_writes_nothing(impatient_app):
    holder = _lock_for(impatient_app, 1.0)
    with impatient_app.app_context():
        with pytest.raises(OperationalError, match="database is locked"), transaction():
            db.session.add(Unit(name="Avdelning 2"))
        holder.join()
        assert db.session.scalar(select(func.count()).select_from(Unit)) == 0


@sqlite_only
def test_writers_of_one_process_take_turns_and_a_late_one_gives_up(impatient_app):
    app = impatient_app
    writing, done = threading.Event(), threading.Event()

    def first_writer() -> None:
        with app.app_context():
            with transaction():
                db.session.add(Unit(name="Avdelning 1"))
                writing.set()
                done.wait(5)
            db.session.remove()

    first = threading.Thread(target=first_writer)
    first.start()
    writing.wait(5)
    with app.app_context():
        with pytest.raises(OperationalError, match="another writer of this process"), \
                transaction():
            db.session.add(Unit(name="Avdelning 2"))
        done.set()
        first.join()
        assert db.session.scalars(select(Unit.name)).all() == ["Avdelning 1"]


def test_foreign_keys_are_enforced(app):
    with app.app_context():
        db.session.add(Report(kind="incident", text="x" * 20, text_deidentified="x" * 20,
                              occurred_at=func.now(),
                              unit_id=999, area="other", impact="none", reporter_id=None,
                              receipt_hash="h", submission_token="t",
                              submitted_on=func.current_date()))
        with pytest.raises(Exception, match=r"(?i)foreign key"):
            db.session.commit()
        db.session.rollback()


def test_migrations_build_the_same_schema_as_the_models(app, runner):
    with app.app_context():
        db.drop_all()
        db.session.execute(text("DROP TABLE IF EXISTS alembic_version"))
        db.session.commit()
    upgrade = runner.invoke(args=["db", "upgrade"])
    assert upgrade.exit_code == 0, upgrade.output
    check = runner.invoke(args=["db", "check"])
    assert check.exit_code == 0, check.output
    with app.app_context():
        tables = set(inspect(db.engine).get_table_names())
        assert {"report", "label", "unit", "user", "model_version"} <= tables
    downgrade = runner.invoke(args=["db", "downgrade", "base"])
    assert downgrade.exit_code == 0, downgrade.output


def test_production_start_refuses_a_missing_or_default_secret_key():
    class Production(Config):
        SECRET_KEY = ""

    with pytest.raises(ConfigurationError):
        create_app(Production)
    with pytest.raises(ConfigurationError):
        create_app(Config, SECRET_KEY="dev-not-secret")
    assert create_app(Config, SECRET_KEY="a-real-random-key").config["SECRET_KEY"]


def test_postgres_urls_use_psycopg3():
    from config import database_url

    assert database_url("postgres://h/db") == "postgresql+psycopg://h/db"
    assert database_url("postgresql://h/db") == "postgresql+psycopg://h/db"
    assert database_url("sqlite:///x") == "sqlite:///x"
