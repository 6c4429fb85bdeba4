"""SQLAlchemy models. Imports neither `app` nor `ml`."""

from models.audit import AuditEvent, AuditLogIsAppendOnly
from models.base import db, transaction, utcnow
from models.comment import COMMENT_MAX, Comment
from models.known_issue import KnownIssue, KnownIssueStatus
from models.message import MESSAGE_MAX, Author, Message
from models.model_version import ModelVersion
from models.report import (
    CATEGORIES,
    OPEN_STATUSES,
    RISK_LEVELS,
    Area,
    Impact,
    Kind,
    Label,
    LabelSource,
    Report,
    Status,
)
from models.search import is_search_object, search_condition
from models.similarity import ReportTerm
from models.unit import Unit
from models.user import Role, User

__all__ = [
    "CATEGORIES", "COMMENT_MAX", "MESSAGE_MAX", "OPEN_STATUSES", "RISK_LEVELS", "Area",
    "AuditEvent", "AuditLogIsAppendOnly", "Author", "Comment", "Impact", "Kind", "KnownIssue",
    "KnownIssueStatus", "Label", "LabelSource", "Message", "ModelVersion", "Report",
    "ReportTerm", "Role", "Status", "Unit", "User", "db", "is_search_object",
    "search_condition", "transaction", "utcnow",
]
