"""What a reporter typed, made into a report row, and the receipt code that follows it.

`new_report` builds every report (the form, the import, the demo data, the tests),
so the anonymity rules are applied in one place; `report_for_receipt` finds an
anonymous report again from its receipt code.
"""

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from werkzeug.security import check_password_hash

import ml
from app.services import NotFound
from app.services.identifiers import deidentified_columns
from models import Report, User, db

#: 20 base32 characters: 100 bits from the HMAC.
RECEIPT_SECRET_CHARS = 20
#: How a stored receipt hash begins (older ones are werkzeug password hashes).
RECEIPT_HASH_METHOD = "hmac-sha256$"
#: A receipt code once its separators are gone: the reference's number, then the secret
#: (fixed in length, so it is read from the end even though base32 has digits too).
_BARE_RECEIPT = re.compile(rf"^V([0-9]{{1,12}})([A-Z2-7]{{{RECEIPT_SECRET_CHARS}}})$")
#: What a reporter may have written between the groups: spaces, dashes of any kind, dots.
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212.]+")


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


def token_digest(submission_token: str) -> str:
    """What is stored of the form's token: enough to spot a retry, not to rebuild a receipt."""
    return hashlib.sha256(submission_token.encode()).hexdigest()


def receipt_secret(submission_token: str) -> str:
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


def receipt_code(report: Report, submission_token: str) -> str:
    """The code shown to the reporter: the reference, then the secret in groups of four."""
    secret = receipt_secret(submission_token)
    groups = (secret[i:i + 4] for i in range(0, RECEIPT_SECRET_CHARS, 4))
    return "-".join([report.reference, *groups])


def receipt_groups(code: str) -> list[str]:
    """A receipt code in the pieces a line may break between: the reference, then each
    group of the secret (without their dashes)."""
    letter, number, *groups = code.split("-")
    return [f"{letter}-{number}", *groups]


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
        receipt_hash=(receipt_hash(receipt_secret(draft.submission_token))
                      if anonymous else None),
    )


def normalise_receipt(code: str) -> tuple[int, str] | None:
    """The report id and the secret of a receipt code as a reporter may type it back: in any
    case, with spaces, other dashes or none between the groups. None if it cannot be one."""
    match = _BARE_RECEIPT.match(_SEPARATORS.sub("", code).upper())
    return (int(match.group(1)), match.group(2)) if match else None


def report_for_receipt(code: str) -> Report:
    """The anonymous report a receipt code belongs to; NotFound for any wrong code."""
    parts = normalise_receipt(code)
    report = db.session.get(Report, parts[0]) if parts else None
    stored = report.receipt_hash if report is not None and report.is_anonymous else None
    if not stored or not _receipt_matches(stored, parts[1]):
        raise NotFound("no report with that receipt code")
    return report
