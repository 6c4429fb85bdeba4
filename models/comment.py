from datetime import datetime

from sqlalchemy import ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import db, utcnow
from models.user import User

#: The longest internal comment, in characters (the forms enforce it).
COMMENT_MAX = 4_000


class Comment(db.Model):
    """An internal note on a report by the coordination group; reporters never see it."""

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"),
                                           index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    author: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<Comment {self.id} on report {self.report_id}>"
