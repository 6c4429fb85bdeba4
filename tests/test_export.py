"""The researchers' CSV export."""

import csv
import io

import pytest

from app.services.export import COLUMNS, neutralise
from tests.conftest import days_ago


@pytest.fixture
def researcher(make_user, login):
    user = make_user("researcher", email="researcher@example.org")
    login(user)
    return user


def download(client, query: str = "") -> list[dict[str, str]]:
    response = client.get(f"/export/reports.csv?{query}")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.is_streamed
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_export_has_every_column_and_no_reporter_identity(client, make_report, make_user,
                                                          researcher):
    reporter = make_user(email="named.reporter@example.org")
    make_report("Systemet kraschade vid signering.", reporter=reporter, suggestion="Fixa det",
                score_safety=0.12, is_safety=False, score_training=0.3, is_training=False,
                score_functionality=0.91, is_functionality=True, model_version_id=None)
    response = client.get("/export/reports.csv")
    text = response.get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == COLUMNS
    row = rows[0]
    assert row["text"] == "Systemet kraschade vid signering."
    assert row["unit"] == "Avdelning 12" and row["suggestion"] == "Fixa det"
    assert row["functionality_score"] == "0.91" and row["functionality_label"] == "1"
    assert row["safety_label"] == "0"
    assert "named.reporter" not in text
    assert "attachment" in response.headers["Content-Disposition"]


def test_export_filters_by_dates_and_category(client, make_report, researcher):
    old = make_report("Gammal rapport om utbildning", submitted=days_ago(40), is_training=True,
                      is_safety=False, is_functionality=False)
    new = make_report("Ny rapport om kraschar", submitted=days_ago(1), is_training=False,
                      is_safety=False, is_functionality=True)
    since = days_ago(5).date().isoformat()
    assert [r["reference"] for r in download(client, f"date_from={since}")] == [f"V-{new:06d}"]
    until = days_ago(30).date().isoformat()
    assert [r["reference"] for r in download(client, f"date_to={until}")] == [f"V-{old:06d}"]
    assert [r["reference"] for r in download(client, "category=training")] == [f"V-{old:06d}"]
    assert download(client, "category=safety") == []


@pytest.mark.parametrize("payload", ["=HYPERLINK(\"http://evil\")", "+1+1", "-2+3", "@SUM(A1)",
                                     "\tcmd", "\r=1"])
def test_formulas_are_neutralised(client, make_report, researcher, payload):
    make_report(f"{payload} och mer text", suggestion=payload)
    [row] = download(client)
    assert row["text"].startswith("'" + payload[0])
    assert row["suggestion"] == "'" + payload


def test_neutralise_leaves_plain_text_and_numbers_alone():
    assert neutralise("Systemet = långsamt") == "Systemet = långsamt"
    assert neutralise(0.5) == "0.5"
    assert neutralise(None) == ""
    assert neutralise(True) == "1"


@pytest.mark.parametrize("query", ["category=nope", "date_from=2026-02-31", "format=xml"])
def test_bad_export_filters_are_rejected(client, researcher, query):
    assert client.get(f"/export/reports.csv?{query}").status_code == 400


def test_export_page_offers_the_filters(client, researcher):
    page = client.get("/export/").get_data(as_text=True)
    assert 'name="date_from"' in page and 'name="category"' in page
