"""The jobs: a report's processing, the sweep, and what the schedule runs.

Per report, `process_report_job` (app/services/processing.py). Periodic, run by the
worker's scheduler (the queue's, not cron), each once per period however many
workers run: the sweep every minute, the alert evaluation every 15 minutes (stale
groups fade first), the retention rule daily at 03:30 UTC. On demand, from the CLI:
retraining and reclassification.

The sweep is what makes delivery at-least-once. A report whose job has not finished
when two sweeps in a row saw it unprocessed (one to two minutes) is enqueued again,
and again after 4, 8, 16, ... sweeps, so a worker that is down for hours does not
fill the queue with copies. It remembers only how many sweeps saw each report, in
the queue's own storage: no time is stored that would date an anonymous report.
"""

from datetime import datetime

from huey import crontab

from app.jobs import enqueue, job, periodic, queue
from app.services.alerts import evaluate_alerts
from app.services.classification import (
    count_unclassified,
    load_active_classifier,
    reclassify_missing,
    train_candidate,
)
from app.services.grouping import fade_stale
from app.services.processing import process_report, unprocessed_report_ids
from app.services.retention import apply_retention
from models import utcnow

#: Where the sweep keeps, per unprocessed report, how many sweeps have seen it.
SWEEP_KEY = "sweep.seen"
#: Sweeps that must see a report unprocessed before it is enqueued again.
LEASE_SWEEPS = 2


@job()
def process_report_job(report_id: int) -> None:
    process_report(report_id)


def sweep() -> list[int]:
    """Enqueue again the reports whose job a lost message left undone; their ids."""
    seen = queue.get(SWEEP_KEY, peek=True) or {}
    counts = {report_id: seen.get(report_id, 0) + 1 for report_id in unprocessed_report_ids()}
    queue.put(SWEEP_KEY, counts)
    due = [report_id for report_id, count in counts.items()
           if count >= LEASE_SWEEPS and count & (count - 1) == 0]  # 2, 4, 8, ...
    for report_id in due:
        enqueue(process_report_job, report_id)
    return due


@periodic(crontab(), "%Y-%m-%dT%H:%M")
def sweep_job() -> None:
    sweep()


def check_alerts(as_of: datetime | None = None, notify: bool = True) -> datetime:
    """Fade the groups no report joined for a while, then evaluate the alerts (as
    `flask alerts check` does, and the schedule); the moment evaluated."""
    as_of = as_of or utcnow()
    fade_stale(as_of)
    evaluate_alerts(as_of, notify=notify)
    return as_of


@periodic(crontab(minute="*/15"), "%Y-%m-%dT%H:%M")
def alerts_job() -> None:
    check_alerts()


@periodic(crontab(minute="30", hour="3"), "%Y-%m-%d")
def retention_job() -> None:
    apply_retention()


@job(retried=False)
def retrain_job(force: bool) -> str:
    """Train a candidate model (see `train_candidate`); what was decided, in words."""
    outcome = train_candidate(force=force)
    return f"model version {outcome.version.id}: {outcome.reason}"


class ReportsLeftUnclassified(RuntimeError):
    pass


@job(retried=False)
def reclassify_job() -> int:
    """Classify every report without a prediction; raises when any is left."""
    load_active_classifier()
    done = reclassify_missing()
    left = count_unclassified()
    if left:
        raise ReportsLeftUnclassified(f"{left} report(s) are still unclassified; see the log")
    return done
