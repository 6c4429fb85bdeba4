from datetime import date
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import db, utcnow
from models.user import User

#: The longest message, in characters (the forms enforce it).
MESSAGE_MAX = 4_000


class Author(StrEnum):
    COORDINATOR = "coordinator"
    REPORTER = "reporter"


def _today() -> date:
    return utcnow().date()


class Message(db.Model):
    """A message on a report, from the coordination group to its reporter or back.

    A reporter's message names no one, so an anonymous reporter stays anonymous
    (a named reporter is known from the report). Only the date is kept: an exact
    time could tie an anonymous answer to a person. Order messages by id.
    """

    __table_args__ = (
        CheckConstraint(f"author IN ({', '.join(repr(a.value) for a in Author)})", name="author"),
        CheckConstraint(
            "(author = 'coordinator' AND author_id IS NOT NULL)"
            " OR (author = 'reporter' AND author_id IS NULL)",
            name="only_coordinators_are_named",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"),
                                           index=True)
    author: Mapped[str] = mapped_column(String(20))
    #: The coordinator who wrote it; always NULL for a reporter's message.
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    body: Mapped[str] = mapped_column(Text)
    created_on: Mapped[date] = mapped_column(default=_today)

    coordinator: Mapped[User | None] = relationship()

    @property
    def from_reporter(self) -> bool:
        return self.author == Author.REPORTER

    def __repr__(self) -> str:
        return f"<Message {self.id} on report {self.report_id} from {self.author}>"
