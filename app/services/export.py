"""The researchers' CSV export: streamed row by row, never holding the whole file.

No column says who reported: reporter, receipt and submission time are never
selected. Every cell a spreadsheet could run as a formula is neutralised.
"""

import csv
import io
from collections.abc import Iterable, Iterator

from app.services.triage import ReportFilters, filtered_reports
from models import CATEGORIES, Report, Unit, db
from models.report import reference_for

#: Characters that make a spreadsheet treat a cell as a formula or a command.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")

COLUMNS = (
    ["reference", "kind", "submitted_on", "occurred_at", "unit", "area", "impact", "status",
     "language", "model_version"]
    + [f"{c}_{part}" for c in CATEGORIES for part in ("score", "label")]
    + ["labels_reviewed", "text", "suggestion"]
)


def neutralise(value: object) -> str:
    """Text safe to open in a spreadsheet: a leading formula trigger is quoted away."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    text = str(value)
    if text.startswith(FORMULA_TRIGGERS):
        return "'" + text
    return text


def export_rows(filters: ReportFilters, batch_size: int = 1000) -> Iterator[list[str]]:
    """Rows for the export, oldest first, fetched from the database in batches."""
    columns = (
        Report.id, Report.kind, Report.submitted_on, Report.occurred_at, Unit.name,
        Report.area, Report.impact, Report.status, Report.language, Report.model_version_id,
        *(column for c in CATEGORIES
          for column in (getattr(Report, f"score_{c}"), getattr(Report, f"is_{c}"))),
        Report.labels_reviewed, Report.text, Report.suggestion,
    )
    query = (filtered_reports(filters, *columns)
             .join(Unit, Unit.id == Report.unit_id)
             .order_by(Report.id)
             .execution_options(yield_per=batch_size))
    for row in db.session.execute(query):
        yield [reference_for(row[0]), *(neutralise(value) for value in row[1:])]


def csv_chunks(rows: Iterable[list[str]], rows_per_chunk: int = 500) -> Iterator[str]:
    """The CSV text (header first) in chunks of a few hundred rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for count, row in enumerate(rows, start=1):
        writer.writerow(row)
        if count % rows_per_chunk == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
