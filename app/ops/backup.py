"""Backups of the database and their restore (`flask backup create|restore PATH`).

SQLite (the embedded default) is copied with its online backup API, a consistent
snapshot while the app goes on writing (WAL: the copy reads, writers are not held
up), then checked with ``PRAGMA quick_check``. PostgreSQL is dumped with
``pg_dump --format=custom`` and restored with ``pg_restore``, both from the
PostgreSQL client package, with the app's DATABASE_URL (the password goes to them
in PGPASSWORD, not on a command line others can read). A backup is written next
to PATH and renamed into place when complete, so PATH never holds half a backup.

A restore refuses a database that has tables unless forced: it would replace them.
Restore with the app stopped; then `flask db upgrade` brings an older backup's
schema up to date.
"""

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy import inspect
from sqlalchemy.engine import URL, make_url

from app.services import ServiceError
from models import db

#: Seconds the SQLite copy waits for a writer's lock before it gives up.
SQLITE_BUSY_TIMEOUT_S = 30.0
#: How much of a failing tool's error output to show.
ERROR_TAIL_CHARS = 2000


class BackupError(ServiceError):
    """The backup or the restore could not be done; the message says why."""


def create_backup(database_url: str, path: Path) -> None:
    """Write a backup of the database at `database_url` to `path` (which must not exist)."""
    if path.exists():
        raise BackupError(f"{path} exists already: back up to a new file")
    if not path.parent.is_dir():
        raise BackupError(f"{path.parent} is not a directory")
    url = make_url(database_url)
    partial = path.with_name(path.name + ".partial")
    try:
        if url.get_backend_name() == "sqlite":
            _sqlite_backup(_sqlite_file(url), partial)
        elif url.get_backend_name() == "postgresql":
            _run("pg_dump", "--format=custom", "--no-password", f"--file={partial}",
                 f"--dbname={_libpq(url)}", url=url)
        else:
            raise BackupError(f"no backup for {url.get_backend_name()} databases")
        partial.rename(path)
    finally:
        partial.unlink(missing_ok=True)


def restore_backup(database_url: str, path: Path, force: bool = False) -> None:
    """Replace the database at `database_url` with the backup at `path`.

    Refuses a database that has tables unless `force` is given.
    """
    if not path.is_file():
        raise BackupError(f"{path} is not a file")
    url = make_url(database_url)
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise BackupError(f"no restore for {url.get_backend_name()} databases")
    tables = inspect(db.engine).get_table_names()
    if tables and not force:
        raise BackupError(f"the database already has {len(tables)} tables: restore into an "
                          "empty database, or give --force to replace its contents")
    db.session.remove()
    db.engine.dispose()  # no pooled connection of ours may hold the old database
    if url.get_backend_name() == "sqlite":
        _sqlite_backup(path, Path(_sqlite_file(url)), check_source=True)
        return
    _run("pg_restore", "--no-owner", "--no-password", "--exit-on-error", "--single-transaction",
         *(["--clean", "--if-exists"] if tables else []), f"--dbname={_libpq(url)}", str(path),
         url=url)


def _sqlite_file(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("the database is in memory: there is no file to back up or restore")
    return Path(url.database)


def _sqlite_backup(source: Path, target: Path, check_source: bool = False) -> None:
    """Copy the SQLite database `source` into `target` page by page, consistently."""
    if not source.is_file():
        raise BackupError(f"{source} does not exist")
    reader = sqlite3.connect(source, timeout=SQLITE_BUSY_TIMEOUT_S)
    try:
        if check_source:
            _check(reader, source)
        writer = sqlite3.connect(target, timeout=SQLITE_BUSY_TIMEOUT_S)
        try:
            reader.backup(writer)
            _check(writer, target)
        finally:
            writer.close()
    except sqlite3.DatabaseError as error:
        raise BackupError(f"SQLite could not copy {source} to {target}: {error}") from error
    finally:
        reader.close()


def _check(connection: sqlite3.Connection, path: Path) -> None:
    [result] = connection.execute("PRAGMA quick_check").fetchone()
    if result != "ok":
        raise BackupError(f"{path} is damaged: {result}")


def _libpq(url: URL) -> str:
    """The URL as PostgreSQL's tools read it: no SQLAlchemy driver, no password."""
    return url.set(drivername="postgresql", password=None).render_as_string(
        hide_password=False)


def _run(tool: str, *arguments: str, url: URL) -> None:
    """Run a PostgreSQL client tool; BackupError with its own words if it fails."""
    executable = shutil.which(tool)
    if executable is None:
        raise BackupError(f"{tool} was not found: install the PostgreSQL client tools "
                          "(Debian: postgresql-client) of the server's major version or newer")
    env = {**os.environ, **({"PGPASSWORD": url.password} if url.password else {})}
    # Its full path and an argument list, no shell: nothing in the URL can become a command.
    finished = subprocess.run([executable, *arguments], env=env, capture_output=True,
                              text=True, check=False)
    if finished.returncode != 0:
        raise BackupError(f"{tool} failed (exit {finished.returncode}): "
                          f"{finished.stderr.strip()[-ERROR_TAIL_CHARS:]}")
