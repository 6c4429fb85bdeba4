"""The audit log: recording who viewed, changed or exported what, and searching it.

`record` joins the caller's transaction when there is one, so an event commits
together with the change it describes (or not at all); otherwise (views,
exports, logins) it writes the event in a short transaction of its own.
Anonymous report submissions are never recorded.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from flask import has_request_context
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select, func, select

from models import AuditEvent, User, db, transaction
from models.audit import ANONYMOUS, SYSTEM
from models.base import in_write_transaction

#: Every action the application records.
ACTIONS = ("job.retry", "login.success", "login.failure", "logout", "report.view", "report.review",
           "report.redact", "report.message", "report.answer", "report.assign",
           "report.status", "report.risk", "report.handoff", "report.comment", "export.reports",
           "export.aggregates", "export.fhir", "model.activate", "retention.apply",
           "user.create", "user.role", "user.disable", "user.enable", "user.password_reset",
           "unit.create", "unit.rename", "unit.deactivate", "unit.reactivate",
           "known_issue.create", "known_issue.edit", "known_issue.attach", "known_issue.detach",
           "known_issue.merge", "known_issue.resolve", "known_issue.reopen",
           "alert.seen", "alert.dismiss", "alert.link", "user.notify_alerts",
           "known_issue.update", "emerging_issue.confirm", "emerging_issue.merge",
           "emerging_issue.split", "emerging_issue.dismiss", "emerging_issue.move_out",
           "api_token.create", "api_token.revoke", "api_token.failure",
           "report.submit_for_user")


def _plain(value: Any) -> Any:
    """A JSON-friendly form of a detail value."""
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, set | frozenset | tuple):
        return sorted(_plain(v) for v in value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(key): _plain(v) for key, v in value.items()}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def record(action: str, actor: User | str | None = None, object_type: str | None = None,
           object_id: object = None, **details: Any) -> AuditEvent:
    """Record that `actor` did `action` to an object; details are a few small values.

    Without an actor the event is the system's (command line) or, during a
    web request, an anonymous visitor's. A string actor is another system's label
    (an API token's: app/services/api_tokens.py).
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    if isinstance(actor, str):
        actor_id, label = None, actor
    elif actor is not None:
        actor_id, label = actor.id, actor.email
    else:
        actor_id, label = None, ANONYMOUS if has_request_context() else SYSTEM
    event = AuditEvent(actor_id=actor_id, actor_label=label, action=action,
                       object_type=object_type,
                       object_id=None if object_id is None else str(object_id),
                       details={name: _plain(value) for name, value in details.items()})
    if in_write_transaction():
        db.session.add(event)
    else:
        with transaction():
            db.session.add(event)
    return event


@dataclass(frozen=True)
class AuditFilters:
    action: str | None = None
    actor: str | None = None
    object_id: str | None = None
    date_from: date | None = None
    date_to: date | None = None


def audit_page(filters: AuditFilters, page: int, per_page: int) -> Pagination:
    """One page of events matching `filters`, newest first. Dates are inclusive."""
    query = select(AuditEvent)
    if filters.action:
        query = query.where(AuditEvent.action == filters.action)
    if filters.actor:
        query = query.where(AuditEvent.actor_label.icontains(filters.actor, autoescape=True))
    if filters.object_id:
        query = query.where(AuditEvent.object_id == filters.object_id)
    if filters.date_from:
        query = query.where(AuditEvent.at >= datetime.combine(filters.date_from,
                                                               datetime.min.time()))
    if filters.date_to:
        query = query.where(AuditEvent.at < datetime.combine(
            filters.date_to + timedelta(days=1), datetime.min.time()))
    query = query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    return db.paginate(query, page=page, per_page=per_page, error_out=False, count=True)


# Reading the log ---------------------------------------------------------------------------

#: The detail whose earlier value an action records as "previous".
PREVIOUS_OF = {"user.role": "role", "report.status": "status", "report.risk": "score",
               "unit.rename": "name", "known_issue.attach": "known_issue",
               "model.activate": "model_version"}


@dataclass(frozen=True)
class Change:
    """One recorded detail of an event: its field (a nested one as "filters.unit_ids"), the
    earlier value when the event recorded one, and the value."""

    field: str
    before: Any
    after: Any


def event_changes(event: AuditEvent) -> list[Change]:
    """An event's details as fields, with before and after where it recorded both. Empty
    values are left out; a nested group (an export's filters) gives a field per value."""
    details = dict(event.details or {})
    previous_of = PREVIOUS_OF.get(event.action)
    before = details.pop("previous", None) if previous_of else None
    if previous_of and previous_of not in details:
        details[previous_of] = event.object_id  # e.g. the version activated is the object
    changes = [Change(name, before if name == previous_of else None, value)
               for name, value in _flattened(details)]
    return sorted(changes, key=lambda change: change.field != previous_of)


def _flattened(details: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    found = []
    for name, value in details.items():
        if isinstance(value, dict):
            found += _flattened(value, f"{prefix}{name}.")
        elif value is not None and value != []:
            found.append((prefix + name, value))
    return found


def last_login_query() -> Select:
    """Every account by e-mail, with the moment of its last successful login.

    Read from the audit log's login events, one index seek per account
    (ix_audit_event_actor_action), so the list stays fast however long the log grows.
    """
    last_login = (select(func.max(AuditEvent.at))
                  .where(AuditEvent.actor_id == User.id, AuditEvent.action == "login.success")
                  .correlate(User).scalar_subquery())
    return select(User, last_login).order_by(User.email)


def accounts_with_last_login() -> list[tuple[User, datetime | None]]:
    """Every account by e-mail, with its last successful login (None: never)."""
    return [(user, at) for user, at in db.session.execute(last_login_query()).tuples()]
