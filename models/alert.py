"""Stored alerts: raised once, with their evidence, and followed by the coordination group.

An alert is about an emerging issue (kind ``emerging``) or about a series of
reports whose count rose (kind ``spike``: a unit, an area, a category, or many of
one kind at once). `key` names what it is about ("emerging:12", "spike:unit:4:day");
while an alert with a key is not cleared, no second one with that key is raised,
so nothing fires twice. It is *cleared* when its condition no longer holds (the
spike passed, the emerging issue was decided); its state is what people did with it.
"""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import db
from models.emerging_issue import EmergingIssue
from models.known_issue import KnownIssue
from models.user import User


class AlertKind(StrEnum):
    EMERGING = "emerging"
    SPIKE = "spike"


class AlertState(StrEnum):
    NEW = "new"
    SEEN = "seen"
    LINKED = "linked"
    DISMISSED = "dismissed"


#: States of an alert that still asks for attention (while it is not cleared).
OPEN_ALERT_STATES = frozenset({AlertState.NEW, AlertState.SEEN})


def _values(enum: type[StrEnum]) -> str:
    return ", ".join(f"'{member.value}'" for member in enum)


class Alert(db.Model):
    __table_args__ = (
        CheckConstraint(f"kind IN ({_values(AlertKind)})", name="kind"),
        CheckConstraint(f"state IN ({_values(AlertState)})", name="state"),
        CheckConstraint("state != 'linked' OR known_issue_id IS NOT NULL", name="linked"),
        # One uncleared alert per key: the evaluation never raises the same thing twice.
        Index("uq_alert_uncleared_key", "key", unique=True,
              sqlite_where=text("cleared_at IS NULL"),
              postgresql_where=text("cleared_at IS NULL")),
        Index("ix_alert_raised_at", "raised_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    key: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(300))
    #: The moment of the evaluation that raised it (`alerts check --as-of` sets it).
    raised_at: Mapped[datetime]
    #: What the test saw: counts, baseline, p-value, units, categories, report ids.
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(20), default=AlertState.NEW)
    state_changed_at: Mapped[datetime | None]
    state_changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    emerging_issue_id: Mapped[int | None] = mapped_column(
        ForeignKey("emerging_issue.id", ondelete="SET NULL"), index=True)
    known_issue_id: Mapped[int | None] = mapped_column(ForeignKey("known_issue.id"))
    cleared_at: Mapped[datetime | None]
    #: When the opted-in coordinators were e-mailed (None: not yet, or not sent).
    notified_at: Mapped[datetime | None]

    emerging_issue: Mapped[EmergingIssue | None] = relationship()
    known_issue: Mapped[KnownIssue | None] = relationship()
    state_changed_by: Mapped[User | None] = relationship()

    @staticmethod
    def emerging_key(issue_id: int) -> str:
        """The key of the alert about emerging issue `issue_id`."""
        return f"emerging:{issue_id}"

    @property
    def is_open(self) -> bool:
        return self.cleared_at is None and self.state in OPEN_ALERT_STATES

    def __repr__(self) -> str:
        return f"<Alert {self.id} {self.key} {self.state}>"
