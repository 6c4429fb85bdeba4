"""The database handle and the transaction helpers every service uses."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

# Named constraints keep Alembic migrations identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)

#: Execution option that marks a transaction as a writer (see `configure_sqlite`).
WRITE_OPTION = "vaka_write"


def utcnow() -> datetime:
    """The current time in UTC, without tzinfo (how the database stores it)."""
    return datetime.now(UTC).replace(tzinfo=None)


def configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    """Make SQLite safe for concurrent writers.

    WAL lets readers run beside a writer, foreign keys are enforced, and
    transactions are begun by us rather than by the sqlite3 module: a writer
    starts with ``BEGIN IMMEDIATE`` (it queues on the busy timeout instead of
    failing with "database is locked" when it upgrades a read lock), while a
    reader stays ``DEFERRED`` so a long export never blocks a submission.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        writer = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writer else "BEGIN")


@contextmanager
def transaction() -> Iterator[None]:
    """Run the block as one write transaction: commit on success, roll back on error.

    Any read transaction still open in the session is ended first, so the write
    starts from a fresh snapshot with the write lock already held.
    """
    if db.session().in_transaction():
        db.session.commit()
    db.session.connection(execution_options={WRITE_OPTION: True})
    db.session.info[WRITE_OPTION] = True
    try:
        yield
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    finally:
        db.session.info.pop(WRITE_OPTION, None)


def in_write_transaction() -> bool:
    """Whether the code runs inside a `transaction()` block (its writes commit with it)."""
    return bool(db.session.info.get(WRITE_OPTION))
