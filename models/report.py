from datetime import date, datetime, time
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import (
    CheckConstraint,
    ColumnElement,
    ForeignKey,
    Index,
    String,
    Text,
    and_,
    false,
    text,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ml.categories import CATEGORIES
from models.base import db, utcnow
from models.unit import Unit
from models.user import User

if TYPE_CHECKING:
    from models.known_issue import KnownIssue


class Kind(StrEnum):
    INCIDENT = "incident"
    FEEDBACK = "feedback"


class Area(StrEnum):
    MEDICATION = "medication"
    TEST_RESULTS = "test_results"
    RECORDS = "records"
    ORDERING = "ordering"
    LOGIN = "login"
    PRINTING = "printing"
    INTEGRATIONS = "integrations"
    OTHER = "other"


class Impact(StrEnum):
    NONE = "none"
    NEAR_MISS = "near_miss"
    HARM = "harm"
    UNKNOWN = "unknown"


class Status(StrEnum):
    NEW = "new"
    TRIAGED = "triaged"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"


#: Statuses of reports that still need work; the others are finished.
OPEN_STATUSES = frozenset({Status.NEW, Status.TRIAGED, Status.IN_PROGRESS})
#: Consequence and likelihood are each rated 1-4 (the Swedish risk matrix).
RISK_LEVELS = range(1, 5)


class LabelSource(StrEnum):
    MODEL = "model"
    HUMAN = "human"


def reference_for(report_id: int) -> str:
    """The number a reporter quotes when asking about a report."""
    return f"V-{report_id:06d}"


def _values(enum: type[StrEnum]) -> str:
    return ", ".join(f"'{member.value}'" for member in enum)


class Report(db.Model):
    """An incident or a piece of feedback from a member of staff.

    An anonymous report has no reporter and no submission time, only the date and
    the hour, and keeps when it happened to the hour (see `occurrence_for`).
    The current categories are kept on the row (for fast filtering) and follow
    the label history: a human decision wins over the model's.
    """

    __table_args__ = (
        CheckConstraint(f"kind IN ({_values(Kind)})", name="kind"),
        CheckConstraint(f"area IN ({_values(Area)})", name="area"),
        CheckConstraint(f"impact IN ({_values(Impact)})", name="impact"),
        CheckConstraint(f"status IN ({_values(Status)})", name="status"),
        CheckConstraint(
            "reporter_id IS NOT NULL OR (submitted_at IS NULL AND receipt_hash IS NOT NULL)",
            name="anonymous_has_receipt_and_no_time",
        ),
        CheckConstraint("consequence BETWEEN 1 AND 4", name="consequence"),
        CheckConstraint("likelihood BETWEEN 1 AND 4", name="likelihood"),
        CheckConstraint(
            "(consequence IS NULL AND likelihood IS NULL AND risk_score IS NULL)"
            " OR risk_score = consequence * likelihood",
            name="risk_score_is_product",
        ),
        Index("ix_report_queue", "submitted_on", "id"),
        # The overview's recent windows read these alone (app/services/overview.py).
        Index("ix_report_overview", "submitted_on", "unit_id", "area", "is_safety",
              "is_training", "is_functionality"),
        Index("ix_report_finished_at", "finished_at"),
        Index("ix_report_triaged", "triaged_at", "submitted_at", "submitted_on"),
        Index("ix_report_submitted_hour", "submitted_hour"),
        # The sweep's question (app/jobs/tasks.py): the few reports whose job has not run.
        Index("ix_report_unprocessed", "id", sqlite_where=db.text("processed = 0"),
              postgresql_where=db.text("NOT processed")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    occurred_at: Mapped[datetime]
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    area: Mapped[str] = mapped_column(String(30))
    impact: Mapped[str] = mapped_column(String(20))
    suggestion: Mapped[str | None] = mapped_column(Text)
    #: `text` and `suggestion` with personal identifiers replaced by placeholders,
    #: computed when the text is written so that exports need not scan it.
    text_deidentified: Mapped[str] = mapped_column(Text)
    suggestion_deidentified: Mapped[str | None] = mapped_column(Text)
    #: How many identifiers `text` and `suggestion` still hold (0 once redacted).
    identifiers_found: Mapped[int] = mapped_column(default=0, server_default="0")
    #: The day `flask retention apply` blanked the free text (None: the text is kept).
    text_removed_on: Mapped[date | None]
    language: Mapped[str | None] = mapped_column(String(5))
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    receipt_hash: Mapped[str | None] = mapped_column(String(255))
    submission_token: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(20), default=Status.NEW, index=True)
    submitted_on: Mapped[date]
    submitted_at: Mapped[datetime | None]
    #: The hour the report came in, for every report (an anonymous one keeps no finer
    #: time): how emerging issues and their alerts count reports within hours.
    submitted_hour: Mapped[datetime | None]

    #: When the report first left "new", and when it last reached a finished status.
    triaged_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    known_issue_id: Mapped[int | None] = mapped_column(ForeignKey("known_issue.id"), index=True)

    #: Risk assessment: consequence x likelihood (1-4 each). Suggested from the
    #: patient impact and safety score until a person confirms or edits it.
    consequence: Mapped[int | None]
    likelihood: Mapped[int | None]
    risk_score: Mapped[int | None]
    risk_confirmed: Mapped[bool] = mapped_column(default=False, server_default=false())
    due_at: Mapped[datetime | None] = mapped_column(index=True)
    #: The queue's urgency order, highest first: risk score, then safety score
    #: (see `refresh_priority`); among equals the older report (lower id) first.
    priority: Mapped[float] = mapped_column(default=0.0, server_default="0")

    #: Hand-offs: Lex Maria candidate, reported to the Medical Products Agency
    #: (Läkemedelsverket) or the data protection authority (IMY), the vendor's
    #: ticket and the region's formal deviation system id.
    lex_maria: Mapped[bool] = mapped_column(default=False, server_default=false())
    medical_products_agency: Mapped[bool] = mapped_column(default=False, server_default=false())
    data_protection_authority: Mapped[bool] = mapped_column(default=False,
                                                            server_default=false())
    vendor_ticket: Mapped[str | None] = mapped_column(String(100))
    deviation_id: Mapped[str | None] = mapped_column(String(100))

    model_version_id: Mapped[int | None] = mapped_column(ForeignKey("model_version.id"))
    score_safety: Mapped[float | None]
    score_training: Mapped[float | None]
    score_functionality: Mapped[float | None]
    is_safety: Mapped[bool | None]
    is_training: Mapped[bool | None]
    is_functionality: Mapped[bool | None]
    #: True once a person confirmed or corrected the categories.
    labels_reviewed: Mapped[bool] = mapped_column(default=False)
    #: The model was unsure about at least one category: a person should look.
    needs_review: Mapped[bool] = mapped_column(default=False, server_default=false())
    #: False from a web submission until its background job (app/jobs/tasks.py) has
    #: classified, indexed and grouped it: the report is "being classified". A flag and
    #: not a time, as a processing time would date an anonymous report's submission.
    #: Rows made elsewhere (import, demo data) are processed as they are made.
    processed: Mapped[bool] = mapped_column(default=True, server_default=true())

    unit: Mapped[Unit] = relationship()
    reporter: Mapped[User | None] = relationship(foreign_keys=[reporter_id])
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    known_issue: Mapped["KnownIssue | None"] = relationship(back_populates="reports")
    labels: Mapped[list["Label"]] = relationship(
        back_populates="report", order_by="Label.id", cascade="all, delete-orphan"
    )

    @property
    def reference(self) -> str:
        return reference_for(self.id)

    @property
    def is_anonymous(self) -> bool:
        return self.reporter_id is None

    @property
    def is_classified(self) -> bool:
        return self.is_safety is not None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @staticmethod
    def unclassified() -> ColumnElement[bool]:
        """Reports with text that no model has classified, as `ix_report_unclassified`
        reads them (its predicate is `_WAITING`, in the same words)."""
        return and_(Report.model_version_id.is_(None), Report.text_removed_on.is_(None))

    @staticmethod
    def unprocessed() -> ColumnElement[bool]:
        """Reports whose job has not run, as `ix_report_unprocessed` reads it: SQLite needs
        its predicate's very words (`processed = 0`); PostgreSQL takes `processed = false`
        for the index's `NOT processed`."""
        return Report.processed == false()

    @staticmethod
    def occurrence_for(occurred_at: datetime, anonymous: bool) -> datetime:
        """What a report keeps of when it happened: an anonymous one no finer than the hour.

        Many report right after the event, so its minute would give away the
        submission time that an anonymous report does not keep.
        """
        return occurred_at.replace(minute=0, second=0, microsecond=0) if anonymous else occurred_at

    @property
    def arrived_at(self) -> datetime:
        """When the report came in; an anonymous one keeps only its date: midnight of it."""
        return self.submitted_at or datetime.combine(self.submitted_on, time.min)

    @staticmethod
    def hour_of(moment: datetime) -> datetime:
        return moment.replace(minute=0, second=0, microsecond=0)

    def is_overdue(self, now: datetime | None = None) -> bool:
        """Past its due time and still open (a finished report is never overdue)."""
        return self.is_open and self.due_at is not None and (now or utcnow()) > self.due_at

    def set_status(self, status: str, now: datetime | None = None) -> None:
        """Move the report along the workflow, keeping its triage and finish times."""
        if status not in set(Status):
            raise ValueError(f"unknown status {status!r}")
        now = now or utcnow()
        if status != Status.NEW and self.triaged_at is None:
            self.triaged_at = now
        if status in OPEN_STATUSES:
            self.finished_at = None
        elif self.status in OPEN_STATUSES or self.finished_at is None:
            self.finished_at = now
        self.status = status

    def set_risk(self, consequence: int, likelihood: int, confirmed: bool) -> None:
        """Rate the risk (1-4 each); `confirmed` says a person, not a suggestion, set it."""
        if consequence not in RISK_LEVELS or likelihood not in RISK_LEVELS:
            raise ValueError("consequence and likelihood must be between 1 and 4")
        self.consequence, self.likelihood = consequence, likelihood
        self.risk_score = consequence * likelihood
        self.risk_confirmed = confirmed
        self.refresh_priority()

    @staticmethod
    def priority_for(risk_score: int | None, safety_score: float | None) -> float:
        """The urgency key: the risk score, with the safety score breaking ties."""
        return (risk_score or 0) + min(safety_score or 0.0, 0.999)

    def refresh_priority(self) -> None:
        self.priority = self.priority_for(self.risk_score, self.score_safety)

    def score(self, category: str) -> float | None:
        return getattr(self, f"score_{category}")

    def has_category(self, category: str) -> bool | None:
        return getattr(self, f"is_{category}")

    @property
    def categories(self) -> list[str]:
        """The categories that currently hold; empty means other."""
        return [c for c in CATEGORIES if self.has_category(c)]

    def apply_prediction(self, version_id: int, scores: dict[str, float],
                         labels: list[str], uncertain: bool = False) -> None:
        """Record the model's view; it sets the categories unless a person already has."""
        self.model_version_id = version_id
        self.needs_review = uncertain and not self.labels_reviewed
        for category in CATEGORIES:
            setattr(self, f"score_{category}", scores[category])
            self.labels.append(
                Label(category=category, value=category in labels, score=scores[category],
                      source=LabelSource.MODEL, model_version_id=version_id)
            )
            if not self.labels_reviewed:
                setattr(self, f"is_{category}", category in labels)
        self.refresh_priority()

    def apply_review(self, user_id: int, categories: set[str]) -> None:
        """Record a person's decision beside the model's; from now on it wins."""
        now = utcnow()
        for category in CATEGORIES:
            value = category in categories
            self.labels.append(
                Label(category=category, value=value, source=LabelSource.HUMAN,
                      user_id=user_id, created_at=now)
            )
            setattr(self, f"is_{category}", value)
        self.labels_reviewed = True
        self.needs_review = False

    def __repr__(self) -> str:
        return f"<Report {self.id} {self.kind}>"


# The queue's orders (app/services/triage.py ORDER_COLUMNS): by urgency, highest
# priority first and then the oldest report, and the same with uncertain reports first.
Index("ix_report_urgency", Report.priority.desc(), Report.id)
Index("ix_report_review", Report.needs_review.desc(), Report.priority.desc(), Report.id)
#: The reports waiting for classification, oldest hour first: the metrics' classification
#: lag reads this small partial index instead of the whole table (app/ops/metrics.py).
_WAITING = "model_version_id IS NULL AND text_removed_on IS NULL"
Index("ix_report_unclassified", Report.submitted_hour,
      postgresql_where=text(_WAITING), sqlite_where=text(_WAITING))


class Label(db.Model):
    """One decision on one category of a report, by the model or by a person.

    Model labels carry no time: for an anonymous report it would reveal when it
    was submitted. Their model version says when they were made well enough.
    """

    __table_args__ = (
        CheckConstraint(f"category IN ({', '.join(repr(c) for c in CATEGORIES)})",
                        name="category"),
        CheckConstraint(f"source IN ({_values(LabelSource)})", name="source"),
        CheckConstraint(
            "(source = 'model' AND model_version_id IS NOT NULL AND score IS NOT NULL)"
            " OR (source = 'human' AND user_id IS NOT NULL)",
            name="source_fields",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"),
                                           index=True)
    category: Mapped[str] = mapped_column(String(20))
    value: Mapped[bool]
    score: Mapped[float | None]
    source: Mapped[str] = mapped_column(String(10))
    model_version_id: Mapped[int | None] = mapped_column(ForeignKey("model_version.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime | None]

    report: Mapped[Report] = relationship(back_populates="labels")
    user: Mapped[User | None] = relationship()
