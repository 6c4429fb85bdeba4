"""Submitting reports: stored once per form token; the rest is a background job's."""

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.jobs import enqueue
from app.jobs.tasks import process_report_job
from app.services.drafts import ReportDraft, new_report, receipt_code, token_digest
from app.services.known_issues import open_known_issue_id
from app.services.workflow import apply_suggested_risk
from models import Report, User, db, transaction, utcnow


@dataclass(frozen=True)
class Submission:
    report: Report
    #: Only for an anonymous report; it is never stored in clear.
    receipt_code: str | None


def submit_report(draft: ReportDraft, reporter: User | None) -> Submission:
    """Store a report (once per form token) and enqueue its processing.

    `reporter` is None for an anonymous report: then no user, no time of day of
    submission, no minute of the occurrence and nothing else that points to a person
    is stored. The report and its de-identified copy are committed before its job
    (classification, similarity index, grouping, alert test: app/services/processing.py)
    is enqueued; a queue that cannot be reached is logged, the report stays unprocessed
    and the sweep enqueues it later. Until its job ran the report is "being classified".

    A report whose reporter chose an open known issue on the form is filed in it
    (not audited: the submission is not either); a choice of any other issue is
    ignored, and the report is filed like any other.
    """
    digest = token_digest(draft.submission_token)
    report = _find_by_digest(digest) or _insert(draft, reporter, digest)
    if not report.processed:
        enqueue(process_report_job, report.id)
    receipt = receipt_code(report, draft.submission_token) if report.is_anonymous else None
    return Submission(report=report, receipt_code=receipt)


def _find_by_digest(digest: str) -> Report | None:
    return db.session.scalar(select(Report).where(Report.submission_token == digest))


def _insert(draft: ReportDraft, reporter: User | None, digest: str) -> Report:
    report = new_report(draft, reporter, utcnow())
    report.processed = False
    try:
        with transaction():
            report.known_issue_id = open_known_issue_id(draft.known_issue_id)
            apply_suggested_risk(report)  # from the impact alone until it is classified
            db.session.add(report)
    except IntegrityError:
        # A concurrent retry with the same token won the race: show its report.
        existing = _find_by_digest(digest)
        if existing is None:
            raise
        return existing
    return report
