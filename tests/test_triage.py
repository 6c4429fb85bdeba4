"""The coordination group's queue and report detail."""

import re

import pytest
from sqlalchemy import select

from models import Label, db
from tests.helpers import decision, fetch_report


def references(page: str) -> list[str]:
    return re.findall(r">(V-\d{6})<", page)


def test_detail_shows_text_metadata_and_model_scores(app, client, coordinator, make_unit,
                                                     active_model):
    unit = make_unit()
    client.post("/", data={"kind": "incident", "unit_id": str(unit.id), "area": "medication",
                           "impact": "harm", "occurred_at": "2026-03-01T10:00",
                           "text": "Patienten fick dubbel dos morfin, ordinationen syntes två "
                                   "gånger i listan.",
                           "submission_token": "t" * 30})
    page = client.get("/triage/reports/1").get_data(as_text=True)
    assert "dubbel dos morfin" in re.sub(r"<[^>]+>", "", page)
    assert "Medication" in page and "Harm" in page and "Anonymous" in page
    assert f"version {active_model}" in page
    assert "Patient safety" in page


def test_review_is_stored_beside_the_model_labels(app, client, coordinator, make_unit,
                                                  active_model):
    unit = make_unit()
    client.post("/", data={"kind": "incident", "unit_id": str(unit.id), "area": "other",
                           "impact": "none", "occurred_at": "2026-03-01T10:00",
                           "text": "Ingen har visat oss hur man skriver ut etiketter.",
                           "submission_token": "u" * 30})
    response = client.post("/triage/reports/1",
                           data=decision(categories=["training", "functionality"],
                                 status="triaged"))
    assert response.status_code == 302
    report = fetch_report(app, 1)
    assert report.categories == ["training", "functionality"]
    assert report.labels_reviewed and report.status == "triaged"
    with app.app_context():
        labels = db.session.scalars(select(Label).order_by(Label.id)).all()
        sources = [label.source for label in labels]
        assert sources == ["model"] * 3 + ["human"] * 3
        human = {label.category: label.value for label in labels if label.source == "human"}
        assert human == {"safety": False, "training": True, "functionality": True}
        assert all(label.user_id == coordinator.id for label in labels[3:])


def test_review_with_no_category_means_other(app, client, coordinator, make_report):
    report_id = make_report(is_safety=True, is_training=False, is_functionality=False)
    client.post(f"/triage/reports/{report_id}", data=decision(status="closed"))
    report = fetch_report(app, report_id)
    assert report.categories == [] and report.labels_reviewed and report.status == "closed"


def test_a_human_decision_survives_reclassification(app, coordinator, client, make_report,
                                                    active_model):
    from app.services.classification import classify_reports

    report_id = make_report("Patienten fick fel dos insulin.")
    client.post(f"/triage/reports/{report_id}", data=decision(status="triaged",
                                                      categories=["training"]))
    with app.app_context():
        classify_reports([report_id])
    report = fetch_report(app, report_id)
    assert report.categories == ["training"]
    assert report.score_safety is not None


@pytest.mark.parametrize("data", [{"status": "archived"},
                                  {"status": "new", "categories": ["danger"]}])
def test_invalid_review_is_rejected(app, client, coordinator, make_report, data):
    report_id = make_report()
    assert client.post(f"/triage/reports/{report_id}", data=data).status_code == 400
    assert not fetch_report(app, report_id).labels_reviewed


def submit(client, unit_id: int, text: str, token: str) -> None:
    client.post("/", data={"kind": "incident", "unit_id": str(unit_id), "area": "other",
                           "impact": "unknown", "occurred_at": "2026-03-01T10:00",
                           "text": text, "submission_token": token * 30})


def test_detail_marks_the_words_behind_the_categories(client, coordinator, make_unit,
                                                      active_model):
    unit = make_unit()
    submit(client, unit.id, "Patienten fick fel dos insulin, <b>ordinationen</b> saknades.", "a")
    page = client.get("/triage/reports/1").get_data(as_text=True)
    marks = re.findall(r'<mark class="(\w+)"[^>]*>([^<]+)</mark>', page)
    assert ("safety", "insulin") in marks or ("safety", "dos") in marks
    assert {category for category, _ in marks} <= {"safety", "training", "functionality"}
    assert "&lt;b&gt;" in page and "<b>ordinationen" not in page
    assert f"model version {active_model}" in page


def test_detail_without_a_model_shows_plain_text(client, coordinator, make_report):
    report_id = make_report("Systemet hängde sig vid signering.")
    page = client.get(f"/triage/reports/{report_id}").get_data(as_text=True)
    assert "<mark" not in page and "Systemet hängde sig vid signering." in page


def test_a_review_clears_needs_review(app, client, coordinator, make_report):
    report_id = make_report(needs_review=True)
    client.post(f"/triage/reports/{report_id}", data=decision(status="triaged"))
    assert not fetch_report(app, report_id).needs_review
