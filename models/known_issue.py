from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import db, utcnow
from models.user import User

if TYPE_CHECKING:
    from models.report import Report


class KnownIssueStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class KnownIssue(db.Model):
    """One fault that many reports describe, tracked and resolved as a whole.

    When it is resolved, its resolution note is shown to every reporter of its
    reports on their status page, named or anonymous.
    """

    __table_args__ = (
        CheckConstraint("status IN ('open', 'resolved')", name="status"),
        CheckConstraint(
            "status = 'open' OR (resolution_note IS NOT NULL AND resolved_at IS NOT NULL)",
            name="resolved_has_note",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default=KnownIssueStatus.OPEN, index=True)
    resolution_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    resolved_at: Mapped[datetime | None]

    created_by: Mapped[User] = relationship()
    reports: Mapped[list["Report"]] = relationship(back_populates="known_issue")
    updates: Mapped[list["KnownIssueUpdate"]] = relationship(
        back_populates="known_issue", order_by="KnownIssueUpdate.id",
        cascade="all, delete-orphan")

    @property
    def is_open(self) -> bool:
        return self.status == KnownIssueStatus.OPEN

    def resolve(self, note: str, now: datetime | None = None) -> None:
        if not note.strip():
            raise ValueError("a resolved known issue needs a resolution note")
        self.status = KnownIssueStatus.RESOLVED
        self.resolution_note = note.strip()
        self.resolved_at = now or utcnow()

    def reopen(self) -> None:
        self.status = KnownIssueStatus.OPEN
        self.resolved_at = None

    def __repr__(self) -> str:
        return f"<KnownIssue {self.id} {self.title!r}>"


#: The longest update on a known issue, in characters (the forms enforce it).
UPDATE_MAX = 4_000


class KnownIssueUpdate(db.Model):
    """News on a known issue for its reporters: a workaround, an expected fix date.

    Every reporter of a report in the issue sees it: named ones on "my reports",
    anonymous ones on their receipt page. Only the date is shown to reporters.
    """

    __tablename__ = "known_issue_update"

    id: Mapped[int] = mapped_column(primary_key=True)
    known_issue_id: Mapped[int] = mapped_column(
        ForeignKey("known_issue.id", ondelete="CASCADE"), index=True)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    author_id: Mapped[int] = mapped_column(ForeignKey("user.id"))

    known_issue: Mapped[KnownIssue] = relationship(back_populates="updates")
    author: Mapped[User] = relationship()
