"""Reading a file of historical reports for ``flask --app app reports import``.

One JSON object per line, UTF-8: `submitted_at` (ISO 8601; an offset is converted
to UTC, no offset is UTC), `kind`, `unit` (a unit's name), `area`, `impact`,
`text`, and optionally `occurred_at` (the same format; without it, the submission
time) and `suggestion`. Any other key is an error. The values are checked by the
report form's own fields (`ImportedReportForm`), the times as the form checks them.
Blank lines are skipped; line numbers count every line of the file.

The file is read twice: once to check every line, keeping only each good line's
time, unit and place in the file, then in time order to import them, so that
100,000 lines never sit in memory at once.
"""

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from werkzeug.datastructures import MultiDict

from app.guards import has_control_character
from app.reports.forms import CLOCK_SKEW, EARLIEST, ImportedReportForm
from app.services.importer import ImportRow

REQUIRED = ("submitted_at", "kind", "unit", "area", "impact", "text")
OPTIONAL = ("occurred_at", "suggestion")


@dataclass(frozen=True, order=True)
class Entry:
    """A good line: when it was submitted, and where it is. Sorts in time order."""

    submitted: datetime
    line: int
    offset: int
    unit: str


@dataclass
class CheckedFile:
    #: The good lines, in time order (lines with the same time in file order).
    entries: list[Entry] = field(default_factory=list)
    #: Line number -> what is wrong with it.
    errors: dict[int, list[str]] = field(default_factory=dict)


class _BadLine(Exception):
    def __init__(self, reasons: list[str]):
        super().__init__("; ".join(reasons))
        self.reasons = reasons


def check_file(path: Path, now: datetime) -> CheckedFile:
    """Check every line; `now` (naive UTC) bounds the submission times."""
    checked = CheckedFile()
    offset = 0
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                row = parse_line(raw, number, now)
            except _BadLine as error:
                checked.errors[number] = error.reasons
            else:
                if row is not None:
                    checked.entries.append(Entry(row.submitted, number, offset, row.unit))
            offset += len(raw)
    checked.entries.sort()
    return checked


def rows_in_time_order(path: Path, entries: list[Entry], now: datetime) -> Iterator[ImportRow]:
    """The checked lines again, read from their places in time order."""
    with path.open("rb") as handle:
        for entry in entries:
            handle.seek(entry.offset)
            row = parse_line(handle.readline(), entry.line, now)
            if row is None:
                raise ValueError(f"line {entry.line} changed after it was checked")
            yield row


def parse_line(raw: bytes, number: int, now: datetime) -> ImportRow | None:
    """One line as a row; None for a blank line; _BadLine says what is wrong."""
    try:
        # A file saved by a spreadsheet may start with a byte-order mark.
        line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
    except UnicodeDecodeError as error:
        raise _BadLine([f"not valid UTF-8 (byte {error.start + 1})"]) from error
    line = line.strip()
    if not line:
        return None
    values = _object(line)
    reasons = _key_problems(values)
    if reasons:
        raise _BadLine(reasons)
    form = ImportedReportForm(MultiDict({key: values[key] for key in REQUIRED + OPTIONAL
                                         if values.get(key) is not None}))
    form.validate()
    reasons = [f"{key}: {message}" for key, messages in form.errors.items()
               for message in messages]
    submitted = _time(values, "submitted_at", reasons)
    occurred = _time(values, "occurred_at", reasons) if values.get("occurred_at") else submitted
    if submitted is not None and submitted > now + CLOCK_SKEW:
        reasons.append("submitted_at: the time is in the future")
    if submitted is not None and occurred is not None and occurred > submitted + CLOCK_SKEW:
        reasons.append("occurred_at: after submitted_at")
    unit = values["unit"].strip()
    if not unit:
        reasons.append("unit: This field is required.")
    if reasons:
        raise _BadLine(reasons)
    return ImportRow(line=number, submitted=submitted, unit=unit, kind=form.kind.data,
                     text=form.text.data, area=form.area.data, impact=form.impact.data,
                     suggestion=form.suggestion.data or None, occurred=occurred)


def _object(line: str) -> dict:
    def no_duplicates(pairs: list[tuple[str, object]]) -> dict:
        keys = [key for key, _value in pairs]
        repeated = sorted({key for key in keys if keys.count(key) > 1})
        if repeated:
            raise _BadLine([f"repeated key: {', '.join(repeated)}"])
        return dict(pairs)

    try:
        values = json.loads(line, object_pairs_hook=no_duplicates)
    except json.JSONDecodeError as error:
        raise _BadLine([f"not valid JSON ({error.msg} at column {error.colno})"]) from error
    if not isinstance(values, dict):
        raise _BadLine(["not a JSON object"])
    return values


def _key_problems(values: dict) -> list[str]:
    """Unknown and missing keys, and values that are no text (or a control character)."""
    reasons = []
    unknown = sorted(set(values) - set(REQUIRED) - set(OPTIONAL))
    if unknown:
        reasons.append(f"unknown key: {', '.join(unknown)}")
    missing = [key for key in REQUIRED if key not in values]
    if missing:
        reasons.append(f"missing key: {', '.join(missing)}")
    for key in REQUIRED + OPTIONAL:
        value = values.get(key)
        if value is None and key in OPTIONAL:
            continue
        if key in values and not isinstance(value, str):
            reasons.append(f"{key}: not a string")
        elif isinstance(value, str) and has_control_character(value):
            reasons.append(f"{key}: holds a control character")
    return reasons


def _time(values: dict, key: str, reasons: list[str]) -> datetime | None:
    """An ISO 8601 time as naive UTC; None (and a reason) if it is not one or too old."""
    try:
        moment = datetime.fromisoformat(values[key])
    except ValueError:
        reasons.append(f"{key}: not an ISO 8601 time")
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    if moment < EARLIEST:
        reasons.append(f"{key}: before {EARLIEST.year}")
        return None
    return moment
