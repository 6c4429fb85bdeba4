"""Personal identifiers in reports: scrubbed copies on submission, the triage warning, redaction."""


from models import AuditEvent, Report, db
from tests.helpers import all_reports, form_data

IDENTIFYING = "Pat 19121212-1212 fick fel dos. Ring mig på 070-123 45 67."
SCRUBBED = "Pat [PERSONNUMMER] fick fel dos. Ring mig på [TELEFON]."


def get(app, report_id: int) -> Report:
    with app.app_context():
        return db.session.get(Report, report_id)


def test_submission_stores_a_scrubbed_copy_beside_the_text(app, client, make_unit):
    unit = make_unit()
    client.post("/", data=form_data(unit.id, text=IDENTIFYING,
                                          suggestion="Mejla anna@region.se"))
    [report] = all_reports(app)
    assert report.text == IDENTIFYING, "the report itself keeps what was written"
    assert report.text_deidentified == SCRUBBED
    assert report.suggestion_deidentified == "Mejla [E-POST]"
    assert report.identifiers_found == 3


def test_a_clean_report_has_nothing_to_scrub(app, make_report):
    report = get(app, make_report("Systemet hängde sig kl 14.15, version 2.3.1, 5 mg."))
    assert report.identifiers_found == 0
    assert report.text_deidentified == report.text


def test_detail_warns_and_redaction_replaces_identifiers_with_an_audit_entry(
        app, client, make_report, coordinator):
    report_id = make_report(IDENTIFYING, suggestion="anna@region.se")
    page = client.get(f"/triage/reports/{report_id}").get_data(as_text=True)
    assert "This report contains personal identifiers" in page
    assert "1 × personal identity number" in page and "1 × phone number" in page
    response = client.post(f"/triage/reports/{report_id}/redact", follow_redirects=True)
    assert "3 identifiers were replaced by placeholders." in response.get_data(as_text=True)
    report = get(app, report_id)
    assert report.text == SCRUBBED and report.suggestion == "[E-POST]"
    assert report.identifiers_found == 0
    assert "This report contains personal identifiers" not in \
        client.get(f"/triage/reports/{report_id}").get_data(as_text=True)
    with app.app_context():
        [event] = db.session.scalars(db.select(AuditEvent).where(
            AuditEvent.action == "report.redact")).all()
        assert event.object_id == str(report_id) and event.actor_label == coordinator.email
        assert event.details == {"personnummer": 1, "telefon": 1, "e-post": 1}
        assert "1212" not in str(event.details), "the audit log never holds the identifiers"


def test_no_warning_without_identifiers(client, make_report, coordinator):
    report_id = make_report("Skrivaren fungerar inte.")
    assert "personal identifiers" not in \
        client.get(f"/triage/reports/{report_id}").get_data(as_text=True)


def test_redaction_needs_a_coordinator_and_a_real_report(app, client, make_report, make_user,
                                                         login):
    report_id = make_report(IDENTIFYING)
    login(make_user("researcher"))
    assert client.post(f"/triage/reports/{report_id}/redact").status_code == 403
    assert get(app, report_id).text == IDENTIFYING
    login(make_user("coordinator"))
    assert client.post("/triage/reports/999999/redact").status_code == 404


def test_redaction_without_csrf_changes_nothing(app, client, make_report, coordinator):
    report_id = make_report(IDENTIFYING)
    app.config["WTF_CSRF_ENABLED"] = True
    assert client.post(f"/triage/reports/{report_id}/redact").status_code == 400
    assert get(app, report_id).text == IDENTIFYING
