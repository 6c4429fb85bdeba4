"""The staff report form, its confirmation, idempotency and the receipt page."""

import re
import secrets
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from app.services import NotFound
from app.services.reports import report_for_receipt
from models import Label, Report, db
from tests.helpers import RECEIPT, all_reports, form_data


def test_form_renders_with_units_and_a_fresh_token(client, make_unit):
    make_unit("Akuten")
    page = client.get("/").get_data(as_text=True)
    assert "Akuten" in page
    tokens = re.findall(r'name="submission_token"[^>]*value="([^"]+)"', page)
    again = re.findall(r'name="submission_token"[^>]*value="([^"]+)"',
                       client.get("/").get_data(as_text=True))
    assert tokens and again and tokens != again


def test_anonymous_report_is_saved_without_identity_and_gets_a_receipt(app, client, make_unit,
                                                                        active_model):
    unit = make_unit()
    response = client.post("/", data=form_data(unit.id),
                           headers={"User-Agent": "Secret-Browser/1.0"},
                           environ_base={"REMOTE_ADDR": "10.9.8.7"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    receipt = RECEIPT.search(page).group(1)
    [report] = all_reports(app)
    assert report.reference in page
    assert report.reporter_id is None and report.submitted_at is None
    assert report.submitted_on is not None
    assert receipt not in (report.receipt_hash or "")
    with app.app_context():
        stored = " ".join(str(v) for r in db.session.execute(select(Report.__table__)).all()
                          for v in r)
        assert "10.9.8.7" not in stored and "Secret-Browser" not in stored
        labels = db.session.scalars(select(Label)).all()
        assert labels and all(label.created_at is None for label in labels)
    # 100 bits of secret, in base32 groups, after the reference
    assert re.fullmatch(r"V-\d{6}(-[A-Z2-7]{4}){5}", receipt)


def test_report_is_classified_after_saving(app, client, make_unit, active_model):
    unit = make_unit()
    client.post("/", data=form_data(unit.id))
    [report] = all_reports(app)
    assert report.model_version_id == active_model
    assert report.is_safety is True
    assert 0.0 <= report.score_training <= 1.0


def test_report_is_kept_unclassified_when_no_model_is_active(app, client, make_unit):
    unit = make_unit()
    response = client.post("/", data=form_data(unit.id))
    assert response.status_code == 200
    [report] = all_reports(app)
    assert not report.is_classified and report.model_version_id is None


def test_report_is_kept_unclassified_when_the_model_is_broken(app, client, make_unit):
    from models import ModelVersion

    with app.app_context():
        db.session.add(ModelVersion(algorithm="broken", artifact=b"not a model", active=True))
        db.session.commit()
    unit = make_unit()
    assert client.post("/", data=form_data(unit.id)).status_code == 200
    [report] = all_reports(app)
    assert not report.is_classified


def test_logged_in_user_may_report_with_name(app, client, make_unit, make_user, login):
    unit, user = make_unit(), make_user()
    login(user)
    page = client.post("/", data=form_data(unit.id, identity="named")).get_data(as_text=True)
    [report] = all_reports(app)
    assert report.reporter_id == user.id and report.submitted_at is not None
    assert "receipt-code" not in page


def test_a_role_without_named_reports_reports_anonymously(app, client, make_unit, make_user,
                                                          login):
    unit, user = make_unit(), make_user("researcher")
    login(user)
    assert 'name="identity"' not in client.get("/").get_data(as_text=True)
    page = client.post("/", data=form_data(unit.id, identity="named")).get_data(as_text=True)
    [report] = all_reports(app)
    assert report.reporter_id is None and report.submitted_at is None
    assert "receipt-code" in page


def test_logged_in_user_who_chooses_anonymous_is_anonymous(app, client, make_unit, make_user,
                                                           login):
    unit, user = make_unit(), make_user()
    login(user)
    page = client.post("/", data=form_data(unit.id, identity="anonymous")).get_data(as_text=True)
    [report] = all_reports(app)
    assert report.reporter_id is None and report.submitted_at is None
    assert RECEIPT.search(page)


def test_visitor_cannot_report_with_a_name(app, client, make_unit):
    unit = make_unit()
    client.post("/", data=form_data(unit.id, identity="named"))
    [report] = all_reports(app)
    assert report.reporter_id is None


def test_retried_submission_stores_one_report_and_shows_the_same_receipt(app, client,
                                                                         make_unit):
    unit = make_unit()
    data = form_data(unit.id)
    first = client.post("/", data=data).get_data(as_text=True)
    second = client.post("/", data=data).get_data(as_text=True)
    assert len(all_reports(app)) == 1
    assert RECEIPT.search(first).group(1) == RECEIPT.search(second).group(1)


def test_receipt_shows_status_and_nothing_private(app, client, make_unit):
    unit = make_unit()
    page = client.post("/", data=form_data(unit.id, text="Hemlig detalj om händelsen X."))
    receipt = RECEIPT.search(page.get_data(as_text=True)).group(1)
    status = client.post("/status", data={"receipt": receipt.lower()})
    text = status.get_data(as_text=True)
    assert status.status_code == 200
    assert "Hemlig detalj" not in text and "New" in text


@pytest.mark.parametrize("code", ["", "V-000001-AAAA-AAAA-AAAA-AAAA-AAAA", "nonsense",
                                  "V-999999-ABCD-EFGH-IJKL-MNOP-QRST"])
def test_wrong_receipt_is_refused(client, make_unit, code):
    unit = make_unit()
    client.post("/", data=form_data(unit.id))
    response = client.post("/status", data={"receipt": code})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'class="facts"' not in page
    assert "No report matches that receipt code" in page or "This field is required" in page


def test_named_report_has_no_receipt(app, make_report, make_user, ctx):
    user = make_user()
    report_id = make_report(reporter=user)
    with pytest.raises(NotFound):
        report_for_receipt(f"V-{report_id:06d}-AAAA-AAAA-AAAA-AAAA-AAAA")


@pytest.mark.parametrize(("field", "value", "message"), [
    ("text", "", "This field is required"),
    ("text", "too short", "between 10 and 10000"),
    ("text", "x" * 10_001, "between 10 and 10000"),
    ("unit_id", "999999", "Not a valid choice"),
    ("unit_id", "", "Choose the unit"),
    ("occurred_at", "2026-02-30T08:00", "Enter a date and time"),
    ("occurred_at", "yesterday", "Enter a date and time"),
    ("occurred_at", "1999-12-31T23:00", "too far back"),
    ("occurred_at", (datetime.now() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"),
     "cannot be in the future"),
    ("kind", "complaint", "Not a valid choice"),
    ("area", "kitchen", "Not a valid choice"),
    ("impact", "catastrophe", "Not a valid choice"),
    ("submission_token", "", "The form was incomplete"),
    ("submission_token", "short", "The form was incomplete"),
])
def test_bad_input_is_rejected_and_keeps_what_was_typed(app, client, make_unit, field, value,
                                                        message):
    unit = make_unit()
    data = form_data(unit.id, suggestion="Min egen idé om förbättring")
    data[field] = value
    response = client.post("/", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in page
    assert "Min egen idé om förbättring" in page
    if field != "text":
        assert "Provsvaret för Hb" in page
    assert all_reports(app) == []


def test_html_in_a_report_is_shown_as_text(app, client, make_unit, make_user, login):
    unit = make_unit()
    payload = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    client.post("/", data=form_data(unit.id, text=f"Systemet visade {payload} i rutan"))
    login(make_user("coordinator"))
    [report] = all_reports(app)
    page = client.get(f"/triage/reports/{report.id}").get_data(as_text=True)
    assert payload not in page
    assert "&lt;script&gt;alert(" in page


def test_invalid_utf8_in_the_form_is_rejected(app, client, make_unit):
    unit = make_unit()
    body = (f"kind=incident&text=Systemet+kraschade+%FF%FE+igen&unit_id={unit.id}"
            "&occurred_at=2026-03-14T08%3A30&area=other&impact=none"
            f"&submission_token={secrets.token_urlsafe(24)}")
    response = client.post("/", data=body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert "UTF-8" in response.get_data(as_text=True)
    assert all_reports(app) == []


def test_invalid_utf8_in_the_address_is_rejected(client):
    assert client.get("/?x=%C3%28").status_code == 400


def test_oversized_request_is_refused(client):
    response = client.post("/", data={"text": "x" * 300_000})
    assert response.status_code == 413
