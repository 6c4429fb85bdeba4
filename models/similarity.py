"""The similarity index: each report's most distinctive terms (see ml.similarity).

A report's similar reports are found by looking up its terms here (index
`ix_report_term_key`, newest reports first) instead of comparing it with every
report. Terms are stored as their 32-bit keys (`ml.similarity.term_key`) with
their TF-IDF weight in the report's normalised vector. On SQLite the table has
no rowid: its primary key is the table, so each row costs a few bytes.
"""

from sqlalchemy import ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from models.base import db
from models.report import Report


class ReportTerm(db.Model):
    __tablename__ = "report_term"
    __table_args__ = (
        Index("ix_report_term_key", "term_key", "report_id"),
        {"sqlite_with_rowid": False},
    )

    report_id: Mapped[int] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"),
                                           primary_key=True)
    term_key: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    weight: Mapped[float]


#: A known issue's reports by day, with their units: the known-issue list's counts,
#: first and last seen, units and weekly counts, and its newest reports, all read
#: from this index alone.
Index("ix_report_known_issue_seen", Report.known_issue_id, Report.submitted_on, Report.id,
      Report.unit_id)
