"""Bearer tokens for the JSON API: one per system, scoped to permission names.

Only a keyed hash of a token is stored (app/services/api_tokens.py), so the
database alone can neither show a token again nor check a guess.
"""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import db, utcnow
from models.user import User


class ApiToken(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The system the token was made for ("Cosmic, region X"), as the admin named it.
    system: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(100), unique=True)
    #: The token's first characters, to tell tokens apart on the admin page.
    prefix: Mapped[str] = mapped_column(String(16))
    #: Permission names (app/auth/access.py PERMISSIONS) the token holds.
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]

    created_by: Mapped[User] = relationship()

    def is_usable(self, now: datetime) -> bool:
        return self.revoked_at is None and now < self.expires_at

    def __repr__(self) -> str:
        return f"<ApiToken {self.id} {self.system!r}>"
