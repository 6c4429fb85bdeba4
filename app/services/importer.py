"""Importing historical reports (an export of the region's deviation system, a pilot's
reports) as anonymous reports submitted at their own time.

Each report is built as the report form builds one (`app.services.drafts.new_report`
with the given submission time): anonymous, with a receipt hash of a random token whose
receipt nobody is ever shown, no submission time of day (only the date and the hour)
and its occurrence to the hour. Reports are written in time order, `BATCH` per
transaction, and each batch is then handled as if it had just arrived
(`_after_import`), before the next is written: classified and indexed, then grouped
report by report, each followed by the alert test a submission's job runs, at the
report's own submission time. Alerts raised so are not e-mailed: the next `alerts
check` (or the schedule) sends what is new. The lines are checked before this
(app/reports/import_file.py): a file with a bad line imports nothing.
"""

import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import islice

from sqlalchemy import select

from app.services import ServiceError
from app.services.alerts import check_emerging_issue
from app.services.classification import classify_reports
from app.services.drafts import ReportDraft, new_report
from app.services.grouping import group_in_time, undecided_id
from app.services.similarity import index_reports
from app.services.units import NAME_MAX, create_unit
from app.services.workflow import apply_suggested_risk
from models import Report, Unit, db, transaction

#: Reports written per transaction.
BATCH = 500


@dataclass(frozen=True)
class ImportRow:
    """One checked line of the file."""

    line: int
    submitted: datetime
    unit: str
    kind: str
    text: str
    area: str
    impact: str
    suggestion: str | None
    occurred: datetime


@dataclass(frozen=True)
class Imported:
    line: int
    id: int
    reference: str


def _key(name: str) -> str:
    """Unit names are matched whatever their letter case, as the admin pages keep them
    unique."""
    return name.strip().casefold()


def _units() -> dict[str, Unit]:
    return {_key(unit.name): unit for unit in db.session.scalars(select(Unit))}


def unit_problems(names: Iterable[str], create: bool) -> dict[str, str]:
    """What stops each of these unit names from being used, by name (absent: nothing).

    An inactive unit takes no new reports, as on the form; an unknown one is
    created only if `create` says so.
    """
    units, problems = _units(), {}
    for name in set(names):
        unit = units.get(_key(name))
        if unit is not None and not unit.active:
            problems[name] = f"unit {name!r} is inactive (an admin can reactivate it)"
        elif unit is None and not create:
            problems[name] = f"unknown unit {name!r} (--create-units creates it)"
        elif unit is None and len(name.strip()) > NAME_MAX:
            problems[name] = f"unit: a unit name has at most {NAME_MAX} characters"
    return problems


def create_missing_units(names: Iterable[str]) -> int:
    """Create the units of `names` that do not exist (audited as the system's); returns
    how many were created."""
    spelled = {_key(name): name.strip() for name in names}
    missing = sorted(spelled.keys() - _units().keys())
    for key in missing:
        create_unit(None, spelled[key])
    return len(missing)


def import_reports(rows: Iterable[ImportRow]) -> list[Imported]:
    """Write the rows (in time order) as anonymous reports, a batch per transaction."""
    units = _units()
    imported: list[Imported] = []
    for batch in _batches(iter(rows)):
        with transaction():
            reports = [_report(row, units) for row in batch]
            db.session.add_all(reports)
            db.session.flush()
        pairs = list(zip(batch, reports, strict=True))
        _after_import([(report.id, row.submitted) for row, report in pairs])
        imported += [Imported(row.line, report.id, report.reference) for row, report in pairs]
    return imported


def _batches(rows: Iterator[ImportRow]) -> Iterator[list[ImportRow]]:
    while batch := list(islice(rows, BATCH)):
        yield batch


def _report(row: ImportRow, units: dict[str, Unit]) -> Report:
    unit = units.get(_key(row.unit))
    if unit is None or not unit.active:
        raise ServiceError(f"line {row.line}: no active unit {row.unit!r}")
    draft = ReportDraft(kind=row.kind, text=row.text, occurred_at=row.occurred,
                        unit_id=unit.id, area=row.area, impact=row.impact,
                        suggestion=row.suggestion, submission_token=secrets.token_urlsafe(24))
    report = new_report(draft, None, row.submitted)
    apply_suggested_risk(report)  # from the impact alone until it is classified
    return report


def _after_import(arrivals: list[tuple[int, datetime]]) -> None:
    """What happens to a batch of reports once written (ids with their submission
    times, in time order), as to reports sent from the form one after the other."""
    ids = [report_id for report_id, _submitted in arrivals]
    classify_reports(ids)
    index_reports(ids)
    for report_id, submitted in arrivals:
        with transaction():
            undecided = undecided_id(group_in_time(report_id))
        if undecided is not None:
            check_emerging_issue(undecided, submitted, notify=False)
