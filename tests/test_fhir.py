"""FHIR R4 AdverseEvents: every resource valid against the R4 models, de-identified as
the research export is, its mapping, the Bundle (whole and streamed) and the command.

Validation: fhirclient's models are generated from FHIR 4.0.1 (R4) and, strict, refuse
a wrong type, a missing required element, an unknown element or a malformed date. What
they do not check (the JSON rules on empty values, ids, codes, the narrative's XHTML,
the required value sets) `assert_valid` checks beside them.
"""

import json
import re
import xml.etree.ElementTree as ElementTree
from datetime import datetime

import pytest
from fhirclient.models.adverseevent import AdverseEvent
from fhirclient.models.bundle import Bundle
from fhirclient.models.fhirabstractbase import FHIRValidationError
from sqlalchemy import select

from app.services.demo import load_demo_data
from app.services.export import pseudonym, pseudonym_key
from app.services.fhir import (
    HL7_TERMINOLOGY,
    adverse_event,
    adverse_events,
    bundle,
    bundle_chunks,
    code_system,
    extension_url,
    naming,
)
from app.services.report_queries import ReportFilters
from app.services.retention import apply_retention
from models import AuditEvent, Impact, KnownIssue, Report, Status, db, utcnow
from tests.helpers import days_ago, persist

#: FHIR R4's patterns for an id and a code, and the required value sets used here.
FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
FHIR_CODE = re.compile(r"[^\s]+( [^\s]+)*")
ACTUALITY = {"actual", "potential"}
XHTML_DIV = "{http://www.w3.org/1999/xhtml}div"


def assert_json_rules(value, path: str = "") -> None:
    """FHIR JSON has no nulls, empty strings, empty lists or empty objects (ele-1)."""
    assert value not in (None, "", [], {}), f"empty value at {path}"
    if isinstance(value, dict):
        for key, item in value.items():
            assert_json_rules(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            assert_json_rules(item, f"{path}[{index}]")


def assert_codes(value) -> None:
    if isinstance(value, dict):
        if "system" in value and "code" in value:
            assert FHIR_CODE.fullmatch(value["code"]), value
            assert value["system"].startswith(("http://", "https://")), value
        for item in value.values():
            assert_codes(item)
    elif isinstance(value, list):
        for item in value:
            assert_codes(item)


def assert_valid(resource: dict) -> AdverseEvent:
    """`resource` is a valid R4 AdverseEvent: the models take it whole and give it back."""
    model = AdverseEvent(resource)  # strict: raises FHIRValidationError
    assert model.as_json() == resource
    assert_json_rules(resource)
    assert_codes(resource)
    assert FHIR_ID.fullmatch(resource["id"])
    assert resource["actuality"] in ACTUALITY
    div = ElementTree.fromstring(resource["text"]["div"])
    assert div.tag == XHTML_DIV and "".join(div.itertext()).strip()
    contained = {item["id"] for item in resource["contained"]}
    assert resource["location"]["reference"] == "#unit" and contained == {"unit"}
    return model


def assert_valid_bundle(document: dict) -> None:
    model = Bundle(document)
    assert model.as_json() == document
    assert document["type"] == "collection"
    assert_json_rules(document)
    urls = [entry["fullUrl"] for entry in document.get("entry", [])]
    assert len(set(urls)) == len(urls)
    for entry in document.get("entry", []):
        assert_valid(entry["resource"])


def resource_of(app, report_id: int, project: str | None = None) -> dict:
    with app.test_request_context():
        return adverse_event(db.session.get(Report, report_id), naming(project))


def extension(resource: dict, name: str) -> dict | None:
    found = [item for item in resource["extension"] if item["url"] == extension_url(name)]
    return found[0] if found else None


def fhir_events(app) -> list[dict]:
    with app.app_context():
        return [event.details for event in db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "export.fhir").order_by(AuditEvent.id))]


# --- validity -------------------------------------------------------------------------


def test_every_resource_of_the_demo_data_is_valid_r4(app, active_model):
    with app.test_request_context():
        load_demo_data(150)
        reports = db.session.scalars(select(Report).order_by(Report.id)).all()
        resources = [adverse_event(report) for report in reports]
        document = bundle(ReportFilters(), None)
    assert len(resources) == 150
    for resource in resources:
        assert_valid(resource)
    # The demo has them all: both actualities, classified categories, known issues.
    assert {r["actuality"] for r in resources} == ACTUALITY
    assert any("category" in r for r in resources)
    assert any(extension(r, "known-issue") for r in resources)
    assert_valid_bundle(document)
    assert [entry["resource"] for entry in document["entry"]] == resources


def test_the_streamed_bundle_is_the_same_bundle_in_batches(app, make_report):
    ids = [make_report(f"Rapport {number}") for number in range(5)]
    with app.test_request_context():
        chunks = list(bundle_chunks(ReportFilters(), None, batch_size=2))
        whole = bundle(ReportFilters(), None)
    assert len(chunks) == 5  # head, three batches of at most two, the end
    streamed = json.loads(b"".join(chunks))
    assert_valid_bundle(streamed)
    assert streamed["entry"] == whole["entry"]
    assert [entry["resource"]["id"] for entry in streamed["entry"]] == [str(i) for i in ids]
    complete = fhir_events(app)[0]
    assert complete["rows"] == 5 and complete["complete"] is True
    assert len(complete["sha256"]) == 64


def test_a_bundle_of_no_reports_is_valid_and_has_no_entry_list(app):
    with app.test_request_context():
        streamed = json.loads(b"".join(bundle_chunks(ReportFilters(), None)))
        whole = bundle(ReportFilters(), None)
    for document in (streamed, whole):
        assert_valid_bundle(document)
        assert "entry" not in document


def test_the_bundle_follows_the_filters(app, make_report):
    make_report("Röntgen", unit="Röntgen", impact="harm")
    wanted = make_report("Akuten", unit="Akuten", impact="harm")
    make_report("Akuten igen", unit="Akuten", impact="none")
    with app.test_request_context():
        akuten = db.session.scalar(select(Report.unit_id).where(Report.id == wanted))
        found = [r["id"] for r in adverse_events(
            ReportFilters(unit_ids=frozenset({akuten}), impacts=frozenset({"harm"})))]
    assert found == [str(wanted)]


def test_a_bundle_broken_off_is_recorded_as_incomplete(app, make_report):
    for number in range(5):
        make_report(f"Rapport {number}")
    with app.test_request_context():
        chunks = bundle_chunks(ReportFilters(), None, batch_size=2)
        next(chunks)  # the head
        next(chunks)  # two entries
        chunks.close()
    [manifest] = fhir_events(app)
    assert manifest["complete"] is False and manifest["rows"] == 2


# --- de-identified --------------------------------------------------------------------


def test_anonymous_reports_carry_no_reporter_and_no_finer_times(app, make_report, make_user):
    reporter = make_user(email="named.reporter@example.org")
    moment = datetime(2026, 3, 1, 8, 37)
    anonymous = make_report(occurred_at=moment, submitted=datetime(2026, 3, 2, 9, 41))
    named = make_report(occurred_at=moment, reporter=reporter,
                        submitted=datetime(2026, 3, 2, 9, 41))
    for report_id, occurred in ((anonymous, "2026-03-01T08:00:00+01:00"),
                                (named, "2026-03-01T08:37:00+01:00")):
        resource = resource_of(app, report_id)
        assert_valid(resource)
        # No reporter of any kind, for a named report neither (the export names none).
        assert not {"recorder", "contributor", "encounter"} & resource.keys()
        assert "Patient not identified" in resource["subject"]["display"]
        assert resource["date"] == occurred
        assert resource["recordedDate"] == "2026-03-02"  # the day, never the time
        text = json.dumps(resource)
        assert "09:41" not in text and "named.reporter" not in text


def test_the_text_is_the_de_identified_copy_escaped(app, make_report):
    report_id = make_report("Pat 19121212-1212 fick fel dos <b>igen</b>, ring 070-123 45 67.",
                            suggestion="Mejla anna.svensson@example.org")
    resource = resource_of(app, report_id)
    assert_valid(resource)
    text = json.dumps(resource, ensure_ascii=False)
    for raw in ("19121212", "070-123", "anna.svensson", "<b>"):
        assert raw not in text
    paragraphs = [p.text for p in ElementTree.fromstring(resource["text"]["div"])]
    assert paragraphs == ["Pat [PERSONNUMMER] fick fel dos <b>igen</b>, ring [TELEFON].",
                          "Suggestion: Mejla [E-POST]"]


def test_a_text_removed_under_retention_says_so(app, make_report):
    report_id = make_report("Gammal text", submitted=days_ago(40), suggestion="Förslag")
    app.config["RETENTION_DAYS_INCIDENT"] = "30"
    with app.app_context():
        apply_retention()
    resource = resource_of(app, report_id)
    assert_valid(resource)
    assert ("Text removed on " + utcnow().date().isoformat()) in resource["text"]["div"]
    assert "Gammal" not in resource["text"]["div"] and "Förslag" not in resource["text"]["div"]


def test_a_project_names_report_and_unit_by_the_export_s_pseudonyms(app, make_report):
    report_id = make_report(unit="Röntgen")
    resource = resource_of(app, report_id, project="study-7")
    assert_valid(resource)
    with app.app_context():
        key = pseudonym_key("study-7")
        unit_id = db.session.get(Report, report_id).unit_id
    assert resource["id"] == resource["identifier"]["value"] == pseudonym(key, "report",
                                                                          report_id)
    assert resource["identifier"]["system"].endswith("/export/study-7/reports")
    assert resource["contained"][0]["name"] == pseudonym(key, "unit", unit_id)
    assert "Röntgen" not in json.dumps(resource, ensure_ascii=False)
    assert resource_of(app, report_id, project="study-8")["id"] != resource["id"]


# --- the mapping ------------------------------------------------------------------------


def test_a_report_is_identified_by_its_number_and_located_at_its_unit(app, make_report):
    report_id = make_report(unit="Avdelning 12 Kardiologi", area="medication", kind="incident")
    resource = resource_of(app, report_id)
    assert resource["id"] == str(report_id)
    assert resource["identifier"] == {"system": "http://localhost:5000/reports",
                                      "value": f"V-{report_id:06d}"}
    assert resource["contained"] == [{"resourceType": "Location", "id": "unit",
                                      "name": "Avdelning 12 Kardiologi", "mode": "instance"}]
    assert resource["event"]["coding"] == [{"system": code_system("area"), "code": "medication"}]


@pytest.mark.parametrize(("category", "hl7"), [
    ("safety", None),
    ("training", "product-use-error"),
    ("functionality", "product-problem"),
])
def test_each_category_is_coded_in_vaka_s_system_and_hl7_s_where_one_fits(app, make_report,
                                                                         category, hl7):
    flags = {f"is_{c}": c == category for c in ("safety", "training", "functionality")}
    resource = resource_of(app, make_report(**flags))
    assert_valid(resource)
    [concept] = resource["category"]
    codings = {(c["system"], c["code"]) for c in concept["coding"]}
    expected = {(code_system("category"), category)}
    if hl7:
        expected.add((f"{HL7_TERMINOLOGY}/adverse-event-category", hl7))
    assert codings == expected


def test_several_categories_and_none(app, make_report):
    both = resource_of(app, make_report(is_safety=True, is_training=False,
                                        is_functionality=True))
    other = resource_of(app, make_report(is_safety=False, is_training=False,
                                         is_functionality=False))
    unclassified = resource_of(app, make_report())
    assert [c["text"] for c in both["category"]] == ["safety", "functionality"]
    assert "category" not in other and "category" not in unclassified


@pytest.mark.parametrize(("impact", "actuality", "seriousness", "outcome"), [
    (Impact.HARM, "actual", "Serious", "unknown"),
    (Impact.UNKNOWN, "actual", None, "unknown"),
    (Impact.NEAR_MISS, "potential", "Non-serious", "resolved"),
    (Impact.NONE, "potential", "Non-serious", "resolved"),
])
def test_each_impact_maps_to_actuality_seriousness_and_outcome(app, make_report, impact,
                                                               actuality, seriousness, outcome):
    resource = resource_of(app, make_report(impact=impact))
    assert_valid(resource)
    assert resource["actuality"] == actuality
    if seriousness:
        assert resource["seriousness"]["coding"] == [{
            "system": f"{HL7_TERMINOLOGY}/adverse-event-seriousness", "code": seriousness,
            "display": seriousness}]
    else:
        assert "seriousness" not in resource
    assert resource["outcome"]["coding"][0]["system"] == f"{HL7_TERMINOLOGY}/adverse-event-outcome"
    assert resource["outcome"]["coding"][0]["code"] == outcome
    assert extension(resource, "patient-impact")["valueCoding"] == {
        "system": code_system("patient-impact"), "code": impact}


@pytest.mark.parametrize(("consequence", "confirmed", "severity"), [
    (1, True, "mild"), (2, True, "moderate"), (3, True, "severe"), (4, True, "severe"),
    (4, False, None),  # a suggestion is not an assessment
])
def test_severity_comes_from_a_coordinator_s_consequence_only(app, make_report, consequence,
                                                              confirmed, severity):
    resource = resource_of(app, make_report(consequence=consequence, likelihood=2,
                                            risk_score=consequence * 2,
                                            risk_confirmed=confirmed))
    assert_valid(resource)
    if severity:
        assert resource["severity"]["coding"][0] == {
            "system": f"{HL7_TERMINOLOGY}/adverse-event-severity", "code": severity,
            "display": severity.capitalize()}
    else:
        assert "severity" not in resource


def test_the_known_issue_is_a_related_reference_and_the_status_an_extension(
        app, make_report, make_user):
    coordinator = make_user("coordinator")
    issue = persist(app, KnownIssue(title="Labbsvar saknas", created_by_id=coordinator.id))
    in_issue = resource_of(app, make_report(known_issue_id=issue.id, status=Status.RESOLVED))
    alone = resource_of(app, make_report())
    assert_valid(in_issue)
    assert extension(in_issue, "known-issue")["valueReference"] == {
        "identifier": {"system": "http://localhost:5000/known-issues", "value": str(issue.id)},
        "display": f"Known issue {issue.id}"}
    assert "Labbsvar" not in json.dumps(in_issue)  # the export gives the number only
    assert extension(alone, "known-issue") is None
    assert extension(in_issue, "handling-status")["valueCoding"]["code"] == "resolved"


# --- the command ------------------------------------------------------------------------


def test_the_command_writes_a_valid_bundle_of_the_filtered_reports(app, runner, make_report,
                                                                  tmp_path):
    make_report("Ett 19121212-1212", unit="Röntgen")
    make_report("Två", unit="Akuten")
    target = tmp_path / "bundle.json"
    result = runner.invoke(args=["export", "fhir", "--unit", "Röntgen", "-o", str(target)])
    assert result.exit_code == 0, result.output
    document = json.loads(target.read_text(encoding="utf-8"))
    assert_valid_bundle(document)
    [entry] = document["entry"]
    assert "[PERSONNUMMER]" in entry["resource"]["text"]["div"]
    assert fhir_events(app)[0]["rows"] == 1


def test_the_command_writes_one_report_s_resource(app, runner, make_report):
    report_id = make_report()
    result = runner.invoke(args=["export", "fhir", "--report", str(report_id),
                                 "--project", "study-7"])
    assert result.exit_code == 0, result.output
    assert_valid(json.loads(result.output))
    [event] = fhir_events(app)
    assert event["project"] == "study-7" and event["rows"] == 1


@pytest.mark.parametrize(("args", "message"), [
    (["--report", "999"], "no report 999"),
    (["--report", "0"], "--report"),
    (["--report", "1", "--unit", "Röntgen"], "--report takes no filters"),
    (["--project", "../x"], "project name"),
    (["--report", "1", "--project", "../x"], "project name"),
    (["--unit", "Nowhere"], "no unit called Nowhere"),
    (["--from", "2026-03-02", "--to", "2026-03-01"], "before the start"),
])
def test_the_command_refuses_bad_options_clearly_and_records_nothing(app, runner, make_report,
                                                                     args, message):
    make_report()
    result = runner.invoke(args=["export", "fhir", *args])
    assert result.exit_code == 2 and message in result.output, result.output
    assert fhir_events(app) == []


@pytest.mark.parametrize("broken", [
    lambda r: r.pop("subject"),  # required
    lambda r: r.update(description="R5 has it, R4 does not"),  # unknown in R4
    lambda r: r.update(date="2026-03-01 08:00"),  # not a FHIR dateTime
    lambda r: r.update(category={"text": "one"}),  # a list in R4
])
def test_the_validation_refuses_a_broken_resource(app, make_report, broken):
    resource = resource_of(app, make_report())
    broken(resource)
    with pytest.raises(FHIRValidationError):
        AdverseEvent(resource)


def test_characters_xml_does_not_allow_leave_the_narrative_well_formed(app, make_report):
    resource = resource_of(app, make_report("Skärmen\x0bfrös\x1b[0m och & <inget> hände"))
    assert_valid(resource)
    [paragraph] = ElementTree.fromstring(resource["text"]["div"])
    assert paragraph.text == "Skärmen\ufffdfrös\ufffd[0m och & <inget> hände"
