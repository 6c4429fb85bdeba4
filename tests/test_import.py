"""`flask --app app reports import FILE [--create-units]`: historical reports as anonymous
reports at their own time, every line checked before anything is written."""

import json
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.reports.forms import SUGGESTION_MAX, TEXT_MAX
from app.services import importer
from models import Alert, AlertKind, Report, ReportTerm, Unit, db, utcnow
from tests.helpers import all_reports, events

PRINTER = "Skrivaren på avdelningen skriver inte ut etiketter till proverna."
FAULT = "Provsvaret för kalium syns inte i journalen efter uppgraderingen av labbmodulen."
LOGIN = "Inloggningen tar flera minuter varje morgon, vi kommer inte åt journalen."


def line(**fields) -> str:
    values = {"submitted_at": "2026-03-02T10:15:00Z", "kind": "incident", "unit": "Avd 3",
              "area": "printing", "impact": "none", "text": PRINTER}
    values.update(fields)
    return json.dumps({key: value for key, value in values.items() if value is not ...},
                      ensure_ascii=False)


@pytest.fixture
def units(make_unit):
    return {name: make_unit(name).id for name in ("Avd 3", "Avd 4")}


@pytest.fixture
def run(runner, tmp_path):
    """Write the lines (str, or bytes as they are) to a file and import it."""
    def invoke(lines: list[str | bytes], *options: str):
        path = tmp_path / "reports.jsonl"
        path.write_bytes(b"".join(item if isinstance(item, bytes) else item.encode() + b"\n"
                                  for item in lines))
        return runner.invoke(args=["reports", "import", str(path), *options])

    return invoke


def output(result) -> list[dict]:
    return [json.loads(text) for text in result.stdout.splitlines()]


def report_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Report))


# Importing ---------------------------------------------------------------------------------

def test_reports_are_imported_in_time_order_and_printed_in_input_order(app, run, units):
    result = run([line(submitted_at="2026-03-02T10:15:00Z"),
                  line(submitted_at="2026-03-01T08:00:00Z", text=LOGIN, unit="Avd 4",
                       area="login"),
                  line(submitted_at="2026-03-01T09:30:00Z")])
    assert result.exit_code == 0, result.output
    printed = output(result)
    assert [item["line"] for item in printed] == [1, 2, 3]
    # Ids follow the submission times, as if each report had arrived then.
    ids = {item["line"]: item["id"] for item in printed}
    assert ids[2] < ids[3] < ids[1]
    assert all(item["reference"] == f"V-{item['id']:06d}" for item in printed)
    reports = {report.id: report for report in all_reports(app)}
    assert reports[ids[2]].text == LOGIN and reports[ids[2]].unit_id == units["Avd 4"]
    assert reports[ids[2]].area == "login"


def test_an_imported_report_is_anonymous_and_keeps_only_the_hour(app, run, units):
    result = run([line(submitted_at="2026-03-02T10:15:42+01:00",
                       occurred_at="2026-03-02T07:41:00", suggestion="  Byt skrivare.  ")])
    assert result.exit_code == 0, result.output
    [report] = all_reports(app)
    assert report.reporter_id is None and report.submitted_at is None
    assert report.submitted_on.isoformat() == "2026-03-02"
    assert report.submitted_hour == datetime(2026, 3, 2, 9)  # +01:00 is one hour ahead of UTC
    assert report.occurred_at == datetime(2026, 3, 2, 7)  # no offset: UTC, kept to the hour
    assert report.suggestion == "Byt skrivare."  # the form's filters
    assert report.receipt_hash and len(report.submission_token) == 64
    assert report.risk_score is not None  # suggested from the impact, as on the form


def test_without_a_time_of_occurrence_it_happened_when_it_was_submitted(app, run, units):
    assert run([line(submitted_at="2026-03-02T10:15:00")]).exit_code == 0
    [report] = all_reports(app)
    assert report.occurred_at == report.submitted_hour == datetime(2026, 3, 2, 10)


def test_every_imported_report_gets_its_own_receipt_token(app, run, units):
    assert run([line(), line()]).exit_code == 0
    first, second = all_reports(app)
    assert first.submission_token != second.submission_token
    assert first.receipt_hash != second.receipt_hash


def test_imported_reports_are_classified_and_indexed(app, run, units, active_model):
    result = run([line(), line(text=LOGIN, area="login")])
    assert result.exit_code == 0, result.output
    reports = all_reports(app)
    assert all(report.is_classified and report.model_version_id == active_model
               for report in reports)
    with app.app_context():
        indexed = set(db.session.scalars(select(ReportTerm.report_id).distinct()))
    assert indexed == {report.id for report in reports}


def test_a_long_file_is_written_in_batches_in_time_order(app, run, units, monkeypatch):
    monkeypatch.setattr(importer, "BATCH", 2)
    start = datetime(2026, 3, 1, 8)
    times = [start + timedelta(hours=hours) for hours in (4, 0, 3, 1, 2)]
    result = run([line(submitted_at=moment.isoformat()) for moment in times])
    assert result.exit_code == 0, result.output
    by_id = sorted(all_reports(app), key=lambda report: report.id)
    assert [report.submitted_hour for report in by_id] == sorted(times)
    assert [item["line"] for item in output(result)] == [1, 2, 3, 4, 5]


def test_an_import_raises_an_alert_at_the_time_a_submission_would_have(app, run, units,
                                                                      active_model):
    """Each imported report gets the alert test its submission's job runs, at its own
    time: the group of a fault alerts at the report that makes it burst, with no check."""
    start = datetime(2026, 3, 2, 7, 20)
    arrivals = [(start + timedelta(hours=hours), unit)
                for hours, unit in ((0, "Avd 3"), (2, "Avd 4"), (4, "Avd 3"), (5, "Avd 4"))]
    result = run([line(submitted_at=moment.isoformat(), unit=unit, area="test_results",
                       text=f"{FAULT} ({number})")
                  for number, (moment, unit) in enumerate(arrivals, start=1)])
    assert result.exit_code == 0, result.output
    with app.app_context():
        [alert] = db.session.scalars(select(Alert)).all()
        assert alert.kind == AlertKind.EMERGING
        assert alert.raised_at in [moment for moment, _unit in arrivals[1:]]
        assert alert.notified_at is None  # the e-mail is the next check's to send
    # Its evidence holds the reports that had arrived when it was raised.
    assert alert.evidence["report_ids"] == sorted(item["id"] for item in output(result)
                             if arrivals[item["line"] - 1][0] <= alert.raised_at)


def test_unit_names_match_whatever_their_case(app, run, units):
    assert run([line(unit="avd 3")]).exit_code == 0
    [report] = all_reports(app)
    assert report.unit_id == units["Avd 3"]


def test_create_units_creates_the_unknown_ones_once(app, run, units):
    result = run([line(unit="Akuten"), line(unit="Akuten"), line(unit="Avd 3")],
                 "--create-units")
    assert result.exit_code == 0, result.output
    with app.app_context():
        names = db.session.scalars(select(Unit.name).order_by(Unit.name)).all()
    assert names == ["Akuten", "Avd 3", "Avd 4"]
    assert [event.details["name"] for event in events(app, "unit.create")] == ["Akuten"]
    assert report_count(app) == 3


def test_blank_lines_are_skipped_and_counted(app, run, units):
    result = run([line(), "", "   ", line(text=LOGIN)])
    assert result.exit_code == 0, result.output
    assert [item["line"] for item in output(result)] == [1, 4]


def test_a_byte_order_mark_at_the_start_is_read_as_nothing(app, run, units):
    assert run([b"\xef\xbb\xbf" + line().encode() + b"\n"]).exit_code == 0
    assert report_count(app) == 1


def test_an_empty_file_imports_nothing_and_says_so(app, run, units):
    result = run([])
    assert result.exit_code == 0
    assert result.stdout == "" and "nothing was imported" in result.stderr
    assert report_count(app) == 0


# Bad lines ---------------------------------------------------------------------------------

TOO_NEW = (utcnow() + timedelta(days=1)).isoformat()
BAD_LINES = [
    ("{not json", "not valid JSON"),
    (b"\xff\xfe broken\n", "not valid UTF-8"),
    ('["a", "list"]', "not a JSON object"),
    (line(colour="blue"), "unknown key: colour"),
    (line(text=...), "missing key: text"),
    ('{"submitted_at": "2026-03-02T10:15:00Z", "submitted_at": "2026-03-03T10:15:00Z"}',
     "repeated key: submitted_at"),
    (line(kind="complaint"), "kind: Not a valid choice"),
    (line(area="kitchen"), "area: Not a valid choice"),
    (line(impact=3), "impact: not a string"),
    (line(impact="fatal"), "impact: Not a valid choice"),
    (line(text="too short"), "text: Write at least 10 characters."),
    (line(text="x" * (TEXT_MAX + 1)), "text: The text is 10,001 characters long, 1 more"),
    (line(text="   "), "text: Write what happened."),
    (line(text="A text with a NUL\u0000 in it."), "text: holds a control character"),
    (line(suggestion="x" * (SUGGESTION_MAX + 1)), "suggestion: The text is 5,001 characters"),
    (line(submitted_at="yesterday"), "submitted_at: not an ISO 8601 time"),
    (line(submitted_at=TOO_NEW), "submitted_at: the time is in the future"),
    (line(submitted_at="1999-12-31T23:00:00Z"), "submitted_at: before 2000"),
    (line(occurred_at="2026-03-03T10:15:00Z"), "occurred_at: after submitted_at"),
    (line(unit="Röntgen"), "unknown unit 'Röntgen' (--create-units creates it)"),
    (line(unit=" "), "unit: This field is required."),
]


@pytest.mark.parametrize(("bad", "reason"), BAD_LINES, ids=[r for _, r in BAD_LINES])
def test_a_bad_line_is_reported_with_its_number_and_nothing_is_imported(app, run, units, bad,
                                                                       reason):
    result = run([line(), bad, line(text=LOGIN)])
    assert result.exit_code == 1
    assert result.stdout == ""
    first, summary = result.stderr.splitlines()
    assert first.startswith("line 2: ") and reason in first, first
    assert summary == "Nothing was imported: 1 bad line(s)."
    assert report_count(app) == 0


def test_every_bad_line_is_reported_and_no_unit_is_created(app, run, units):
    result = run([line(kind="complaint", colour="blue"), line(), "{", line(unit="Ny"),
                  line(unit="Gammal", text="short")], "--create-units")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "line 1: unknown key: colour",
        "line 3: not valid JSON (Expecting property name enclosed in double quotes at "
        "column 2)",
        "line 5: text: Write at least 10 characters.",
        "Nothing was imported: 3 bad line(s).",
    ]
    assert report_count(app) == 0
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Unit)) == 2


def test_every_reason_of_a_line_is_given(app, run, units):
    result = run([line(kind="complaint", area="kitchen", submitted_at="soon")])
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == (
        "line 1: kind: Not a valid choice.; area: Not a valid choice.; "
        "submitted_at: not an ISO 8601 time")


def test_an_inactive_unit_takes_no_imported_reports(app, run, units):
    with app.app_context():
        db.session.get(Unit, units["Avd 4"]).active = False
        db.session.commit()
    result = run([line(unit="Avd 4")], "--create-units")
    assert result.exit_code == 1
    assert "unit 'Avd 4' is inactive" in result.stderr
    assert report_count(app) == 0


def test_a_new_unit_name_must_fit(app, run, units):
    result = run([line(unit="U" * 121)], "--create-units")
    assert result.exit_code == 1
    assert "unit: a unit name has at most 120 characters" in result.stderr


def test_a_missing_file_is_refused(runner, tmp_path):
    result = runner.invoke(args=["reports", "import", str(tmp_path / "none.jsonl")])
    assert result.exit_code == 2 and "does not exist" in result.stderr
