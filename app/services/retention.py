"""The retention rule: free text older than a limit per kind of report is blanked, for good.

Only the free text goes (text, suggestion, their de-identified copies and the
messages on the report); kind, unit, dates, categories and status stay, so
counts and trends still hold. The day the text went is kept on the report, so
pages can say why it is gone and a second run leaves the report alone.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import ColumnElement, func, or_, select, update

from app.services import ServiceError
from app.services.audit import record
from app.services.similarity import unindex_removed_text
from models import Kind, Message, Report, db, transaction, utcnow

#: What removed text and message bodies read (NOT NULL columns); suggestions become None.
REMOVED_TEXT = ""


class RetentionError(ServiceError):
    """The retention settings cannot be used; nothing was changed."""


@dataclass(frozen=True)
class KindRetention:
    kind: str
    #: None: reports of this kind keep their text forever.
    days: int | None
    #: Reports submitted before this day lose their text (None: kept forever).
    cutoff: date | None
    #: Reports whose text was removed (in a dry run: would be).
    reports: int


@dataclass(frozen=True)
class RetentionOutcome:
    today: date
    kinds: list[KindRetention]
    #: Messages blanked (in a dry run: would be), on these reports or on ones blanked before.
    messages: int
    dry_run: bool


def retention_days() -> dict[str, int | None]:
    """Days the text is kept per kind, from RETENTION_DAYS_<KIND>; None means forever."""
    return {kind.value: _days(f"RETENTION_DAYS_{kind.name}") for kind in Kind}


def _days(setting: str) -> int | None:
    value = current_app.config.get(setting)
    text = "" if value is None else str(value).strip()
    if not text:
        return None
    if not (text.isascii() and text.isdigit()):
        raise RetentionError(f"{setting} must be a whole number of days "
                             f"(0 or empty: keep forever), not {value!r}")
    return int(text) or None


def apply_retention(dry_run: bool = False) -> RetentionOutcome:
    """Blank the free text of every report older than its kind's limit, in one transaction.

    Age counts from the day of submission (UTC, as `submitted_on` is stored): with
    a limit of N days, text submitted before today minus N days goes. A dry run
    only counts. A real run records one audit event, even when nothing was due.
    """
    days = retention_days()
    today = utcnow().date()
    cutoffs = {kind: today - timedelta(days=n) if n else None for kind, n in days.items()}
    if dry_run:
        kinds = [KindRetention(kind, days[kind], cutoff, _count(kind, cutoff))
                 for kind, cutoff in cutoffs.items()]
        messages = db.session.scalar(select(func.count()).select_from(Message)
                                     .where(_message_due(cutoffs)))
        return RetentionOutcome(today, kinds, messages, dry_run=True)
    with transaction():
        messages = _blank_messages(cutoffs)
        kinds = [KindRetention(kind, days[kind], cutoff, _blank(kind, cutoff, today))
                 for kind, cutoff in cutoffs.items()]
        unindex_removed_text()
        record("retention.apply", messages=messages, **_details(kinds))
    return RetentionOutcome(today, kinds, messages, dry_run=False)


def _expired(kind: str, cutoff: date) -> ColumnElement[bool]:
    return ((Report.kind == kind) & (Report.submitted_on < cutoff)
            & Report.text_removed_on.is_(None))


def _count(kind: str, cutoff: date | None) -> int:
    if cutoff is None:
        return 0
    return db.session.scalar(select(func.count()).select_from(Report)
                             .where(_expired(kind, cutoff)))


def _blank(kind: str, cutoff: date | None, today: date) -> int:
    if cutoff is None:
        return 0
    result = db.session.execute(
        update(Report).where(_expired(kind, cutoff)).values(
            text=REMOVED_TEXT, text_deidentified=REMOVED_TEXT, suggestion=None,
            suggestion_deidentified=None, identifiers_found=0, text_removed_on=today),
        execution_options={"synchronize_session": False})
    return result.rowcount


def _message_due(cutoffs: dict[str, date | None]) -> ColumnElement[bool]:
    """Messages not yet blanked on a report whose text goes now or went before."""
    expired = [_expired(kind, cutoff) for kind, cutoff in cutoffs.items() if cutoff]
    reports = select(Report.id).where(or_(Report.text_removed_on.is_not(None), *expired))
    return (Message.body != REMOVED_TEXT) & Message.report_id.in_(reports)


def _blank_messages(cutoffs: dict[str, date | None]) -> int:
    result = db.session.execute(
        update(Message).where(_message_due(cutoffs)).values(body=REMOVED_TEXT),
        execution_options={"synchronize_session": False})
    return result.rowcount


def _details(kinds: list[KindRetention]) -> dict[str, object]:
    """The audit event's details: the rule, the cutoff and the count, per kind."""
    details: dict[str, object] = {}
    for item in kinds:
        details.update({f"{item.kind}_days": item.days, f"{item.kind}_cutoff": item.cutoff,
                        f"{item.kind}_reports": item.reports})
    return details
