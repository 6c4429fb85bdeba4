"""The audit log: who viewed, changed or exported what, and when.

Append-only in the application: once written, an event can be neither
updated nor deleted through the ORM (mapper events and bulk statements alike).
No IP address is stored, and details never hold report text.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, event
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, mapped_column

from models.base import db, utcnow

#: Actor labels for events no logged-in person caused.
ANONYMOUS, SYSTEM = "anonymous", "system"


class AuditLogIsAppendOnly(RuntimeError):
    """Something tried to change or remove an audit event."""


class AuditEvent(db.Model):
    __table_args__ = (
        Index("ix_audit_event_at", "at", "id"),
        # A report's history is read from its events.
        Index("ix_audit_event_object", "object_type", "object_id", "id"),
        # A user's last login is one seek: the newest of their login events.
        Index("ix_audit_event_actor_action", "actor_id", "action", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    #: The actor's e-mail at the time, or "anonymous" / "system".
    actor_label: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(40), index=True)
    object_type: Mapped[str | None] = mapped_column(String(40))
    object_id: Mapped[str | None] = mapped_column(String(64))
    #: A small dict about the event; never report text, passwords or IP addresses.
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    def __repr__(self) -> str:
        return f"<AuditEvent {self.id} {self.action} by {self.actor_label}>"


@event.listens_for(AuditEvent, "before_update")
def _refuse_update(_mapper, _connection, target: AuditEvent) -> None:
    raise AuditLogIsAppendOnly(f"audit event {target.id} cannot be changed")


@event.listens_for(AuditEvent, "before_delete")
def _refuse_delete(_mapper, _connection, target: AuditEvent) -> None:
    raise AuditLogIsAppendOnly(f"audit event {target.id} cannot be deleted")


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_changes(state: ORMExecuteState) -> None:
    """`update(AuditEvent)` and `delete(AuditEvent)` bypass the mapper events: refuse them too."""
    if (state.is_update or state.is_delete) and any(
            mapper.class_ is AuditEvent for mapper in state.all_mappers):
        raise AuditLogIsAppendOnly("audit events cannot be changed or deleted")
