"""The database handle and the transaction helpers every service uses."""

import logging
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData, event, literal, select, table
from sqlalchemy.engine import Connection, Engine
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
log = logging.getLogger(__name__)

#: Execution option that marks a transaction as a writer (see `configure_sqlite`).
WRITE_OPTION = "vaka_write"


def utcnow() -> datetime:
    """The current time in UTC, without tzinfo (how the database stores it)."""
    return datetime.now(UTC).replace(tzinfo=None)


def configure_sqlite(engine: Engine, busy_timeout_ms: int, optimize_every_s: float) -> None:
    """Make SQLite safe for concurrent writers and keep its planner statistics current.

    WAL lets readers run beside a writer, foreign keys are enforced, and
    transactions are begun by us rather than by the sqlite3 module: a writer
    starts with ``BEGIN IMMEDIATE`` (it queues on the busy timeout instead of
    failing with "database is locked" when it upgrades a read lock), while a
    reader stays ``DEFERRED`` so a long export never blocks a submission. A
    connection asked for ``AUTOCOMMIT`` gets no ``BEGIN``, so what it runs
    (``ANALYZE``, ``VACUUM``) is not rolled back when it goes back to the pool.

    Statistics, as SQLite advises for long-lived connections: each pooled
    connection runs ``PRAGMA optimize=0x10002`` when it is opened and
    ``PRAGMA optimize`` when it is checked out again `optimize_every_s` seconds
    later (see also `analyze_unanalyzed_tables`).
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.close()
        _optimize(dbapi_connection, record, "PRAGMA optimize = 0x10002")

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection, record, _proxy):
        if time.monotonic() - record.info.get(OPTIMIZED_AT, 0.0) >= optimize_every_s:
            _optimize(dbapi_connection, record, "PRAGMA optimize")

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        options = connection.get_execution_options()
        if options.get("isolation_level") == "AUTOCOMMIT":
            return
        connection.exec_driver_sql("BEGIN IMMEDIATE" if options.get(WRITE_OPTION) else "BEGIN")


#: When a pooled SQLite connection last ran ``PRAGMA optimize`` (`time.monotonic`).
OPTIMIZED_AT = "vaka_optimized_at"


def _optimize(dbapi_connection, record, pragma: str) -> None:
    """Run a ``PRAGMA optimize``; a busy database only delays it to the next time."""
    record.info[OPTIMIZED_AT] = time.monotonic()
    try:
        dbapi_connection.execute(pragma)
    except sqlite3.OperationalError as error:
        log.warning("%s skipped: %s", pragma, error)


def analyze_unanalyzed_tables(connection: Connection) -> list[str]:
    """ANALYZE each table that has rows and an index without statistics; their names.

    This is what ``PRAGMA optimize=0x10002`` does when a connection opens on
    SQLite 3.46 or later. Older versions (Python's bundled SQLite may be one)
    only look at tables the connection has already queried, so a database that
    was never analysed (a new one, or one filled in bulk) would leave the
    planner guessing: with no statistics, the queue reads every open report
    through the status index and sorts them instead of walking
    ``ix_report_urgency``. The app runs this once when it starts.
    """
    analysed: set[str] = set()
    if connection.exec_driver_sql(
            "SELECT 1 FROM sqlite_schema WHERE name = 'sqlite_stat1'").first():
        analysed = set(connection.exec_driver_sql("SELECT idx FROM sqlite_stat1").scalars())
    indexes = connection.exec_driver_sql(
        "SELECT t.name, i.name FROM sqlite_schema AS t, pragma_index_list(t.name) AS i"
        " WHERE t.type = 'table' AND t.name NOT LIKE 'sqlite_%'").all()
    unanalysed = sorted({name for name, index in indexes if index not in analysed})
    filled = [name for name in unanalysed
              if connection.execute(select(literal(1)).select_from(table(name)).limit(1)).first()]
    quote = connection.dialect.identifier_preparer.quote
    for name in filled:
        connection.exec_driver_sql(f"ANALYZE {quote(name)}")
    return filled


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
