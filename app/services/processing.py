"""What a submitted report's background job does: classify, index, group, test for an alert.

`process_report` runs in a worker (app/jobs/tasks.py), at least once per report and
maybe more often (the sweep enqueues again a report whose job it did not see finish).
Every step is idempotent: classification skips a report that has a model prediction,
indexing rewrites the report's entries, grouping leaves a grouped report where it is,
an alert is raised once per uncleared key and its e-mail once (`notified_at`). The
report is marked processed last, so a job killed at any step is simply run again.
The steps commit one by one: the model's prediction is made outside the grouping's
write lock, and the alert test reads the committed group.
"""

import logging

from sqlalchemy import select, update

from app.services.alerts import check_emerging_issue
from app.services.classification import classify_reports
from app.services.grouping import group_report, undecided_id
from app.services.similarity import index_reports
from models import Report, db, transaction, utcnow

log = logging.getLogger(__name__)

#: The sweep looks at no more unprocessed reports than this at a time.
SWEEP_LIMIT = 10_000


class ReportNotClassified(RuntimeError):
    """No model could classify the report: it is indexed and grouped, and its job retried."""


def process_report(report_id: int) -> bool:
    """Process a stored report unless that was done; whether this run processed it.

    Raises ReportNotClassified when no model loads (the report is stored, indexed and
    grouped, and stays "being classified" until a retry classifies it).
    """
    if db.session.scalar(select(Report.processed).where(Report.id == report_id)) in (None, True):
        return False
    classify_reports([report_id])
    with transaction():
        report = db.session.get(Report, report_id, with_for_update=True, populate_existing=True)
        if report.processed:
            return False
        index_reports([report_id])
        alert_group = undecided_id(group_report(report_id))
        classified = report.is_classified
    if alert_group is not None:
        check_emerging_issue(alert_group, utcnow())
    if not classified:
        raise ReportNotClassified(f"report {report_id} could not be classified; see the log")
    with transaction():
        db.session.execute(update(Report).where(Report.id == report_id).values(processed=True))
    return True


def unprocessed_report_ids(limit: int = SWEEP_LIMIT) -> list[int]:
    """Reports whose job has not finished, oldest first (`ix_report_unprocessed`)."""
    return list(db.session.scalars(select(Report.id).where(Report.unprocessed())
                                   .order_by(Report.id).limit(limit)))
