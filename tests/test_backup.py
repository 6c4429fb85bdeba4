"""Backups and the restore drill: back up, restore into a fresh database, and find the
same reports (count and the SHA-256 of the de-identified export) on SQLite and PostgreSQL.

The SQLite drills use files of their own; the PostgreSQL drill runs when
TEST_DATABASE_URL is a PostgreSQL database and restores into a new database beside it.
"""

import hashlib
import os
import secrets
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import psycopg
import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from app import create_app
from app.services.drafts import ReportDraft
from app.services.export import ExportOptions, export_file
from app.services.reports import submit_report
from config import TestingConfig, database_url
from models import Report, Unit, User, db

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
ON_POSTGRESQL = TEST_DATABASE_URL.startswith(("postgres://", "postgresql"))
needs_postgresql = pytest.mark.skipif(not ON_POSTGRESQL,
                                      reason="TEST_DATABASE_URL is not PostgreSQL")
TEXTS = ["Skrivaren på avdelning 12 skriver inte ut etiketterna, ring 070-123 45 67.",
         "Läkemedelslistan visade \"fel\" dos för patienten 19121212-1212, upptäckt i tid.",
         "The lab result for Hb never reached the record, we waited for hours.",
         "=SUM(A1) Journalen låste sig vid signering, allt fick skrivas om."]


def sqlite_app(path: Path, tables: bool = True) -> Flask:
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}")
    if tables:
        with app.app_context():
            db.create_all()
    return app


def fill(app: Flask, count: int) -> None:
    """`count` reports through the app's own submission, named and anonymous."""
    with app.app_context():
        unit = db.session.scalar(select(Unit)) or Unit(name="Avdelning 12")
        reporter = db.session.scalar(select(User)) or User(email="sjukskoterska@example.org",
                                                          role="staff", password_hash="x")
        db.session.add_all([unit, reporter])
        db.session.commit()
        for number in range(count):
            submit_report(ReportDraft(
                kind="incident", text=TEXTS[number % len(TEXTS)],
                occurred_at=datetime(2026, 11, 2, 8, 30), unit_id=unit.id, area="other",
                impact="none", suggestion="Ring IT" if number % 2 else None,
                submission_token=secrets.token_urlsafe(24)),
                reporter if number % 3 == 0 else None)


def fingerprint(app: Flask) -> tuple[int, str]:
    """How many reports there are and the SHA-256 of the de-identified export."""
    with app.app_context():
        digest = hashlib.sha256(b"".join(export_file(ExportOptions(), None))).hexdigest()
        return db.session.scalar(select(func.count(Report.id))), digest


def run(app: Flask, *arguments: str):
    return app.test_cli_runner().invoke(args=["backup", *arguments])


def test_sqlite_restore_drill(tmp_path):
    live, backup = sqlite_app(tmp_path / "live.sqlite"), tmp_path / "vaka.backup"
    fill(live, 12)
    expected = fingerprint(live)
    created = run(live, "create", str(backup))
    assert created.exit_code == 0, created.output
    restored = sqlite_app(tmp_path / "restored.sqlite", tables=False)
    result = run(restored, "restore", str(backup))
    assert result.exit_code == 0, result.output
    assert fingerprint(restored) == expected and expected[0] == 12


def test_a_restore_refuses_a_database_with_tables_unless_forced(tmp_path):
    live, backup = sqlite_app(tmp_path / "live.sqlite"), tmp_path / "vaka.backup"
    fill(live, 3)
    assert run(live, "create", str(backup)).exit_code == 0
    fill(live, 2)
    refused = run(live, "restore", str(backup))
    assert refused.exit_code == 1 and "give --force" in refused.output
    assert fingerprint(live)[0] == 5  # nothing replaced
    forced = run(live, "restore", "--force", str(backup))
    assert forced.exit_code == 0, forced.output
    assert fingerprint(live)[0] == 3


def test_the_sqlite_backup_is_consistent_while_the_app_writes(tmp_path):
    """Reports keep coming in during three backups: each is whole, none blocks a writer."""
    live = sqlite_app(tmp_path / "live.sqlite")
    fill(live, 2)
    stop, errors, written = threading.Event(), [], []

    def write() -> None:
        while not stop.is_set():
            try:
                fill(live, 1)
                written.append(1)
            except Exception as error:  # reported by the assertion below
                errors.append(error)
                return

    writer = threading.Thread(target=write)
    writer.start()
    backups = [tmp_path / f"vaka-{number}.backup" for number in range(3)]
    try:
        for backup in backups:
            while len(written) < 3 * (backups.index(backup) + 1) and writer.is_alive():
                stop.wait(0.01)
            result = run(live, "create", str(backup))
            assert result.exit_code == 0, result.output
    finally:
        stop.set()
        writer.join()
    assert errors == []
    counts = []
    for number, backup in enumerate(backups):
        copy = sqlite_app(tmp_path / f"copy-{number}.sqlite", tables=False)
        assert run(copy, "restore", str(backup)).exit_code == 0
        with copy.app_context():
            count, last = db.session.execute(select(func.count(), func.max(Report.id))).one()
        assert count == last  # a snapshot: every report up to the last one, none half-written
        counts.append(count)
    assert 2 < counts[0] < counts[1] < counts[2] <= 2 + len(written)


def test_backups_refuse_what_they_cannot_do(tmp_path):
    memory = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI="sqlite://")
    result = run(memory, "create", str(tmp_path / "vaka.backup"))
    assert result.exit_code == 1 and "in memory" in result.output
    live = sqlite_app(tmp_path / "live.sqlite")
    (tmp_path / "taken.backup").write_bytes(b"an older backup")
    result = run(live, "create", str(tmp_path / "taken.backup"))
    assert result.exit_code == 1 and "exists already" in result.output
    assert (tmp_path / "taken.backup").read_bytes() == b"an older backup"
    result = run(live, "restore", "--force", str(tmp_path / "taken.backup"))
    assert result.exit_code == 1 and "not a database" in result.output
    result = run(live, "restore", str(tmp_path / "missing.backup"))
    assert result.exit_code == 1 and "is not a file" in result.output


def test_a_missing_pg_dump_is_a_clear_failure(tmp_path, monkeypatch):
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=database_url(
        "postgresql://postgres@127.0.0.1:5432/vaka_ops"))
    monkeypatch.setenv("PATH", str(tmp_path))  # a machine without the PostgreSQL client
    result = run(app, "create", str(tmp_path / "vaka.dump"))
    assert result.exit_code == 1 and "pg_dump was not found" in result.output
    assert list(tmp_path.iterdir()) == []


# PostgreSQL -------------------------------------------------------------------------------

@pytest.fixture
def fresh_database() -> Iterator[str]:
    """A new, empty PostgreSQL database beside the test database; dropped afterwards."""
    server = make_url(TEST_DATABASE_URL)
    name = f"{server.database}_restore"
    maintenance = server.set(drivername="postgresql", database="postgres")
    with psycopg.connect(maintenance.render_as_string(hide_password=False),
                         autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')
        yield server.set(database=name).render_as_string(hide_password=False)
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@needs_postgresql
def test_postgresql_restore_drill(app, fresh_database, tmp_path):
    fill(app, 12)
    expected = fingerprint(app)
    dump = tmp_path / "vaka.dump"
    created = run(app, "create", str(dump))
    assert created.exit_code == 0, created.output
    assert dump.read_bytes().startswith(b"PGDMP")  # pg_dump's custom format
    restored = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=database_url(fresh_database))
    result = run(restored, "restore", str(dump))
    assert result.exit_code == 0, result.output
    try:
        assert fingerprint(restored) == expected and expected[0] == 12
        refused = run(restored, "restore", str(dump))
        assert refused.exit_code == 1 and "give --force" in refused.output
        forced = run(restored, "restore", "--force", str(dump))
        assert forced.exit_code == 0, forced.output
        assert fingerprint(restored) == expected
    finally:
        with restored.app_context():
            db.engine.dispose()


@needs_postgresql
def test_a_failing_pg_dump_says_why_and_leaves_no_file(tmp_path):
    missing = make_url(TEST_DATABASE_URL).set(database="vaka_no_such_database")
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=database_url(
        missing.render_as_string(hide_password=False)))
    result = run(app, "create", str(tmp_path / "vaka.dump"))
    assert result.exit_code == 1
    assert "pg_dump failed" in result.output and "vaka_no_such_database" in result.output
    assert list(tmp_path.iterdir()) == []
