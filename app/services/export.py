"""The researchers' export: de-identified report rows, streamed in constant memory.

What a researcher gets:
* no column says who reported: reporter, receipt and submission time are never
  selected, and the free text is the copy scrubbed of personal identifiers
  when it was written (see app/services/identifiers.py);
* optionally pseudonyms instead of report numbers and unit names: a keyed hash,
  stable within one research project and not reversible without the server's key;
* every cell a spreadsheet would run as a formula is neutralised.

Speed: for CSV the database does the work. PostgreSQL writes the whole file
with its own CSV writer (COPY ... TO STDOUT); SQLite builds each line with one
format() call (formula quoting, CSV quoting, booleans as 0/1, dates and numbers
as text), so Python only joins batches of finished lines. JSON lines are built
from the rows' values. A pseudonymised CSV takes the SQLite way everywhere. Each
export is recorded in the audit log with a manifest: filters, format, row
count, active model version, time and SHA-256.
"""

import csv
import hashlib
import hmac
import io
import json
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from enum import StrEnum

from flask import current_app
from flask_babel import LazyString, force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Float,
    Integer,
    Numeric,
    Select,
    String,
    case,
    cast,
    func,
    literal,
    select,
)
from sqlalchemy.sql.elements import ColumnElement

from app.services import ServiceError
from app.services.audit import record
from app.services.classification import active_version
from app.services.report_queries import ReportFilters, filtered_reports
from app.services.spreadsheet import FORMULA_TRIGGERS
from app.services.triage import Count, capped_count
from models import CATEGORIES, Area, Impact, Kind, Report, Status, Unit, User, db

#: What a research project's name may look like (it is part of an audit entry).
PROJECT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
#: How much of PostgreSQL's COPY output to gather before sending it on.
COPY_CHUNK_BYTES = 256 * 1024
#: Scores are exported to this many decimals.
SCORE_DECIMALS = 4
#: Excel needs a byte-order mark to read a CSV file as UTF-8.
UTF8_BOM = "\ufeff"


class Format(StrEnum):
    CSV = "csv"
    JSONL = "jsonl"


class Sensitivity(StrEnum):
    """How careful a researcher must be with a column (described in the codebook)."""

    IDENTIFIER = "identifier"
    PSEUDONYM = "pseudonym"
    QUASI_IDENTIFIER = "quasi-identifier"
    FREE_TEXT = "de-identified free text"
    PLAIN = "non-identifying"


@dataclass(frozen=True)
class ExportOptions:
    filters: ReportFilters = field(default_factory=ReportFilters)
    format: Format = Format.CSV
    #: Start a CSV file with a byte-order mark so that spreadsheets read it as UTF-8.
    bom: bool = False
    #: Pseudonymise report numbers and units with this research project's key.
    project: str | None = None

    def __post_init__(self) -> None:
        if self.project is not None:
            check_project(self.project)


def check_project(project: str) -> None:
    """ServiceError unless `project` is a research project's name (PROJECT_NAME)."""
    if not PROJECT_NAME.fullmatch(project):
        raise ServiceError("a project name is 1-64 letters, digits, dots, dashes or underscores")


@dataclass(frozen=True)
class Column:
    """One column of the export, described for the codebook (in the reader's language)."""

    name: str
    type: str
    values: str | LazyString
    sensitivity: Sensitivity
    description: str | LazyString
    #: Free text may hold commas, quotes and line breaks: its CSV cells are quoted.
    #: Codes and numbers (checked by the database) never do.
    quoted: bool = False


#: The codebook's languages, each named in itself.
CODEBOOK_LANGUAGES = {"sv": "Svenska", "en": "English"}
#: The codebook's words for its own headings, types and sensitivities.
CODEBOOK_HEADINGS = (_l("column"), _l("type"), _l("allowed_values"), _l("sensitivity"),
                     _l("description"))
TYPE_NAMES = {"integer": _l("integer"), "string": _l("string"), "number": _l("number"),
              "date": _l("date"), "datetime": _l("datetime")}
SENSITIVITY_NAMES = {
    Sensitivity.IDENTIFIER: _l("identifier"), Sensitivity.PSEUDONYM: _l("pseudonym"),
    Sensitivity.QUASI_IDENTIFIER: _l("quasi-identifier"),
    Sensitivity.FREE_TEXT: _l("de-identified free text"),
    Sensitivity.PLAIN: _l("non-identifying"),
}


def _listed(enum: type[StrEnum]) -> str:
    return "; ".join(member.value for member in enum)


_SCORE = _l("number 0-1, %(decimals)d decimals; empty", decimals=SCORE_DECIMALS)
_FLAG = _l("0; 1; empty")
_LEVEL = _l("1-4; empty")
_DAY = _l("YYYY-MM-DD; empty")


def columns(pseudonymous: bool) -> list[Column]:
    """The export's columns, in order: the same list drives the file and its codebook."""
    if pseudonymous:
        report = Column("report_pseudonym", "string", _l("16 hex digits"), Sensitivity.PSEUDONYM,
                        _l("A keyed hash of the report's number, stable within the research "
                           "project."))
        unit = Column("unit_pseudonym", "string", _l("16 hex digits"), Sensitivity.PSEUDONYM,
                      _l("A keyed hash of the reporting unit, stable within the research "
                         "project."))
    else:
        report = Column("report_id", "integer", _l("1 or more"), Sensitivity.IDENTIFIER,
                        _l("The report's number (staff see it as V- and six digits)."))
        unit = Column("unit", "string", _l("unit names"), Sensitivity.QUASI_IDENTIFIER,
                      _l("The ward, clinic or department the report is about."), quoted=True)
    scores = [
        column
        for category in CATEGORIES
        for column in (
            Column(f"{category}_score", "number", _SCORE, Sensitivity.PLAIN,
                   _l("The classifier's calibrated probability that the report is about "
                      "%(category)s.", category=category)),
            Column(f"{category}_label", "integer", _FLAG, Sensitivity.PLAIN,
                   _l("1 if the report counts as %(category)s (a person's decision wins over "
                      "the model's); empty if not yet classified.", category=category)),
        )
    ]
    return [
        report,
        unit,
        Column("kind", "string", _listed(Kind), Sensitivity.PLAIN, _l("Incident or feedback.")),
        Column("submitted_on", "date", "YYYY-MM-DD", Sensitivity.QUASI_IDENTIFIER,
               _l("The day the report was sent (never the time).")),
        Column("occurred_at", "datetime", "YYYY-MM-DD HH:MM", Sensitivity.QUASI_IDENTIFIER,
               _l("When the reporter says it happened; to the hour (HH:00) for an anonymous "
                  "report.")),
        Column("area", "string", _listed(Area), Sensitivity.PLAIN,
               _l("The affected part of the record system, as chosen by the reporter.")),
        Column("impact", "string", _listed(Impact), Sensitivity.PLAIN,
               _l("Patient impact, as chosen by the reporter.")),
        Column("status", "string", _listed(Status), Sensitivity.PLAIN,
               _l("Where the coordination group's handling stands.")),
        Column("consequence", "integer", _LEVEL, Sensitivity.PLAIN,
               _l("The risk assessment's consequence, 1 (small) to 4 (catastrophic); empty "
                  "if the risk is not assessed or suggested.")),
        Column("likelihood", "integer", _LEVEL, Sensitivity.PLAIN,
               _l("The risk assessment's likelihood, 1 (unlikely) to 4 (almost certain); "
                  "empty if the risk is not assessed or suggested.")),
        Column("risk_score", "integer", _l("1-16; empty"), Sensitivity.PLAIN,
               _l("Consequence times likelihood.")),
        Column("risk_assessed", "integer", _l("0; 1"), Sensitivity.PLAIN,
               _l("1 if a coordinator assessed the risk; 0 if it is the suggestion made from "
                  "the patient impact and the model's safety score.")),
        Column("first_triaged_on", "date", _DAY, Sensitivity.QUASI_IDENTIFIER,
               _l("The day the coordination group first took the report up (the day only: "
                  "a time could narrow down when an anonymous report was sent); empty if "
                  "still new.")),
        Column("finished_on", "date", _DAY, Sensitivity.QUASI_IDENTIFIER,
               _l("The day the report was last resolved, closed, marked duplicate or "
                  "rejected (the day only, as above); empty while it is open.")),
        Column("known_issue_id", "integer", _l("1 or more; empty"), Sensitivity.PLAIN,
               _l("The known issue the coordination group put the report in: reports with "
                  "the same number are about the same fault; empty if in none.")),
        Column("language", "string", _l("sv; en; empty"), Sensitivity.PLAIN,
               _l("The language the text was detected to be in.")),
        Column("model_version", "integer", _l("1 or more; empty"), Sensitivity.PLAIN,
               _l("The classifier version behind the scores.")),
        *scores,
        Column("labels_reviewed", "integer", _l("0; 1"), Sensitivity.PLAIN,
               _l("1 if a person confirmed or corrected the categories.")),
        Column("text", "string", _l("free text"), Sensitivity.FREE_TEXT,
               _l("What happened, with personal identity and coordination numbers, phone "
                  "numbers and e-mail addresses replaced by [PERSONNUMMER], "
                  "[SAMORDNINGSNUMMER], [TELEFON] and [E-POST]. Names and other identifiers "
                  "may remain."), quoted=True),
        Column("suggestion", "string", _l("free text; empty"), Sensitivity.FREE_TEXT,
               _l("The reporter's suggestion, de-identified like the text."), quoted=True),
    ]


# --- the rows -------------------------------------------------------------------


def _neutralised(expression: ColumnElement) -> ColumnElement:
    """SQL for a text cell with a leading formula trigger quoted away."""
    return case((func.substr(expression, 1, 1).in_(FORMULA_TRIGGERS), literal("'") + expression),
                else_=expression)


def _rounded(score: ColumnElement) -> ColumnElement:
    """A score to four decimals (PostgreSQL rounds numerics only, not doubles)."""
    if db.session.get_bind().dialect.name == "postgresql":
        return cast(func.round(cast(score, Numeric), SCORE_DECIMALS), Float)
    return func.round(score, SCORE_DECIMALS)


def _day(moment: ColumnElement) -> ColumnElement:
    """A timestamp cut to its day, YYYY-MM-DD (NULL stays NULL)."""
    return func.substr(cast(moment, String), 1, 10)


def _selected(pseudonymous: bool) -> list[ColumnElement]:
    """The SQL expressions behind `columns(pseudonymous)`, one for one."""
    scores = [
        expression
        for category in CATEGORIES
        for expression in (_rounded(getattr(Report, f"score_{category}")),
                           cast(getattr(Report, f"is_{category}"), Integer))
    ]
    return [
        Report.id,
        Report.unit_id if pseudonymous else _neutralised(Unit.name),
        Report.kind,
        cast(Report.submitted_on, String),
        func.substr(cast(Report.occurred_at, String), 1, 16),
        Report.area, Report.impact, Report.status,
        Report.consequence, Report.likelihood, Report.risk_score,
        case((Report.risk_score.is_(None), None), else_=cast(Report.risk_confirmed, Integer)),
        _day(Report.triaged_at), _day(Report.finished_at), Report.known_issue_id,
        Report.language, Report.model_version_id,
        *scores,
        cast(Report.labels_reviewed, Integer),
        _neutralised(Report.text_deidentified),
        _neutralised(Report.suggestion_deidentified),
    ]


def pseudonym_key(project: str) -> bytes:
    """The secret key of one research project, derived from the server's key."""
    secret = current_app.config["PSEUDONYM_KEY"] or current_app.config["SECRET_KEY"]
    return hmac.digest(secret.encode(), b"export-project:" + project.encode(), "sha256")


def pseudonym(key: bytes, kind: str, value: object) -> str:
    """A keyed BLAKE2 hash of `value`: the same within one key, unlinkable without it."""
    return hashlib.blake2b(f"{kind}:{value}".encode(), key=key, digest_size=8).hexdigest()


def _pseudonymiser(project: str) -> Callable[[Sequence], list]:
    """A function that swaps a row's report and unit ids for their pseudonyms."""
    key = pseudonym_key(project)
    units: dict[int, str] = {}

    def swap(row: Sequence) -> list:
        unit_id = row[1]
        if unit_id not in units:
            units[unit_id] = pseudonym(key, "unit", unit_id)
        return [pseudonym(key, "report", row[0]), units[unit_id], *row[2:]]

    return swap


def _query(options: ExportOptions, *expressions: ColumnElement) -> Select:
    """The export's SELECT of `expressions`, oldest report first, fetched in batches."""
    query = filtered_reports(options.filters, *expressions)
    if options.project is None:
        query = query.join(Unit, Unit.id == Report.unit_id)
    return query.order_by(Report.id)


def _batches(query: Select, batch_size: int) -> Iterator[Sequence[Sequence]]:
    """Rows of `query` a batch at a time, on the session's connection, bypassing the ORM
    (a server-side cursor on PostgreSQL); the cursor stays open meanwhile."""
    with db.session.connection().execute(query.execution_options(yield_per=batch_size)) as result:
        yield from result.partitions()


def row_batches(options: ExportOptions, batch_size: int) -> Iterator[Sequence[Sequence]]:
    """The export's rows as values, a batch at a time (pseudonyms swapped in when asked)."""
    query = _query(options, *_selected(options.project is not None))
    swap = _pseudonymiser(options.project) if options.project is not None else None
    for batch in _batches(query, batch_size):
        yield [swap(row) for row in batch] if swap else batch


# --- the file -------------------------------------------------------------------


def _csv_cell(expression: ColumnElement, column: Column) -> ColumnElement:
    """SQL for one CSV cell's value: free text in double quotes, inner ones doubled."""
    if column.quoted:
        return literal('"') + func.replace(expression, '"', '""') + literal('"')
    return expression


def _csv_line(expressions: list[ColumnElement], described: list[Column]) -> ColumnElement:
    """SQL for the CSV cells of `expressions`, comma-separated, ending in CRLF as csv does.

    One format() call builds the line (SQLite and PostgreSQL both have it, and
    both print NULL as nothing): half again as fast as a chain of concatenations.
    """
    template = ",".join(["%s"] * len(expressions)) + "\r\n"
    cells = (_csv_cell(expression, column)
             for expression, column in zip(expressions, described, strict=True))
    return func.format(template, *cells, type_=String)


def csv_line_batches(options: ExportOptions, batch_size: int) -> Iterator[list[str]]:
    """The export's CSV lines, a batch at a time.

    The database writes each line (quoting, NULLs, numbers as text), which is
    about twice as fast as Python's csv module; only pseudonyms are added here.
    """
    pseudonymous = options.project is not None
    expressions, described = _selected(pseudonymous), columns(pseudonymous)
    if not pseudonymous:
        for batch in _batches(_query(options, _csv_line(expressions, described)), batch_size):
            yield [row[0] for row in batch]
        return
    # Report and unit come first: pseudonyms for them, the rest of the line from SQL.
    query = _query(options, Report.id, Report.unit_id,
                   _csv_line(expressions[2:], described[2:]))
    swap = _pseudonymiser(options.project)
    for batch in _batches(query, batch_size):
        yield ["{},{},{}".format(*swap(row)) for row in batch]


def _header(names: list[str], bom: bool, line_end: str = "\r\n") -> bytes:
    buffer = io.StringIO()
    if bom:
        buffer.write(UTF8_BOM)
    csv.writer(buffer, lineterminator=line_end).writerow(names)
    return buffer.getvalue().encode()


def _csv_chunks(options: ExportOptions, header: list[str],
                batch_size: int) -> Iterator[tuple[bytes, int]]:
    yield _header(header, options.bom), 0
    for lines in csv_line_batches(options, batch_size):
        yield "".join(lines).encode(), len(lines)


def _copy_csv_chunks(options: ExportOptions, header: list[str]) -> Iterator[tuple[bytes, int]]:
    """PostgreSQL's own CSV writer (COPY ... TO STDOUT), streaming while we send.

    Unlike a cursor fetching batch by batch, COPY keeps the server busy while
    this process sends what it has. Rows are counted by line ends on the way
    (text may hold some) and set right from the server's count at the end.
    """
    yield _header(header, options.bom, line_end="\n"), 0
    compiled = _query(options, *_selected(pseudonymous=False)).compile(
        dialect=db.session.get_bind().dialect, compile_kwargs={"render_postcompile": True})
    cursor = db.session.connection().connection.driver_connection.cursor()
    counted, blocks, size = 0, [], 0
    with cursor.copy(f"COPY ({compiled}) TO STDOUT (FORMAT csv)", compiled.params) as copy:
        for block in copy:  # about one row each: gather them into chunks of a useful size
            blocks.append(block)
            size += len(block)
            if size >= COPY_CHUNK_BYTES:
                data = b"".join(blocks)
                lines = data.count(b"\n")
                counted += lines
                yield data, lines
                blocks, size = [], 0
    data = b"".join(blocks)
    yield data, cursor.rowcount - counted


def _jsonl_chunks(header: list[str], batches: Iterator[Sequence[Sequence]]
                  ) -> Iterator[tuple[bytes, int]]:
    encode = json.JSONEncoder(ensure_ascii=False).encode
    for batch in batches:
        lines = [encode(dict(zip(header, row, strict=True))) for row in batch]
        yield ("\n".join(lines) + "\n").encode(), len(batch)


@dataclass
class Manifest:
    """What the audit log keeps of an export."""

    filters: dict
    format: str
    bom: bool
    project: str | None
    model_version: int | None
    rows: int = 0
    sha256: str = ""
    complete: bool = False


def export_file(options: ExportOptions, actor: User | str | None, batch_size: int | None = None,
                progress: Callable[[int], None] | None = None) -> Iterator[bytes]:
    """The export as UTF-8 bytes, in chunks; its manifest is audited when it ends.

    An export broken off (the browser went away) is recorded too, as incomplete,
    with the rows sent so far. `progress` hears how many rows each chunk holds.
    """
    batch_size = batch_size or current_app.config["EXPORT_BATCH_SIZE"]
    version = active_version()
    manifest = Manifest(filters=asdict(options.filters), format=options.format,
                        bom=options.bom, project=options.project,
                        model_version=version.id if version else None)
    header = [column.name for column in columns(options.project is not None)]
    if options.format == Format.JSONL:
        chunks = _jsonl_chunks(header, row_batches(options, batch_size))
    elif options.project is None and db.session.get_bind().dialect.name == "postgresql":
        chunks = _copy_csv_chunks(options, header)
    else:
        chunks = _csv_chunks(options, header, batch_size)
    digest = hashlib.sha256()
    try:
        for data, rows in chunks:
            digest.update(data)
            manifest.rows += rows
            if progress:
                progress(rows)
            yield data
        manifest.complete = True
    finally:
        chunks.close()
        manifest.sha256 = digest.hexdigest()
        record("export.reports", actor, **asdict(manifest))


def export_size(filters: ReportFilters) -> int:
    """How many reports an export with `filters` holds (for a progress bar)."""
    query = filtered_reports(filters, func.count(Report.id))
    return db.session.scalar(query) or 0


def matching_count(filters: ReportFilters) -> Count:
    """How many reports the export page's filters match, shown before the download: counted
    no further than the queue's counts are (COUNT_CAP), so it stays cheap at any size."""
    return capped_count(filters)


def unit_ids(names: Sequence[str]) -> frozenset[int]:
    """The ids of the units called `names`; ServiceError names any that does not exist."""
    found = dict(db.session.execute(select(Unit.name, Unit.id).where(Unit.name.in_(names))).all())
    missing = sorted(set(names) - set(found))
    if missing:
        raise ServiceError(f"no unit called {', '.join(missing)}")
    return frozenset(found.values())


def codebook_csv(pseudonymous: bool, language: str = "en") -> str:
    """The codebook in `language` (one of CODEBOOK_LANGUAGES): every column of the export with
    its type, values, sensitivity and description. Column names and codes stay as in the
    file."""
    if language not in CODEBOOK_LANGUAGES:
        raise ServiceError(f"no codebook in {language!r}")
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    with force_locale(language):
        writer.writerow([str(heading) for heading in CODEBOOK_HEADINGS])
        for column in columns(pseudonymous):
            writer.writerow([column.name, str(TYPE_NAMES[column.type]), str(column.values),
                             str(SENSITIVITY_NAMES[column.sensitivity]),
                             str(column.description)])
    return buffer.getvalue()
