"""The database handle and the transaction helpers every service uses."""

import logging
import sqlite3
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import UTC, datetime

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData, event, literal, select, table
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import DeclarativeBase

# Named constraints keep Alembic migrations identical on SQLite and PostgreSQL.
#: The largest id a row can have (SQLite's INTEGER, PostgreSQL's bigint); an id from a
#: request beyond it must be refused before a query, where SQLite cannot even bind it.
MAX_ID = 2**63 - 1

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
    starts with ``BEGIN IMMEDIATE`` (it waits for the write lock, see
    `_begin_immediate`, instead of failing with "database is locked" when it
    upgrades a read lock), while a reader stays ``DEFERRED`` so a long export
    never blocks a submission. A connection asked for ``AUTOCOMMIT`` gets no
    ``BEGIN``, so what it runs (``ANALYZE``, ``VACUUM``) is not rolled back when
    it goes back to the pool. The writers of one process take turns
    (`writer_turn`), so only one of them at a time waits for SQLite's lock.

    Statistics, as SQLite advises for long-lived connections: each pooled
    connection runs ``PRAGMA optimize=0x10002`` when it is opened and
    ``PRAGMA optimize`` when it is checked out again `optimize_every_s` seconds
    later (see also `analyze_unanalyzed_tables`).
    """
    _WRITER_TURNS[engine] = _WriterTurn(busy_timeout_ms / 1000)

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
        if options.get(WRITE_OPTION):
            _begin_immediate(connection.connection.dbapi_connection, busy_timeout_ms)
        else:
            connection.exec_driver_sql("BEGIN")


#: Seconds between a waiting writer's tries for SQLite's write lock.
WRITE_LOCK_POLL_S = 0.001


def _begin_immediate(dbapi_connection: sqlite3.Connection, busy_timeout_ms: int) -> None:
    """``BEGIN IMMEDIATE``, tried every `WRITE_LOCK_POLL_S` until the busy timeout passed.

    SQLite's own busy handler sleeps the longer the longer a writer has waited (up
    to 100 ms between tries), so under load a writer that came early loses the lock
    again and again to the ones that came after it: with the jobs worker beside
    `make run`'s server, one submission in a hundred waited over two seconds. Here
    every waiting writer tries as often as the others.
    """
    deadline = time.monotonic() + busy_timeout_ms / 1000
    dbapi_connection.execute("PRAGMA busy_timeout = 0")
    try:
        while True:
            try:
                dbapi_connection.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as error:
                if error.sqlite_errorcode != sqlite3.SQLITE_BUSY or time.monotonic() > deadline:
                    raise OperationalError("BEGIN IMMEDIATE", None, error) from error
            time.sleep(WRITE_LOCK_POLL_S)
    finally:
        dbapi_connection.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")


class _WriterTurn:
    """The writers of one SQLite database in one process, one at a time.

    A thread waiting here sleeps until the writer before it is done, instead of
    polling SQLite beside it (sixteen threads of `flask run` would all poll), and
    gives up after the busy timeout, as SQLite's own wait does.
    """

    def __init__(self, timeout_s: float) -> None:
        self._lock = threading.RLock()
        self._timeout_s = timeout_s

    def __enter__(self) -> None:
        if not self._lock.acquire(timeout=self._timeout_s):
            raise OperationalError("BEGIN IMMEDIATE", None, sqlite3.OperationalError(
                "database is locked (by another writer of this process)"))

    def __exit__(self, *exc_info) -> None:
        self._lock.release()


_WRITER_TURNS: "weakref.WeakKeyDictionary[Engine, _WriterTurn]" = weakref.WeakKeyDictionary()


def writer_turn(engine: Engine) -> AbstractContextManager[None]:
    """The turn a write transaction on `engine` waits for (none but on SQLite)."""
    return _WRITER_TURNS.get(engine) or nullcontext()


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
    with writer_turn(db.session.get_bind()):
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
