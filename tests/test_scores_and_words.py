"""Scores in words and the words behind them: bands from the model's own thresholds, no
filler words or numbers among the reasons, no reasons for an unlikely category."""

import re

import pytest
from sqlalchemy import update

from app.services.classification import explain_report
from ml.classifier import REVIEW_MARGIN
from ml.explain import Band, explain, is_filler, score_band
from models import Report, db
from tests.helpers import decision

TEXT = ("Patienten fick inte sin dos för 12 timmar sedan, fel dos insulin 2 gånger "
        "eftersom ordinationen inte syntes i listan.")


@pytest.mark.parametrize(("score", "threshold", "band"), [
    (0.95, 0.5, Band.LIKELY), (0.5 + REVIEW_MARGIN, 0.5, Band.LIKELY),
    (0.5 + REVIEW_MARGIN - 0.01, 0.5, Band.UNSURE), (0.5, 0.5, Band.UNSURE),
    (0.5 - REVIEW_MARGIN + 0.01, 0.5, Band.UNSURE), (0.5 - REVIEW_MARGIN, 0.5, Band.UNLIKELY),
    (0.0, 0.5, Band.UNLIKELY), (0.3, 0.2, Band.UNSURE), (0.99, 0.9, Band.UNSURE),
    (1.0, 0.9, Band.UNSURE)])
def test_a_score_is_unsure_within_the_review_margin_of_its_own_threshold(score, threshold,
                                                                         band):
    assert score_band(score, threshold) == band


def test_the_bands_agree_with_needs_review(classifier):
    (prediction,) = classifier.predict([TEXT])
    bands = [score_band(prediction.scores[c], classifier.thresholds[c])
             for c in prediction.scores]
    assert prediction.needs_review == (Band.UNSURE in bands)
    by_band = dict(zip(prediction.scores, bands, strict=True))
    assert {c for c, band in by_band.items() if band == Band.LIKELY} <= set(prediction.labels)
    assert {c for c, band in by_band.items() if band == Band.UNLIKELY}.isdisjoint(
        prediction.labels)


@pytest.mark.parametrize(("word", "filler"), [
    ("inte", True), ("för", True), ("Och", True), ("the", True), ("not", True),
    ("12", True), ("2026-03-01", True), ("2.5", True), ("insulin", False), ("dos", False),
    ("covid-19", False), ("Pump", False)])
def test_filler_words_and_numbers(word, filler):
    assert is_filler(word) == filler


def test_no_filler_word_or_number_is_given_as_a_reason(classifier):
    reasons = [word.text for words in explain(classifier, TEXT).values() for word in words]
    assert reasons, "the text has content words the model leans on"
    assert not [word for word in reasons if is_filler(word)]
    assert {"inte", "för", "12", "2", "i"}.isdisjoint(word.lower() for word in reasons)


def test_the_report_page_shows_bands_and_no_reasons_for_an_unlikely_category(
        app, client, coordinator, make_unit, active_model):
    unit = make_unit()
    client.post("/", data={"kind": "incident", "unit_id": str(unit.id), "area": "medication",
                           "impact": "harm", "occurred_at": "2026-03-01T10:00", "text": TEXT,
                           "submission_token": "b" * 30})
    page = client.get("/triage/reports/1").get_data(as_text=True)
    with app.app_context():
        explanation = explain_report(db.session.get(Report, 1))
    assert [band.category for band in explanation.bands] == ["safety", "training",
                                                             "functionality"]
    for band in explanation.bands:
        if band.band == "unlikely":
            assert explanation.words[band.category] == []
        shown = re.search(rf'<span class="band band-{band.band}" title="{band.score:.2f}">'
                          rf'([^<]+)<span class="visually-hidden"> \(score {band.score:.2f}\)',
                          page)
        assert shown and shown.group(1) in {"likely", "unsure", "unlikely"}
    assert ("The model is unsure about this report" in page) == explanation.unsure
    marks = re.findall(r'<mark class="\w+"[^>]*>([^<]+)</mark>', page)
    assert marks and not [word for word in marks if is_filler(word)]


def test_the_queue_says_where_the_model_is_unsure(app, client, coordinator, make_unit,
                                                 active_model, classifier):
    """Its tags show the categories; a score near its threshold adds "unsure" beside them."""
    unit = make_unit()
    client.post("/", data={"kind": "incident", "unit_id": str(unit.id), "area": "medication",
                           "impact": "harm", "occurred_at": "2026-03-01T10:00", "text": TEXT,
                           "submission_token": "q" * 30})
    near = classifier.thresholds["functionality"] + 0.05
    with app.app_context():
        db.session.execute(update(Report).values(score_functionality=near))
        db.session.commit()
    page = client.get("/triage/").get_data(as_text=True)
    shown = re.findall(r'<span class="band band-(\w+)" title="([\d.]+)">([^<]+)<', page)
    assert shown == [("unsure", f"{near:.2f}", "Functionality: unsure")]


def test_a_decision_still_works_without_a_model(client, coordinator, make_report):
    report_id = make_report()
    page = client.get(f"/triage/reports/{report_id}").get_data(as_text=True)
    assert 'class="band' not in page
    assert client.post(f"/triage/reports/{report_id}", data=decision()).status_code == 302
