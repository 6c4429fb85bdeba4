from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import db


class Unit(db.Model):
    """A ward, clinic or department that reports come from."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    active: Mapped[bool] = mapped_column(default=True)

    def __repr__(self) -> str:
        return f"<Unit {self.name}>"
