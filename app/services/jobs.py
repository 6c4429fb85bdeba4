"""The background jobs as an admin sees them: backlog, queue, failed jobs, retrying one."""

from dataclasses import dataclass

from sqlalchemy import func, select

from app.jobs import enqueue, job_named, queue_depth, scheduled_count, store_failure
from app.services import NotFound
from app.services.audit import record
from models import FailedJob, Report, User, db, transaction


@dataclass(frozen=True)
class JobsOverview:
    #: Reports whose job has not finished ("being classified").
    backlog: int
    #: Messages waiting in the queue, and retries waiting for their back-off;
    #: None when the queue cannot be reached.
    queued: int | None
    retrying: int | None
    failed: list[FailedJob]


def backlog() -> int:
    """How many reports wait for their job ("being classified")."""
    return db.session.scalar(select(func.count()).select_from(Report)
                             .where(Report.unprocessed()))


def failed_count() -> int:
    return db.session.scalar(select(func.count()).select_from(FailedJob))


def failed_jobs() -> list[FailedJob]:
    """The jobs that failed on their last retry, newest first."""
    return list(db.session.scalars(select(FailedJob).order_by(FailedJob.id.desc())))


def jobs_overview() -> JobsOverview:
    try:
        queued, retrying = queue_depth(), scheduled_count()
    except Exception:  # the admin page still shows the ledger's side
        queued = retrying = None
    return JobsOverview(backlog=backlog(), queued=queued, retrying=retrying,
                        failed=failed_jobs())


def retry_failed_job(failed_id: int, actor: User) -> FailedJob:
    """Enqueue a failed job again and take it off the list (audited).

    If the queue cannot be reached the job goes back on the list, saying so.
    """
    with transaction():
        failed = db.session.get(FailedJob, failed_id)
        wrapper = job_named(failed.name) if failed is not None else None
        if wrapper is None:
            raise NotFound("no such failed job")
        db.session.delete(failed)
        record("job.retry", actor, "failed_job", failed_id, name=failed.name)
    if not enqueue(wrapper, *failed.args):
        store_failure(failed.name, failed.args, "the queue could not be reached to retry it")
    return failed
