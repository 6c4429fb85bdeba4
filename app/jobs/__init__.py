"""Background jobs on Huey: one queue, its storage chosen by JOBS_URL (config.py).

The database is the ledger and the queue only delivers. Every Huey storage deletes
a message when a worker takes it, so a worker killed mid-job loses that message
(SQLite, PostgreSQL and Redis alike): what must happen is therefore written in the
database first (a report's `processed` flag) and the sweep (app/jobs/tasks.py)
enqueues again what a lost message left undone. Jobs are idempotent, so a message
delivered twice does no harm.

`job` and `periodic` register a function as a job that runs in an app context; a job
that fails on its last retry is stored as a `FailedJob` for the admin page. With
JOBS_IMMEDIATE (the tests) a job runs inside `enqueue`, in the caller's context.
"""

import functools
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, has_app_context
from huey import Huey, crontab, signals
from huey.api import Task, TaskWrapper
from huey.storage import BaseStorage, MemoryStorage, PostgresStorage, RedisStorage, SqliteStorage
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from models import FailedJob, PeriodicRun, Report, db, transaction, utcnow

log = logging.getLogger(__name__)

QUEUE_NAME = "vaka"
#: Seconds an idle worker thread waits at most before it looks at a SQLite queue again
#: (Redis and PostgreSQL wake it up as a message arrives).
MAX_POLL_DELAY_S = 0.5

queue = Huey(QUEUE_NAME, immediate=True, storage_class=MemoryStorage)
#: The app the worker's threads run jobs in (the latest `init_app`).
_app: Flask | None = None
#: Jobs by name, with whether they follow JOBS_RETRIES (periodic ones wait for their
#: next period instead): what the admin page can retry.
_jobs: dict[str, tuple[TaskWrapper, bool]] = {}


def storage_for(url: str) -> BaseStorage:
    """The Huey storage a JOBS_URL names: redis://, postgresql:// or sqlite:///path."""
    scheme = urlsplit(url).scheme
    if scheme in ("redis", "rediss", "unix"):
        return RedisStorage(QUEUE_NAME, url=url)
    if scheme in ("postgres", "postgresql"):
        return PostgresStorage(QUEUE_NAME, dsn=url)
    if scheme == "sqlite":
        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        return SqliteStorage(QUEUE_NAME, filename=str(path))
    raise ValueError(f"JOBS_URL must start with redis://, postgresql:// or sqlite:///, "
                     f"not {url!r}")


def init_app(app: Flask) -> None:
    """Point the queue at the app's storage (or run jobs at once) and set the retries."""
    global _app
    _app = app
    queue.immediate = app.config["JOBS_IMMEDIATE"]
    if not queue.immediate:
        queue.storage = storage_for(app.config["JOBS_URL"])
    for wrapper, retried in _jobs.values():
        if retried:
            wrapper.task_class.default_retries = app.config["JOBS_RETRIES"]
            wrapper.task_class.default_retry_delay = app.config["JOBS_RETRY_DELAY_S"]


def _in_app_context(func: Callable) -> Callable:
    @functools.wraps(func)
    def run(*args: Any) -> Any:
        if has_app_context():  # immediate mode: the caller's request or command
            return func(*args)
        with _app.app_context():
            try:
                return func(*args)
            finally:
                db.session.remove()
    return run


def job(retried: bool = True) -> Callable[[Callable], TaskWrapper]:
    """Make a function a job; `retried` ones retry with back-off (JOBS_RETRIES)."""
    def register(func: Callable) -> TaskWrapper:
        wrapper = queue.task(name=func.__name__, retry_backoff=2 if retried else 0)(
            _in_app_context(func))
        _jobs[wrapper.name] = (wrapper, retried)
        return wrapper
    return register


def periodic(schedule: crontab, period_format: str) -> Callable[[Callable], TaskWrapper]:
    """Make a function a periodic job the worker's scheduler enqueues on `schedule`.

    Every worker's scheduler enqueues it, so a run first claims its period (the current
    time in `period_format`, for example ``%Y-%m-%dT%H:%M``) in the database: the
    other workers' runs of that period do nothing. A killed run holds no lock; its
    period is lost and the next one runs.
    """
    def register(func: Callable) -> TaskWrapper:
        @functools.wraps(func)
        def once_per_period() -> None:
            if claim_period(func.__name__, utcnow().strftime(period_format)):
                func()
        wrapper = queue.periodic_task(schedule, name=func.__name__)(
            _in_app_context(once_per_period))
        _jobs[wrapper.name] = (wrapper, False)
        return wrapper
    return register


def claim_period(name: str, period: str) -> bool:
    """Whether this run is the first of `name` for `period` (periods sort as text)."""
    with transaction():
        claimed = db.session.execute(
            update(PeriodicRun).where(PeriodicRun.name == name, PeriodicRun.period < period)
            .values(period=period)).rowcount
        if claimed or db.session.get(PeriodicRun, name) is not None:
            return bool(claimed)
        try:
            with db.session.begin_nested():
                db.session.add(PeriodicRun(name=name, period=period))
        except IntegrityError:  # another worker's first run
            return False
    return True


def enqueue(wrapper: TaskWrapper, *args: Any) -> bool:
    """Enqueue a job; False (logged) when the queue cannot be reached.

    Callers enqueue after their commit, so what the job would do is already in the
    ledger and the sweep delivers it later.
    """
    try:
        wrapper(*args)
    except Exception:
        log.exception("job %s%r could not be enqueued; left to the sweep", wrapper.name, args)
        return False
    return True


@queue.signal(signals.SIGNAL_ERROR)
def _failed(signal: str, task: Task, error: BaseException | None = None) -> None:
    """A job that failed with no retry left goes on the admin's list of failed jobs."""
    if task.retries or task.name not in _jobs:
        return
    _in_app_context(store_failure)(task.name, list(task.args), repr(error))


def store_failure(name: str, args: list, error: str) -> None:
    with transaction():
        db.session.add(FailedJob(name=name, args=args, error=error[:2000],
                                 failed_hour=Report.hour_of(utcnow())))


def queue_depth() -> int:
    """Messages waiting in the queue (delayed retries not counted)."""
    return queue.pending_count()


def scheduled_count() -> int:
    """Retries waiting for their back-off to pass."""
    return queue.scheduled_count()


def job_named(name: str) -> TaskWrapper | None:
    """The registered job of that name (a failed job's), if this code still has it."""
    entry = _jobs.get(name)
    return entry[0] if entry else None
