from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import db, utcnow


class ModelVersion(db.Model):
    """A trained classifier, stored in the database so every instance serves the same.

    At most one version is active at a time (enforced by a partial unique index).
    """

    __table_args__ = (
        Index("uq_model_version_active", "active", unique=True,
              sqlite_where=db.text("active"), postgresql_where=db.text("active")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    algorithm: Mapped[str] = mapped_column(String(200))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    training_summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    artifact: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    active: Mapped[bool] = mapped_column(default=False)

    def __repr__(self) -> str:
        return f"<ModelVersion {self.id}{' active' if self.active else ''}>"
