"""SQLAlchemy models. Imports neither `app` nor `ml`."""

from models.alert import OPEN_ALERT_STATES, Alert, AlertKind, AlertState
from models.api_token import ApiToken
from models.audit import AuditEvent, AuditLogIsAppendOnly
from models.base import MAX_ID, db, transaction, utcnow
from models.comment import COMMENT_MAX, Comment
from models.emerging_issue import (
    ACTIVE_STATUSES,
    UNDECIDED_STATUSES,
    EmergingIssue,
    EmergingIssueReport,
    EmergingIssueTerm,
    EmergingStatus,
    GroupingExclusion,
)
from models.job import FailedJob, PeriodicRun
from models.known_issue import UPDATE_MAX, KnownIssue, KnownIssueStatus, KnownIssueUpdate
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
    "ACTIVE_STATUSES", "CATEGORIES", "COMMENT_MAX", "MAX_ID", "MESSAGE_MAX", "OPEN_ALERT_STATES",
    "OPEN_STATUSES", "RISK_LEVELS", "UNDECIDED_STATUSES", "UPDATE_MAX", "Alert", "AlertKind",
    "AlertState", "ApiToken", "Area", "AuditEvent", "AuditLogIsAppendOnly", "Author", "Comment",
    "EmergingIssue", "EmergingIssueReport", "EmergingIssueTerm", "EmergingStatus",
    "FailedJob", "GroupingExclusion", "Impact", "Kind",
    "KnownIssue", "KnownIssueStatus", "KnownIssueUpdate", "Label", "LabelSource", "Message",
    "ModelVersion", "PeriodicRun", "Report", "ReportTerm", "Role", "Status", "Unit", "User", "db",
    "is_search_object", "search_condition", "transaction", "utcnow",
]
