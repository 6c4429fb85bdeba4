"""Moving reports along: assignment, status, risk and due time, hand-offs, comments, history.

The changes take a list of report ids so that the queue's bulk actions use the
same functions as the detail page; each writes one audit entry per report it
actually changed, in the same transaction as the change.

Risk follows the Swedish risk matrix: consequence (1-4) x likelihood (1-4).
Until a person assesses it, the risk is suggested by `suggest_risk`; a
suggestion never replaces a risk a person confirmed. The due time follows the
risk score (`RISK_DUE_HOURS`), counted from the report's arrival.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.services import ServiceError
from app.services.audit import record
from app.services.report_queries import get_report, get_reports
from models import (
    COMMENT_MAX,
    RISK_LEVELS,
    AuditEvent,
    Comment,
    Impact,
    Report,
    Role,
    Status,
    User,
    db,
    transaction,
)

#: The longest vendor ticket or deviation system id, in characters (the column's size).
HANDOFF_ID_MAX = 100
#: The hand-off flags, and the hand-off ids of other systems, as named on the report.
HANDOFF_FLAGS = ("lex_maria", "medical_products_agency", "data_protection_authority")
HANDOFF_IDS = ("vendor_ticket", "deviation_id")

#: Suggested consequence per patient impact: no harm is minor (1), a near miss or
#: an unknown impact moderate (2), harm significant (3). Catastrophic (4) is left
#: to a person, who knows whether the harm was permanent.
IMPACT_CONSEQUENCE = {Impact.NONE: 1, Impact.NEAR_MISS: 2, Impact.UNKNOWN: 2, Impact.HARM: 3}
#: Suggested likelihood before the model has scored a report: "likely", so that a
#: harm report is due within a day until the model or a person says otherwise.
UNSCORED_LIKELIHOOD = 3


def suggest_risk(impact: str, safety_score: float | None) -> tuple[int, int]:
    """The suggested (consequence, likelihood) of a report.

    Consequence comes from the patient impact (`IMPACT_CONSEQUENCE`); likelihood
    from the model's patient-safety score in quarters: below 0.25 is 1, below
    0.5 is 2, below 0.75 is 3, else 4; without a score `UNSCORED_LIKELIHOOD`.
    """
    consequence = IMPACT_CONSEQUENCE[Impact(impact)]
    if safety_score is None:
        return consequence, UNSCORED_LIKELIHOOD
    return consequence, min(int(max(safety_score, 0.0) * 4) + 1, 4)


def due_hours(risk_score: int) -> int | None:
    """Hours to handle a report of this score: the first row of `RISK_DUE_HOURS`,
    highest minimum first, that the score reaches (None: no row does)."""
    for minimum, hours in sorted(current_app.config["RISK_DUE_HOURS"], reverse=True):
        if risk_score >= minimum:
            return hours
    return None


def _refresh_due(report: Report) -> None:
    hours = None if report.risk_score is None else due_hours(report.risk_score)
    report.due_at = None if hours is None else report.arrived_at + timedelta(hours=hours)


def apply_suggested_risk(report: Report) -> None:
    """Suggest the report's risk and due time, unless a person already confirmed its risk.

    Called when a report is submitted and when it is classified, inside their
    transaction; not audited (it follows from the impact and the model's score).
    """
    if report.risk_confirmed:
        return
    report.set_risk(*suggest_risk(report.impact, report.score_safety), confirmed=False)
    _refresh_due(report)


def coordinators() -> list[User]:
    """Who a report can be assigned to: the active coordinators, by e-mail."""
    return list(db.session.scalars(select(User).where(User.role == Role.COORDINATOR,
                                                      User.active).order_by(User.email)))


def check_assignee(assignee_id: int | None) -> User | None:
    """The active coordinator of that id (None: nobody); ServiceError for anyone else."""
    assignee = None if assignee_id is None else db.session.get(User, assignee_id)
    if assignee_id is not None and (assignee is None or not assignee.active
                                    or assignee.role != Role.COORDINATOR):
        raise ServiceError("reports can only be assigned to an active coordinator")
    return assignee


def assign_one(report: Report, assignee: User | None, actor: User) -> bool:
    """Assign one report inside the caller's transaction; True if it changed (audited)."""
    assignee_id = assignee.id if assignee else None
    if report.assignee_id == assignee_id:
        return False
    report.assignee_id = assignee_id
    record("report.assign", actor, "report", report.id, assignee_id=assignee_id,
           assignee=assignee.email if assignee else None)
    return True


def assign(report_ids: list[int], assignee_id: int | None, actor: User) -> int:
    """Assign the reports to an active coordinator (None: to nobody); return how many changed."""
    with transaction():
        assignee = check_assignee(assignee_id)
        return sum(assign_one(report, assignee, actor) for report in get_reports(report_ids))


def check_status(status: str) -> None:
    if status not in set(Status):
        raise ServiceError(f"unknown status {status!r}")


def set_status_one(report: Report, status: str, actor: User) -> bool:
    """Move one report inside the caller's transaction (keeping its triage and finish
    times); True if it changed (audited)."""
    if report.status == status:
        return False
    previous = report.status
    report.set_status(status)
    record("report.status", actor, "report", report.id, status=status, previous=previous)
    return True


def set_status(report_ids: list[int], status: str, actor: User) -> int:
    """Move the reports to `status`; return how many changed."""
    check_status(status)
    with transaction():
        return sum(set_status_one(report, status, actor) for report in get_reports(report_ids))


def check_risk(consequence: int, likelihood: int) -> None:
    if consequence not in RISK_LEVELS or likelihood not in RISK_LEVELS:
        raise ServiceError("consequence and likelihood must be between 1 and 4")


def assess_risk_one(report: Report, consequence: int, likelihood: int, actor: User) -> bool:
    """A person's risk assessment inside the caller's transaction: it sets the due time and
    no suggestion replaces it. True if it changed (audited)."""
    if (report.consequence, report.likelihood, report.risk_confirmed) == (
            consequence, likelihood, True):
        return False
    previous = report.risk_score
    report.set_risk(consequence, likelihood, confirmed=True)
    _refresh_due(report)
    record("report.risk", actor, "report", report.id, consequence=consequence,
           likelihood=likelihood, score=report.risk_score, previous=previous,
           due_at=report.due_at)
    return True


def _clean_id(value: str | None) -> str | None:
    """A hand-off id trimmed, None when blank; ServiceError when too long or not printable."""
    value = (value or "").strip()
    if len(value) > HANDOFF_ID_MAX or not value.isprintable():
        raise ServiceError(f"an id must be printable and at most {HANDOFF_ID_MAX} characters")
    return value or None


def set_handoffs(report_id: int, actor: User, lex_maria: bool, medical_products_agency: bool,
                 data_protection_authority: bool, vendor_ticket: str | None,
                 deviation_id: str | None) -> Report:
    """Set where the report was handed off to; the audit entry holds what changed."""
    wanted: dict[str, Any] = {
        "lex_maria": lex_maria, "medical_products_agency": medical_products_agency,
        "data_protection_authority": data_protection_authority,
        "vendor_ticket": _clean_id(vendor_ticket), "deviation_id": _clean_id(deviation_id)}
    with transaction():
        report = get_report(report_id)
        changes = {name: value for name, value in wanted.items()
                   if getattr(report, name) != value}
        if changes:
            for name, value in changes.items():
                setattr(report, name, value)
            record("report.handoff", actor, "report", report_id, **changes)
    return report


def add_comment(report_id: int, actor: User, body: str) -> Comment:
    """An internal comment by the coordination group (audited without its text)."""
    body = body.strip()
    if not body or len(body) > COMMENT_MAX:
        raise ServiceError(f"a comment must have between 1 and {COMMENT_MAX} characters")
    with transaction():
        get_report(report_id)
        comment = Comment(report_id=report_id, author_id=actor.id, body=body)
        db.session.add(comment)
        db.session.flush()
        record("report.comment", actor, "report", report_id, comment_id=comment.id)
    return comment


def comments_for(report_id: int) -> list[Comment]:
    """A report's internal comments, oldest first."""
    return list(db.session.scalars(select(Comment).where(Comment.report_id == report_id)
                                   .options(joinedload(Comment.author)).order_by(Comment.id)))


@dataclass(frozen=True)
class HistoryEntry:
    """One change to a report: when, by whom, what (an audit action) and its details."""

    at: datetime
    actor: str
    action: str
    details: dict[str, Any]


def history(report_id: int) -> list[HistoryEntry]:
    """Everything done to a report, oldest first, from the audit log (views left out)."""
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.object_type == "report",
                                 AuditEvent.object_id == str(report_id),
                                 AuditEvent.action != "report.view")
        .order_by(AuditEvent.id))
    return [HistoryEntry(e.at, e.actor_label, e.action, e.details or {}) for e in events]
