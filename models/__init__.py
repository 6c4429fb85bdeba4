"""SQLAlchemy models. Imports neither `app` nor `ml`."""

from models.audit import AuditEvent, AuditLogIsAppendOnly
from models.base import db, transaction, utcnow
from models.message import MESSAGE_MAX, Author, Message
from models.model_version import ModelVersion
from models.report import (
    CATEGORIES,
    Area,
    Impact,
    Kind,
    Label,
    LabelSource,
    Report,
    Status,
)
from models.unit import Unit
from models.user import Role, User

__all__ = [
    "CATEGORIES", "MESSAGE_MAX", "Area", "AuditEvent", "AuditLogIsAppendOnly", "Author", "Impact",
    "Kind", "Label", "LabelSource", "Message", "ModelVersion", "Report", "Role", "Status", "Unit",
    "User", "db", "transaction", "utcnow",
]
