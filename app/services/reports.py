"""Submitting reports and following them up with a receipt code."""

import base64
import hashlib
import hmac
import logging
import re
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash

import ml
from app.services import NotFound
from app.services.classification import classify_reports
from app.services.grouping import group_report
from app.services.identifiers import deidentified_columns
from app.services.known_issues import open_known_issue_id
from app.services.similarity import index_reports
from app.services.workflow import apply_suggested_risk
from models import Report, User, db, transaction, utcnow

log = logging.getLogger(__name__)

#: 20 base32 characters: 100 bits from the HMAC.
RECEIPT_SECRET_CHARS = 20
#: How a stored receipt hash begins (older ones are werkzeug password hashes).
RECEIPT_HASH_METHOD = "hmac-sha256$"
_RECEIPT = re.compile(r"^V-?(\d{1,12})-([A-Z2-7]{4}(?:-?[A-Z2-7]{4}){4})$")


@dataclass(frozen=True)
class ReportDraft:
    """What the reporter typed, already validated by the form."""

    kind: str
    text: str
    occurred_at: datetime
    unit_id: int
    area: str
    impact: str
    suggestion: str | None
    submission_token: str
    #: The open known issue the reporter said "this is my problem too" about, if any.
    known_issue_id: int | None = None


@dataclass(frozen=True)
class Submission:
    report: Report
    #: Only for an anonymous report; it is never stored in clear.
    receipt_code: str | None


def token_digest(submission_token: str) -> str:
    """What is stored of the form's token: enough to spot a retry, not to rebuild a receipt."""
    return hashlib.sha256(submission_token.encode()).hexdigest()


def _receipt_secret(submission_token: str) -> str:
    """The secret half of a receipt, derived from the form's token and the server key.

    A retried submission (same token) gets the same receipt back, while the
    database, which holds only a digest of the token, cannot rebuild it.
    """
    key = current_app.config["SECRET_KEY"].encode()
    mac = hmac.new(key, b"receipt:" + submission_token.encode(), hashlib.sha256).digest()
    return base64.b32encode(mac).decode()[:RECEIPT_SECRET_CHARS]


def _receipt_key() -> bytes:
    key = current_app.config["RECEIPT_KEY"] or current_app.config["SECRET_KEY"]
    return hmac.new(key.encode(), b"receipt-hash", hashlib.sha256).digest()


def receipt_hash(secret: str) -> str:
    """What is stored of a receipt's secret: a keyed hash (HMAC-SHA256).

    The secret is 100 random bits, so no slow password hash is needed to stop a
    guess (2^100 tries); the key means the database alone cannot even check one.
    """
    mac = hmac.new(_receipt_key(), secret.encode(), hashlib.sha256).hexdigest()
    return RECEIPT_HASH_METHOD + mac


def _receipt_matches(stored: str, secret: str) -> bool:
    if stored.startswith(RECEIPT_HASH_METHOD):
        return hmac.compare_digest(stored, receipt_hash(secret))
    return check_password_hash(stored, secret)  # receipts made before keyed hashes


def _receipt_code(report: Report, submission_token: str) -> str:
    """The code shown to the reporter: the reference, then the secret in groups of four."""
    secret = _receipt_secret(submission_token)
    groups = (secret[i:i + 4] for i in range(0, RECEIPT_SECRET_CHARS, 4))
    return "-".join([report.reference, *groups])


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
    receipt = _receipt_code(report, draft.submission_token) if report.is_anonymous else None
    return Submission(report=report, receipt_code=receipt)


def _group(report: Report) -> None:
    """Put the stored report in its emerging issue; a failure leaves it ungrouped, logged
    (`flask --app app grouping rebuild` groups it later)."""
    try:
        group_report(report.id)
    except Exception:
        log.exception("report %s could not be grouped", report.id)


def _find_by_digest(digest: str) -> Report | None:
    return db.session.scalar(select(Report).where(Report.submission_token == digest))


def new_report(draft: ReportDraft, reporter: User | None, submitted: datetime) -> Report:
    """A Report built from a draft; anonymous ones keep only the submission date and
    hour, the hour it happened and a receipt hash."""
    anonymous = reporter is None
    return Report(
        kind=draft.kind, text=draft.text,
        occurred_at=Report.occurrence_for(draft.occurred_at, anonymous),
        **deidentified_columns(draft.text, draft.suggestion or None),
        unit_id=draft.unit_id, area=draft.area, impact=draft.impact,
        suggestion=draft.suggestion or None, language=ml.detect_language(draft.text),
        reporter_id=None if anonymous else reporter.id,
        submission_token=token_digest(draft.submission_token),
        submitted_on=submitted.date(), submitted_at=None if anonymous else submitted,
        submitted_hour=Report.hour_of(submitted),
        receipt_hash=(receipt_hash(_receipt_secret(draft.submission_token))
                      if anonymous else None),
    )


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


def report_for_receipt(code: str) -> Report:
    """The anonymous report a receipt code belongs to; NotFound for any wrong code."""
    match = _RECEIPT.match(code.strip().upper().replace(" ", ""))
    report = db.session.get(Report, int(match.group(1))) if match else None
    secret = match.group(2).replace("-", "") if match else ""
    stored = report.receipt_hash if report is not None and report.is_anonymous else None
    if not stored or not _receipt_matches(stored, secret):
        raise NotFound("no report with that receipt code")
    return report
