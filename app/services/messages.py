"""Following a report up: a reporter's own reports, and messages between the
coordination group and the reporter.

A reporter's message never names its author and keeps only the date (see
`models.Message`). An anonymous reporter's answer is not audited either: an
audit event carries the exact time, which could tie the answer to a person.
Nothing here writes to a log.
"""

from dataclasses import dataclass

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import func, select
from sqlalchemy.orm import aliased, joinedload

from app.services import NotFound, ServiceError
from app.services.audit import record
from app.services.drafts import report_for_receipt
from app.services.report_queries import get_report
from models import MESSAGE_MAX, AuditEvent, Author, Message, Report, User, db, transaction


@dataclass(frozen=True)
class OwnReports:
    """A page of a reporter's own reports, and which of them have unread messages."""

    page: Pagination
    unread: frozenset[int]


def own_reports_page(user: User, page: int, per_page: int) -> OwnReports:
    """One page of the reports `user` sent with their name, newest first."""
    query = (select(Report).where(Report.reporter_id == user.id)
             .order_by(Report.submitted_on.desc(), Report.id.desc()))
    reports = db.paginate(query, page=page, per_page=per_page, error_out=False, count=True)
    return OwnReports(page=reports, unread=unread_report_ids(user, [r.id for r in reports]))


def unread_report_ids(user: User, report_ids: list[int]) -> frozenset[int]:
    """Those of `report_ids` with a message from the coordination group that `user` has not
    opened the report since.

    Derived from the audit log, which records both in one order (by id): each
    coordinator's message ("report.message") and each time the reporter opens their
    report ("report.view"). A message keeps only its date, too coarse to tell.
    """
    sent, seen = aliased(AuditEvent), aliased(AuditEvent)
    last_seen = (select(func.max(seen.id))
                 .where(seen.action == "report.view", seen.object_type == "report",
                        seen.object_id == sent.object_id, seen.actor_id == user.id)
                 .scalar_subquery())
    query = (select(sent.object_id).distinct()
             .where(sent.action == "report.message", sent.object_type == "report",
                    sent.object_id.in_([str(report_id) for report_id in report_ids]),
                    sent.id > func.coalesce(last_seen, 0)))
    return frozenset(int(object_id) for object_id in db.session.scalars(query))


def own_report(report_id: int, user: User) -> Report:
    """A report `user` sent with their name; NotFound for any other (also their anonymous ones)."""
    report = db.session.get(Report, report_id)
    if report is None or report.reporter_id != user.id:
        raise NotFound("no such report")
    return report


def messages_for(report_id: int) -> list[Message]:
    """The messages on a report, oldest first."""
    query = (select(Message).where(Message.report_id == report_id)
             .options(joinedload(Message.coordinator)).order_by(Message.id))
    return list(db.session.scalars(query))


def message_reporter(report_id: int, coordinator: User, body: str) -> Message:
    """A coordinator writes to the reporter of a report (audited, without the text)."""
    with transaction():
        get_report(report_id)
        message, new = _add(report_id, Author.COORDINATOR, coordinator.id, body)
        if new:
            record("report.message", coordinator, "report", report_id, message_id=message.id)
    return message


def answer_own_report(report_id: int, user: User, body: str) -> Message:
    """A named reporter answers on their own report (audited, without the text)."""
    with transaction():
        own_report(report_id, user)
        message, new = _add(report_id, Author.REPORTER, None, body)
        if new:
            record("report.answer", user, "report", report_id, message_id=message.id)
    return message


def answer_by_receipt(receipt_code: str, body: str) -> Report:
    """An anonymous reporter answers with the receipt code; NotFound for a wrong code.

    Nothing is audited and the report row is not touched (its update time would
    tell when the answer came).
    """
    report = report_for_receipt(receipt_code)
    with transaction():
        _add(report.id, Author.REPORTER, None, body)
    return report


def _add(report_id: int, author: Author, author_id: int | None,
         body: str) -> tuple[Message, bool]:
    """Add a message and say whether it is new.

    A message that repeats the report's last one (a double click, a form sent
    again by reloading the page) is not stored twice.
    """
    if not body.strip() or len(body) > MESSAGE_MAX:
        raise ServiceError(f"a message must have between 1 and {MESSAGE_MAX} characters")
    last = db.session.scalar(select(Message).where(Message.report_id == report_id)
                             .order_by(Message.id.desc()).limit(1))
    if last is not None and (last.author, last.author_id, last.body) == (author, author_id, body):
        return last, False
    message = Message(report_id=report_id, author=author, author_id=author_id, body=body)
    db.session.add(message)
    db.session.flush()
    return message, True
