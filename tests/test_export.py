"""The researchers' export: de-identified rows, filters, formats, pseudonyms, codebook, manifest."""

import csv
import hashlib
import io
import json
from datetime import date, datetime

import pandas as pd
import pytest

from app.services.export import ExportOptions, columns, export_file, pseudonym
from app.services.spreadsheet import neutralise
from models import AuditEvent, KnownIssue, Status, Unit, db
from tests.helpers import days_ago, page_text, persist

HEADER = [column.name for column in columns(pseudonymous=False)]
NEW_COLUMNS = ("consequence", "likelihood", "risk_score", "risk_assessed", "first_triaged_on",
               "finished_on", "known_issue_id")
PSEUDONYMOUS_HEADER = [column.name for column in columns(pseudonymous=True)]


@pytest.fixture
def coordinator_user(make_user):
    return make_user("coordinator")


@pytest.fixture
def researcher(make_user, login):
    user = make_user("researcher", email="researcher@example.org")
    login(user)
    return user


def fetch(client, query: str = "") -> bytes:
    response = client.get(f"/export/reports?{query}")
    assert response.status_code == 200, response.data
    assert response.is_streamed
    assert "attachment" in response.headers["Content-Disposition"]
    return response.get_data()


def download(client, query: str = "") -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(fetch(client, query).decode())))


def ids(rows: list[dict[str, str]]) -> list[int]:
    return [int(row["report_id"]) for row in rows]


def manifests(app) -> list[dict]:
    with app.app_context():
        return [event.details for event in
                db.session.scalars(db.select(AuditEvent).where(
                    AuditEvent.action == "export.reports").order_by(AuditEvent.id))]


def test_export_has_every_column_and_no_reporter_identity(client, make_report, make_user,
                                                          researcher):
    reporter = make_user(email="named.reporter@example.org")
    report_id = make_report("Systemet kraschade vid signering.", reporter=reporter,
                            suggestion="Fixa det", score_safety=0.12, is_safety=False,
                            score_training=0.3, is_training=False, score_functionality=0.91,
                            is_functionality=True)
    response = client.get("/export/reports")
    assert response.mimetype == "text/csv"
    text = response.get_data(as_text=True)
    [row] = list(csv.DictReader(io.StringIO(text)))
    assert list(row) == HEADER
    assert row["report_id"] == str(report_id) and row["kind"] == "incident"
    assert row["text"] == "Systemet kraschade vid signering."
    assert row["unit"] == "Avdelning 12" and row["suggestion"] == "Fixa det"
    assert row["occurred_at"] == "2026-03-01 08:30"
    assert row["functionality_score"] == "0.91" and row["functionality_label"] == "1"
    assert row["safety_label"] == "0" and row["labels_reviewed"] == "0"
    assert "named.reporter" not in text and str(reporter.id) not in row.values()


def test_an_anonymous_reports_occurrence_is_exported_to_the_hour(client, make_report,
                                                                 make_user, researcher):
    moment = datetime(2026, 3, 1, 8, 37)
    anonymous = make_report(occurred_at=moment)
    named = make_report(occurred_at=moment, reporter=make_user())
    occurred = {int(row["report_id"]): row["occurred_at"] for row in download(client)}
    assert occurred == {anonymous: "2026-03-01 08:00", named: "2026-03-01 08:37"}


def test_export_has_risk_triage_finish_and_known_issue_and_only_their_days(
        app, client, make_report, make_user, coordinator_user, researcher):
    """The worked-through facts of a report: its risk, the days it was first triaged and
    finished, its known issue. Times are cut to the day: triaged four minutes after an
    anonymous report's arrival, an exact time would tell when it was sent."""
    issue = persist(app, KnownIssue(title="Labbsvar saknas", created_by_id=coordinator_user.id))
    worked = make_report(submitted=datetime(2026, 3, 2, 9, 0), known_issue_id=issue.id,
                         consequence=3, likelihood=2, risk_score=6, risk_confirmed=True,
                         triaged_at=datetime(2026, 3, 2, 9, 4),
                         finished_at=datetime(2026, 3, 5, 16, 20), status=Status.RESOLVED)
    suggested = make_report(consequence=2, likelihood=1, risk_score=2, risk_confirmed=False,
                            reporter=make_user())
    untouched = make_report()
    for query in ("", "format=jsonl"):
        body = fetch(client, query).decode()
        rows = ([json.loads(line) for line in body.splitlines()] if query
                else list(csv.DictReader(io.StringIO(body))))
        by_id = {int(row["report_id"]): {name: "" if row[name] is None else str(row[name])
                                         for name in NEW_COLUMNS} for row in rows}
        assert by_id[worked] == {"consequence": "3", "likelihood": "2", "risk_score": "6",
                                 "risk_assessed": "1", "first_triaged_on": "2026-03-02",
                                 "finished_on": "2026-03-05", "known_issue_id": str(issue.id)}
        assert by_id[suggested] == {"consequence": "2", "likelihood": "1", "risk_score": "2",
                                    "risk_assessed": "0", "first_triaged_on": "",
                                    "finished_on": "", "known_issue_id": ""}
        assert set(by_id[untouched].values()) == {""}
        assert "09:04" not in body and "16:20" not in body


@pytest.mark.parametrize(("path", "name"), [
    ("/export/reports", "vaka-reports-{day}.csv"),
    ("/export/reports?format=csv&bom=y", "vaka-reports-{day}.csv"),
    ("/export/reports?format=jsonl", "vaka-reports-{day}.jsonl"),
    ("/export/codebook.csv", "vaka-codebook-en-{day}.csv"),
    ("/export/codebook.csv?project=study-1&codebook_language=sv", "vaka-codebook-sv-{day}.csv"),
    ("/export/aggregates.csv", "vaka-aggregates-{day}.csv"),
])
def test_downloads_are_named_with_the_date_before_the_extension(client, make_report, researcher,
                                                               path, name):
    """Spreadsheets and Windows know a file by its extension: it must come last."""
    make_report()
    response = client.get(path)
    assert response.status_code == 200, response.data
    expected = name.format(day=date.today().isoformat())
    assert response.headers["Content-Disposition"] == f'attachment; filename="{expected}"'


def test_text_and_suggestion_are_exported_without_identifiers(client, make_report, researcher):
    make_report("Pat 19121212-1212 fick fel dos, ring 070-123 45 67.",
                suggestion="Mejla anna.svensson@region.se")
    [row] = download(client)
    assert row["text"] == "Pat [PERSONNUMMER] fick fel dos, ring [TELEFON]."
    assert row["suggestion"] == "Mejla [E-POST]"


def test_export_filters(client, make_report, researcher):
    old = make_report("Gammal rapport om utbildning", submitted=days_ago(40), is_training=True,
                      is_safety=False, is_functionality=False, kind="feedback",
                      status="closed", language="sv")
    new = make_report("New report about crashes", submitted=days_ago(1), is_training=False,
                      is_safety=False, is_functionality=True, unit="Röntgen", language="en")
    other = make_report("Parkeringen är full", submitted=days_ago(2), is_training=False,
                        is_safety=False, is_functionality=False, language="sv")
    since = days_ago(5).date().isoformat()
    assert ids(download(client, f"date_from={since}")) == [new, other]
    until = days_ago(30).date().isoformat()
    assert ids(download(client, f"date_to={until}")) == [old]
    assert ids(download(client, "category=training")) == [old]
    assert ids(download(client, "category=training&category=other")) == [old, other]
    assert download(client, "category=safety") == []
    assert ids(download(client, "kind=feedback")) == [old]
    assert ids(download(client, "status=new")) == [new, other]
    assert ids(download(client, "language=en")) == [new]
    with client.application.app_context():
        radiology = db.session.scalar(db.select(Unit.id).where(Unit.name == "Röntgen"))
    assert ids(download(client, f"unit={radiology}")) == [new]


@pytest.mark.parametrize("payload", ["=HYPERLINK(\"http://evil\")", "+1+1", "-2+3", "@SUM(A1)",
                                     "\tcmd", "\r=1"])
def test_formulas_are_neutralised(client, make_report, researcher, payload):
    make_report(f"{payload} och mer text", suggestion=payload, unit=f"{payload} enhet")
    [row] = download(client)
    assert row["text"].startswith("'" + payload[0])
    assert row["suggestion"] == "'" + payload
    assert row["unit"].startswith("'" + payload[0])


def test_neutralise_leaves_plain_text_alone():
    assert neutralise("Systemet = långsamt") == "Systemet = långsamt"
    assert neutralise(None) == ""
    assert neutralise("-5") == "'-5"


def test_export_reads_back_in_pandas_with_and_without_bom(client, make_report, researcher):
    make_report("Läkemedelslistan, \"visade\" fel;\nny rad", suggestion="=1+1")
    plain = fetch(client)
    with_bom = fetch(client, "bom=y")
    assert not plain.startswith(b"\xef\xbb\xbf")
    assert with_bom == b"\xef\xbb\xbf" + plain
    for data in (plain, with_bom):
        frame = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", keep_default_na=False)
        assert list(frame.columns) == HEADER
        assert frame.loc[0, "text"] == "Läkemedelslistan, \"visade\" fel;\nny rad"
        assert frame.loc[0, "suggestion"] == "'=1+1"


def test_json_lines_export(client, make_report, researcher):
    first = make_report("Första", score_safety=0.5, is_safety=True)
    second = make_report("Andra =1", suggestion="+46")
    response = client.get("/export/reports?format=jsonl")
    assert response.mimetype == "application/jsonl"
    lines = response.get_data(as_text=True).splitlines()
    records = [json.loads(line) for line in lines]
    assert [list(record) for record in records] == [HEADER, HEADER]
    assert [record["report_id"] for record in records] == [first, second]
    assert records[0]["safety_label"] == 1 and records[0]["safety_score"] == 0.5
    assert records[1]["text"] == "Andra =1" and records[1]["suggestion"] == "'+46"
    assert pd.read_json(io.StringIO("\n".join(lines)), lines=True).shape == (2, len(HEADER))


def test_pseudonyms_are_stable_per_project_and_keyed(app, client, make_report, researcher):
    first = make_report("Ett", unit="Avdelning 12")
    make_report("Två", unit="Avdelning 12")
    make_report("Tre", unit="Röntgen")
    rows = download(client, "project=studie-1")
    assert list(rows[0]) == PSEUDONYMOUS_HEADER
    assert rows == download(client, "project=studie-1"), "stable within a project"
    again = download(client, "project=studie-2")
    assert {r["report_pseudonym"] for r in rows}.isdisjoint(r["report_pseudonym"] for r in again)
    units = [row["unit_pseudonym"] for row in rows]
    assert units[0] == units[1] != units[2]
    text = fetch(client, "project=studie-1").decode()
    assert "Avdelning 12" not in text and "Röntgen" not in text
    # Without the key, hashing the report number does not give the pseudonym.
    unkeyed = {hashlib.blake2b(f"report:{first}".encode(), digest_size=8).hexdigest(),
               hashlib.sha256(f"report:{first}".encode()).hexdigest()[:16]}
    assert rows[0]["report_pseudonym"] not in unkeyed
    assert pseudonym(b"another key", "report", first) != rows[0]["report_pseudonym"]
    app.config["PSEUDONYM_KEY"] = "a new server key"
    assert download(client, "project=studie-1")[0]["report_pseudonym"] != \
        rows[0]["report_pseudonym"]


def test_every_export_records_a_manifest(app, client, make_report, researcher, active_model):
    other = {"is_safety": False, "is_training": False, "is_functionality": False}
    make_report("Ett", **other)
    make_report("Två", submitted=days_ago(3), **other)
    make_report("Säkerhet", is_safety=True)
    data = fetch(client, "format=csv&bom=y&category=other&project=p1")
    [manifest] = manifests(app)
    assert manifest["rows"] == 2 and manifest["complete"] is True
    assert manifest["sha256"] == hashlib.sha256(data).hexdigest()
    assert manifest["model_version"] == active_model
    assert manifest["format"] == "csv" and manifest["bom"] is True
    assert manifest["project"] == "p1" and manifest["filters"]["categories"] == ["other"]
    with app.app_context():
        event = db.session.scalar(
            db.select(AuditEvent).where(AuditEvent.action == "export.reports"))
        assert event.actor_label == "researcher@example.org" and event.at is not None


def test_an_export_broken_off_is_recorded_as_incomplete(app, make_report):
    for number in range(5):
        make_report(f"Rapport {number}")
    with app.test_request_context():
        chunks = export_file(options=ExportOptions(), actor=None, batch_size=2)
        assert next(chunks).startswith(b"report_id,unit,")  # the header
        received = next(chunks)  # the first reports (two on SQLite; PostgreSQL gathers more)
        chunks.close()
    [manifest] = manifests(app)
    assert manifest["complete"] is False
    assert 0 < manifest["rows"] == received.count(b"\n")


@pytest.mark.parametrize("query", [
    "category=nope", "date_from=2026-02-31", "format=xml", "project=../etc",
    "project=" + "x" * 65, "unit=999999", "status=lost", "language=fi", "kind=x",
    "date_from=2026-03-02&date_to=2026-03-01", "surprise=1",
])
def test_bad_export_requests_are_refused_and_record_nothing(app, client, researcher, query):
    assert client.get(f"/export/reports?{query}").status_code == 400
    assert manifests(app) == []


def test_export_page_offers_filters_formats_and_downloads(client, researcher, make_unit):
    make_unit("Röntgen")
    page = client.get("/export/").get_data(as_text=True)
    for name in ("date_from", "date_to", "unit", "category", "status", "kind", "language",
                 "format", "bom", "project"):
        assert f'name="{name}"' in page
    assert "/export/codebook.csv" in page and "/export/aggregates.csv" in page
    assert "Röntgen" in page


def test_staff_cannot_export(client, make_user, login):
    login(make_user("staff"))
    for path in ("/export/", "/export/reports", "/export/codebook.csv", "/export/aggregates.csv"):
        assert client.get(path).status_code == 403


# --- codebook ---------------------------------------------------------------------


@pytest.mark.parametrize(("query", "header"), [("", HEADER), ("project=p1", PSEUDONYMOUS_HEADER)])
def test_codebook_describes_every_column_of_the_export(client, researcher, query, header):
    response = client.get(f"/export/codebook.csv?{query}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [row["column"] for row in rows] == header
    assert all(row["type"] and row["allowed_values"] and row["sensitivity"] and
               row["description"] for row in rows)
    by_name = {row["column"]: row for row in rows}
    assert by_name["text"]["sensitivity"] == "de-identified free text"
    assert "incident" in by_name["kind"]["allowed_values"]
    assert by_name["status"]["allowed_values"] == "; ".join(Status)


def codebook_rows(client, query: str) -> list[list[str]]:
    response = client.get(f"/export/codebook.csv?{query}")
    assert response.status_code == 200, response.data
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def test_the_codebook_is_in_swedish_or_english_with_the_same_columns(client, researcher):
    english, swedish = codebook_rows(client, "codebook_language=en"), codebook_rows(
        client, "codebook_language=sv")
    assert english[0] == ["column", "type", "allowed_values", "sensitivity", "description"]
    assert swedish[0] == ["kolumn", "typ", "tillåtna_värden", "känslighet", "beskrivning"]
    assert [row[0] for row in swedish[1:]] == [row[0] for row in english[1:]] == HEADER
    sv = {row[0]: row for row in swedish[1:]}
    assert sv["first_triaged_on"][1:4] == ["datum", "ÅÅÅÅ-MM-DD; tom", "kvasi-identifierare"]
    assert sv["first_triaged_on"][4].startswith("Dagen då samordningsgruppen först tog upp")
    assert sv["status"][2] == "; ".join(Status)  # codes stay as they are in the file
    untranslated = [row[0] for row in swedish[1:]
                    if row[4] == dict((r[0], r[4]) for r in english[1:])[row[0]]]
    assert untranslated == []


def test_the_codebook_defaults_to_the_page_s_language_and_refuses_another(client, researcher):
    default = client.get("/export/codebook.csv", headers={"Accept-Language": "sv"})
    assert default.get_data(as_text=True).startswith("kolumn,typ,")
    refused = client.get("/export/codebook.csv?codebook_language=de")
    assert refused.status_code == 400
    assert "Not a valid choice" in page_text(refused)


# --- the count before the download ----------------------------------------------------


def test_the_export_page_counts_the_reports_its_filters_match(client, make_report, researcher):
    make_report(is_safety=True)
    make_report(is_safety=True, kind="feedback")
    make_report(is_safety=False)
    assert "3 reports match these filters." in page_text(client.get("/export/"))
    page = client.get("/export/?category=safety&kind=incident&codebook_language=en")
    assert page.status_code == 200
    assert "1 report matches these filters." in page_text(page)
    assert '<input checked id="category-0" name="category" type="checkbox" value="safety">' \
        in page.get_data(as_text=True)  # the choices are kept


def test_a_count_over_the_cap_says_more_than(client, make_report, researcher, monkeypatch):
    monkeypatch.setattr("app.services.triage.COUNT_CAP", 2)
    for _ in range(3):
        make_report()
    assert "More than 2 reports match these filters." in page_text(client.get("/export/"))


def test_bad_filters_on_the_export_page_say_what_is_wrong_and_keep_the_rest(client,
                                                                            researcher):
    page = client.get("/export/?date_from=2026-03-02&date_to=2026-03-01&project=study-1")
    assert page.status_code == 400
    text = page_text(page)
    assert "The end date is before the start date." in text
    assert "match these filters" not in text
    assert 'value="study-1"' in page.get_data(as_text=True)


# --- aggregates -------------------------------------------------------------------


def aggregate_rows(client, query: str = "") -> dict[tuple[str, str, str], dict[str, str]]:
    response = client.get(f"/export/aggregates.csv?{query}")
    assert response.status_code == 200, response.data
    rows = csv.DictReader(io.StringIO(response.get_data(as_text=True)))
    return {(row["week"], row["unit"], row["category"]): row for row in rows}


def test_aggregates_suppress_small_cells(app, client, make_report, researcher):
    when = days_ago(1)
    for _ in range(6):
        make_report("Fel dos", unit="Akuten", submitted=when, is_safety=True,
                    is_training=False, is_functionality=False)
    for _ in range(2):
        make_report("Fel dos", unit="IVA", submitted=when, is_safety=True,
                    is_training=False, is_functionality=False)
    make_report("Parkering", unit="IVA", submitted=when, is_safety=False,
                is_training=False, is_functionality=False)
    week = "{}-W{:02d}".format(*when.date().isocalendar()[:2])
    rows = aggregate_rows(client)
    assert rows[week, "Akuten", "safety"]["reports"] == "6"
    assert rows[week, "Akuten", "safety"]["suppressed"] == "0"
    assert rows[week, "IVA", "safety"] == {"week": week, "unit": "IVA", "category": "safety",
                                          "reports": "", "suppressed": "1"}
    assert rows[week, "IVA", "other"]["reports"] == ""
    assert (week, "Akuten", "training") not in rows
    app.config["AGGREGATE_MIN_CELL"] = 2
    assert aggregate_rows(client)[week, "IVA", "safety"]["reports"] == "2"
    with app.app_context():
        [event] = db.session.scalars(db.select(AuditEvent).where(
            AuditEvent.action == "export.aggregates")).all()[:1]
        assert event.details["suppressed"] == 2 and event.details["min_cell"] == 5


def test_aggregates_follow_the_filters(client, make_report, researcher):
    make_report("Gammal", submitted=days_ago(40), is_safety=True, is_training=False,
                is_functionality=False)
    make_report("Ny", submitted=days_ago(1), is_safety=True, is_training=False,
                is_functionality=False)
    since = days_ago(5).date().isoformat()
    assert len(aggregate_rows(client, f"date_from={since}")) == 1
    assert len(aggregate_rows(client)) == 2


# --- command line -------------------------------------------------------------------


def test_cli_writes_the_same_rows_as_the_web_export(app, client, runner, make_report,
                                                    researcher, tmp_path):
    make_report("Ett 19121212-1212", submitted=days_ago(3))
    make_report("Två", submitted=days_ago(1), unit="Röntgen")
    since = days_ago(2).date().isoformat()
    target = tmp_path / "out.csv"
    result = runner.invoke(args=["export", "reports", "--from", since, "--unit", "Röntgen",
                                 "--output", str(target)])
    assert result.exit_code == 0, result.output
    assert target.read_bytes() == fetch(client, f"date_from={since}")
    assert manifests(app)[0]["rows"] == 1
    everything = runner.invoke(args=["export", "reports", "--format", "jsonl"])
    records = [json.loads(line) for line in everything.output.splitlines()]
    assert [r["text"] for r in records] == ["Ett [PERSONNUMMER]", "Två"]


@pytest.mark.parametrize(("args", "message"), [
    (["--unit", "Nowhere"], "no unit called Nowhere"),
    (["--project", "../x"], "project name"),
    (["--from", "2026-02-31"], "--from"),
    (["--from", "2026-03-02", "--to", "2026-03-01"], "before the start"),
    (["--category", "nope"], "--category"),
])
def test_cli_refuses_bad_options(app, runner, args, message):
    result = runner.invoke(args=["export", "reports", *args])
    assert result.exit_code == 2 and message in result.output
    assert manifests(app) == []


def test_cli_codebook_and_aggregates(runner, make_report):
    codebook = runner.invoke(args=["export", "codebook", "--pseudonymous"])
    assert [row["column"] for row in csv.DictReader(io.StringIO(codebook.output))] == \
        PSEUDONYMOUS_HEADER
    swedish = runner.invoke(args=["export", "codebook", "--language", "sv"])
    assert [row["kolumn"] for row in csv.DictReader(io.StringIO(swedish.output))] == HEADER
    refused = runner.invoke(args=["export", "codebook", "--language", "de"])
    assert refused.exit_code == 2 and "'de' is not one of 'en', 'sv'" in refused.output
    for _ in range(3):
        make_report("Fel", is_safety=True, is_training=False, is_functionality=False)
    counts = runner.invoke(args=["export", "aggregates", "--min-cell", "3"])
    [row] = list(csv.DictReader(io.StringIO(counts.output)))
    assert row["reports"] == "3" and row["category"] == "safety"
    hidden = runner.invoke(args=["export", "aggregates", "--min-cell", "4"])
    [row] = list(csv.DictReader(io.StringIO(hidden.output)))
    assert row["reports"] == ""


def test_progress_hears_every_row(app, make_report):
    for number in range(5):
        make_report(f"Rapport {number}")
    heard = []
    with app.test_request_context():
        list(export_file(ExportOptions(), None, batch_size=2, progress=heard.append))
    assert sum(heard) == 5


def test_reports_of_an_inactive_unit_can_still_be_exported(app, client, make_report, researcher):
    report_id = make_report("Gammal enhet", unit="Avdelning 9")
    with app.app_context():
        unit = db.session.scalar(db.select(Unit).where(Unit.name == "Avdelning 9"))
        unit.active = False
        db.session.commit()
        unit_id = unit.id
    assert f'value="{unit_id}"' in client.get("/export/").get_data(as_text=True)
    assert ids(download(client, f"unit={unit_id}")) == [report_id]
