"""Counts for sharing: reports by category x unit x ISO week, small cells suppressed.

A count between 1 and k - 1 could single out a handful of reporters (or
patients), so it is blanked and flagged. Only combinations with at least one
report are listed; reports not yet classified count in no category.
"""

import csv
import io
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict

from sqlalchemy import Integer, and_, case, cast, func

from app.services.audit import record
from app.services.report_queries import ReportFilters, filtered_reports
from app.services.spreadsheet import neutralise
from models import CATEGORIES, Report, Unit, User, db
from trends.weeks import iso_week

#: The categories counted: the three, and other (none of them).
COUNTED = (*CATEGORIES, "other")
HEADER = ["week", "unit", "category", "reports", "suppressed"]


def weekly_counts(filters: ReportFilters) -> Counter[tuple[str, str, str]]:
    """Reports per (ISO week, unit name, category), counted by the database per day."""
    other = and_(*(getattr(Report, f"is_{c}").is_(False) for c in CATEGORIES))
    sums = [func.sum(cast(getattr(Report, f"is_{c}"), Integer)) for c in CATEGORIES]
    sums.append(func.sum(case((other, 1), else_=0)))
    query = (filtered_reports(filters, Report.submitted_on, Unit.name, *sums)
             .join(Unit, Unit.id == Report.unit_id)
             .group_by(Report.submitted_on, Unit.name))
    counts: Counter[tuple[str, str, str]] = Counter()
    for day, unit, *per_category in db.session.execute(query):
        week = iso_week(day)
        for category, count in zip(COUNTED, per_category, strict=True):
            if count:
                counts[week, unit, category] += count
    return counts


def suppressed_rows(counts: Counter[tuple[str, str, str]], min_cell: int) -> Iterator[list]:
    """One row per counted cell, sorted; counts under `min_cell` blanked and flagged."""
    for (week, unit, category), count in sorted(counts.items()):
        small = count < min_cell
        yield [week, neutralise(unit), category, "" if small else count, int(small)]


def aggregates_csv(filters: ReportFilters, min_cell: int, actor: User | None) -> str:
    """The suppressed counts as CSV text; the export is audited."""
    if min_cell < 1:
        raise ValueError("the smallest cell size shown must be at least 1")
    counts = weekly_counts(filters)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    rows = list(suppressed_rows(counts, min_cell))
    writer.writerows(rows)
    record("export.aggregates", actor, filters=asdict(filters), min_cell=min_cell,
           cells=len(rows), suppressed=sum(row[-1] for row in rows))
    return buffer.getvalue()
