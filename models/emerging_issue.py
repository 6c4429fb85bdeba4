"""Emerging issues: groups of recent reports about one thing, formed by Vaka itself.

Every new report is compared with the open groups (app.services.grouping). It joins
the best one above a threshold or starts a new group. A group is *forming* while it
holds one report and *open* from the second on, until a coordinator decides:

- confirm: it becomes a known issue, members and all (status ``confirmed``);
- merge: its members join an existing known issue (status ``merged``);
- dismiss: it is not one thing (status ``dismissed``); its reports stay where they are;
- it *fades* when no report joined it for a while (status ``faded``).

A known issue keeps one group row (``known_issue_id`` set, status ``confirmed``)
as its term profile and the holder of its members, so a new report can join an
open known issue the same way it joins an emerging one. A group merged into a
known issue (status ``merged``) points to it too, but its members and profile
moved to that known issue's row; only one row per known issue is ``confirmed``.

`profile` is the sum of the members' grouping vectors (term -> weight, its
heaviest terms only); `excluded` is the same sum over the reports a coordinator
moved out of the group, which the grouping uses to keep their like out.
`EmergingIssueReport` holds the members (a report is in one group at most);
`EmergingIssueTerm` indexes each active group's heaviest terms for the look-up.
"""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import db, utcnow
from models.known_issue import KnownIssue
from models.user import User


class EmergingStatus(StrEnum):
    FORMING = "forming"
    OPEN = "open"
    CONFIRMED = "confirmed"
    MERGED = "merged"
    DISMISSED = "dismissed"
    FADED = "faded"


#: Groups a new report may still join (a known issue's profile too, while it is open).
ACTIVE_STATUSES = frozenset({EmergingStatus.FORMING, EmergingStatus.OPEN,
                             EmergingStatus.CONFIRMED, EmergingStatus.MERGED})
#: Groups shown to coordinators as emerging issues, awaiting a decision.
UNDECIDED_STATUSES = frozenset({EmergingStatus.FORMING, EmergingStatus.OPEN})


def _values(enum: type[StrEnum]) -> str:
    return ", ".join(f"'{member.value}'" for member in enum)


class EmergingIssue(db.Model):
    __table_args__ = (
        CheckConstraint(f"status IN ({_values(EmergingStatus)})", name="status"),
        CheckConstraint(
            "(status IN ('confirmed', 'merged')) = (known_issue_id IS NOT NULL)",
            name="decided_into_known_issue",
        ),
        Index("ix_emerging_issue_status_last", "status", "last_report_at"),
        # A known issue's profile row: one per known issue (merged rows point to it too).
        Index("uq_emerging_issue_known_issue_profile", "known_issue_id", unique=True,
              sqlite_where=text("status = 'confirmed'"),
              postgresql_where=text("status = 'confirmed'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Generated from its distinctive terms, in its members' language.
    title: Mapped[str] = mapped_column(String(200), default="")
    language: Mapped[str | None] = mapped_column(String(5))
    status: Mapped[str] = mapped_column(String(20), default=EmergingStatus.FORMING)
    profile: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    excluded: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: How many reports are in it (kept with the members, for lists and thresholds).
    member_count: Mapped[int] = mapped_column(default=0)
    #: The hours its first and its latest member arrived (see Report.submitted_hour).
    first_report_at: Mapped[datetime | None]
    last_report_at: Mapped[datetime | None]
    known_issue_id: Mapped[int | None] = mapped_column(ForeignKey("known_issue.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    known_issue: Mapped[KnownIssue | None] = relationship()
    decided_by: Mapped[User | None] = relationship()

    @property
    def is_undecided(self) -> bool:
        return self.status in UNDECIDED_STATUSES

    def __repr__(self) -> str:
        return f"<EmergingIssue {self.id} {self.status} {self.title!r}>"


class EmergingIssueTerm(db.Model):
    """An active group's heaviest terms, by key (ml.similarity.term_key), for the look-up."""

    __tablename__ = "emerging_issue_term"
    __table_args__ = (
        Index("ix_emerging_issue_term_key", "term_key", "emerging_issue_id"),
        {"sqlite_with_rowid": False},
    )

    emerging_issue_id: Mapped[int] = mapped_column(
        ForeignKey("emerging_issue.id", ondelete="CASCADE"), primary_key=True)
    term_key: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    weight: Mapped[float]


class EmergingIssueReport(db.Model):
    """A report's group: Vaka put it there, or a coordinator moved it (one group a report)."""

    __tablename__ = "emerging_issue_report"
    __table_args__ = (Index("ix_emerging_issue_report_issue", "emerging_issue_id", "report_id"),)

    report_id: Mapped[int] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"),
                                           primary_key=True)
    emerging_issue_id: Mapped[int] = mapped_column(
        ForeignKey("emerging_issue.id", ondelete="CASCADE"))


class GroupingExclusion(db.Model):
    """A coordinator moved this report out of this group: it never joins it again."""

    __tablename__ = "grouping_exclusion"

    report_id: Mapped[int] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"),
                                           primary_key=True)
    emerging_issue_id: Mapped[int] = mapped_column(
        ForeignKey("emerging_issue.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
