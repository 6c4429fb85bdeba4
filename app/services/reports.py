"""Submitting reports: stored once per form token, then classified, indexed and grouped."""

import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.services.alerts import check_emerging_issue
from app.services.classification import classify_reports
from app.services.drafts import ReportDraft, new_report, receipt_code, token_digest
from app.services.grouping import group_report
from app.services.known_issues import open_known_issue_id
from app.services.similarity import index_reports
from app.services.workflow import apply_suggested_risk
from models import Report, User, db, transaction, utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Submission:
    report: Report
    #: Only for an anonymous report; it is never stored in clear.
    receipt_code: str | None


def submit_report(draft: ReportDraft, reporter: User | None) -> Submission:
    """Store a report (once per form token), then try to classify it.

    `reporter` is None for an anonymous report: then no user, no time of day of
    submission, no minute of the occurrence and nothing else that points to a person
    is stored. The report is committed
    before classification runs, so a failing classifier loses nothing.

    A report whose reporter chose an open known issue on the form is filed in it
    (not audited: the submission is not either); a choice of any other issue is
    ignored, and the report is filed like any other.
    """
    digest = token_digest(draft.submission_token)
    report = _find_by_digest(digest) or _insert(draft, reporter, digest)
    if not report.is_classified:
        classify_reports([report.id])
    index_reports([report.id])
    _group(report)
    receipt = receipt_code(report, draft.submission_token) if report.is_anonymous else None
    return Submission(report=report, receipt_code=receipt)


def _group(report: Report) -> None:
    """Put the stored report in its emerging issue and test that issue for an alert.

    A failure leaves the report stored and ungrouped, logged (`flask --app app grouping
    rebuild` groups it later; `alerts check` tests every group on its schedule).
    """
    try:
        group = group_report(report.id)
        if group is not None and group.is_undecided:
            check_emerging_issue(group.id, utcnow())
    except Exception:
        log.exception("report %s could not be grouped or its group tested", report.id)


def _find_by_digest(digest: str) -> Report | None:
    return db.session.scalar(select(Report).where(Report.submission_token == digest))


def _insert(draft: ReportDraft, reporter: User | None, digest: str) -> Report:
    report = new_report(draft, reporter, utcnow())
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


