"""The JSON API: its operations, the tokens' lifecycle, problem details, the quick link."""

import json
import re
import secrets
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.api.problems import PROBLEM_MEDIA_TYPE
from app.api.reference import type_text
from app.api.schemas import ErrorKind
from app.services.api_tokens import LAST_USED_GRANULARITY, authenticate, token_hash
from models import ApiToken, KnownIssue, Report, db, utcnow
from tests.api_helpers import bearer, new_token
from tests.helpers import all_reports, events, persist
from tests.test_fhir import assert_valid, assert_valid_bundle

TEXT = "Skrivaren på avdelningen skriver inte ut remisserna sedan i morse."


def report_body(unit_id: int, **fields) -> dict:
    return {"text": TEXT, "unit_id": unit_id, "area": "printing", "impact": "none",
            "idempotency_key": secrets.token_urlsafe(24), **fields}


def assert_problem(response, status: int, kind: str) -> dict:
    assert response.status_code == status, response.data
    assert response.mimetype == PROBLEM_MEDIA_TYPE
    body = response.get_json()
    assert body["type"] == f"/api/v1/reference#problem-{kind}"
    assert body["status"] == status and body["title"] and body["detail"]
    return body


@pytest.fixture
def admin(make_user):
    return make_user("admin")


@pytest.fixture
def unit(make_unit):
    return make_unit("Avdelning 12")


@pytest.fixture
def token(app, admin):
    """A token for a coordinators' dashboard: triage and the export."""
    return new_token(app, admin, {"triage", "export.deidentified"})


# Submitting ---------------------------------------------------------------------------------

def test_an_anonymous_report_gets_a_receipt_and_a_retry_gets_the_same(app, client, unit):
    body = report_body(unit.id)
    first = client.post("/api/v1/reports", json=body)
    again = client.post("/api/v1/reports", json=body)
    assert first.status_code == again.status_code == 201
    assert first.get_json() == again.get_json()
    assert first.get_json()["anonymous"] is True
    assert re.fullmatch(r"V-\d{6}(-[A-Z2-7]{4}){5}", first.get_json()["receipt_code"])
    [report] = all_reports(app)
    assert report.reporter_id is None and report.submitted_at is None
    assert report.area == "printing" and report.text == TEXT


def test_the_receipt_shows_what_the_receipt_page_shows_and_no_more(app, client, unit):
    code = client.post("/api/v1/reports", json=report_body(unit.id)).get_json()["receipt_code"]
    response = client.post("/api/v1/receipt", json={"receipt": code.lower().replace("-", " ")})
    assert response.status_code == 200
    assert response.get_json() == {"reference": "V-000001", "status": "new",
                                   "submitted_on": utcnow().date().isoformat(),
                                   "known_issue": None}
    wrong = client.post("/api/v1/receipt", json={"receipt": code[:-1] + "A"})
    assert_problem(wrong, 404, "not-found")


def test_a_report_in_someones_name_needs_the_dedicated_scope(app, client, unit, admin,
                                                            make_user):
    staff = make_user("staff", email="sjukskoterska@example.org")
    body = report_body(unit.id, reporter_email="Sjukskoterska@example.org")
    assert_problem(client.post("/api/v1/reports", json=body), 401, "unauthenticated")
    triage_only = new_token(app, admin, {"triage"})
    assert_problem(client.post("/api/v1/reports", json=body, headers=bearer(triage_only)),
                   403, "forbidden")
    assert all_reports(app) == []
    named = new_token(app, admin, {"api.report_for_user"}, system="Cosmic")
    response = client.post("/api/v1/reports", json=body, headers=bearer(named))
    assert response.status_code == 201
    assert response.get_json()["anonymous"] is False
    assert response.get_json()["receipt_code"] is None
    [report] = all_reports(app)
    assert report.reporter_id == staff.id and report.submitted_at is not None
    [event] = events(app, "report.submit_for_user")
    assert event.actor_label.endswith("(Cosmic)") and event.details["reporter"] == staff.email


@pytest.mark.parametrize("who", ["nobody@example.org", "disabled", "researcher"])
def test_only_an_active_account_that_may_report_can_be_named(app, client, unit, admin,
                                                            make_user, who):
    if who == "disabled":
        who = make_user("staff", active=False).email
    elif who == "researcher":
        who = make_user("researcher").email
    named = new_token(app, admin, {"api.report_for_user"})
    response = client.post("/api/v1/reports", json=report_body(unit.id, reporter_email=who),
                           headers=bearer(named))
    body = assert_problem(response, 422, "validation")
    assert body["errors"][0]["field"] == "reporter_email"
    assert all_reports(app) == []


@pytest.mark.parametrize(("change", "field"), [
    ({"text": "för kort"}, "text"),
    ({"text": "x" * 10_001}, "text"),
    ({"text": "Ett fel\x00 som inte får lagras i databasen."}, "text"),
    ({"unit_id": 999}, "unit_id"),
    ({"area": "kitchen"}, "area"),
    ({"occurred_at": "2999-01-01T08:00:00+01:00"}, "occurred_at"),
    ({"occurred_at": "2026-03-01T08:00:00"}, "occurred_at"),  # no offset: which zone?
    ({"idempotency_key": "short"}, "idempotency_key"),
    ({"colour": "red"}, "colour"),
])
def test_bad_values_are_refused_field_by_field_and_nothing_is_stored(app, client, unit,
                                                                    change, field):
    response = client.post("/api/v1/reports", json={**report_body(unit.id), **change})
    body = assert_problem(response, 422, "validation")
    assert field in [error["field"] for error in body["errors"]]
    assert all_reports(app) == []


def test_an_inactive_unit_takes_no_reports(app, client, make_unit):
    closed = make_unit("Stängd avdelning")
    with app.app_context():
        db.session.get(type(closed), closed.id).active = False
        db.session.commit()
    assert_problem(client.post("/api/v1/reports", json=report_body(closed.id)), 422,
                   "validation")


def test_a_body_that_is_not_json_is_a_clear_problem(client, unit):
    assert_problem(client.post("/api/v1/reports", data="{\"text\": ",
                               content_type="application/json"), 400, "malformed-request")
    assert_problem(client.post("/api/v1/reports", data={"text": TEXT}), 415,
                   "unsupported-media-type")
    assert_problem(client.post("/api/v1/reports", data="x" * 300_000,
                               content_type="application/json"), 413, "too-large")


def test_the_known_issue_a_report_names_is_kept_only_when_open(app, client, unit, admin):
    issue = persist(app, KnownIssue(title="Skrivarfel", created_by_id=admin.id))
    closed = persist(app, KnownIssue(title="Gammalt", created_by_id=admin.id,
                                     status="resolved", resolution_note="Åtgärdat",
                                     resolved_at=utcnow()))
    for issue_id in (issue.id, closed.id):
        client.post("/api/v1/reports", json=report_body(unit.id, known_issue_id=issue_id))
    first, second = all_reports(app)
    assert first.known_issue_id == issue.id and second.known_issue_id != closed.id


# Reading ------------------------------------------------------------------------------------

def test_the_queue_filters_and_pages_like_the_queue_page(app, client, token, make_report):
    for number in range(7):
        make_report(f"Rapport nummer {number} om journalen som hänger sig.", area="records")
    make_report("Skrivaren fungerar inte alls.", unit="Akuten", area="printing")
    first = client.get("/api/v1/reports?order=newest", headers=bearer(token)).get_json()
    assert len(first["reports"]) == 5 and first["next_cursor"]  # QUEUE_PAGE_SIZE in tests
    rest = client.get(f"/api/v1/reports?order=newest&after={first['next_cursor']}",
                      headers=bearer(token)).get_json()
    ids = [r["id"] for r in first["reports"] + rest["reports"]]
    assert ids == list(range(8, 0, -1)) and rest["next_cursor"] is None
    printing = client.get("/api/v1/reports?area=printing", headers=bearer(token)).get_json()
    assert [r["unit"]["name"] for r in printing["reports"]] == ["Akuten"]
    found = client.get("/api/v1/reports?q=skrivaren", headers=bearer(token)).get_json()
    assert [r["id"] for r in found["reports"]] == [8]


@pytest.mark.parametrize(("query", "field"), [
    ("unit=avdelning", "unit"), ("status=lost", "status"), ("after=garbage", "after"),
    ("q=%21%21", "q"), ("date_from=0", "date_from"), ("colour=red", "colour"),
])
def test_bad_queue_filters_are_refused(client, token, query, field):
    body = assert_problem(client.get(f"/api/v1/reports?{query}", headers=bearer(token)),
                          422, "validation")
    assert field in [error["field"] for error in body["errors"]]


def test_one_report_is_read_and_audited_in_the_tokens_name(app, client, token, make_report):
    report_id = make_report()
    response = client.get(f"/api/v1/reports/{report_id}", headers=bearer(token))
    assert response.status_code == 200
    assert response.get_json()["text"].startswith("Systemet hängde sig")
    [event] = events(app, "report.view")
    assert event.actor_label == "api token 1 (Journalsystemet)" and event.actor_id is None
    assert_problem(client.get("/api/v1/reports/999", headers=bearer(token)), 404, "not-found")


def test_known_issues_and_alerts(app, client, token, admin):
    from models import Alert

    persist(app, KnownIssue(title="Skrivarfel", created_by_id=admin.id))
    persist(app, Alert(kind="spike", key="spike:unit:1:day", title="Fler rapporter",
                       raised_at=utcnow()))
    issues = client.get("/api/v1/known-issues?status=open", headers=bearer(token)).get_json()
    assert [i["title"] for i in issues["known_issues"]] == ["Skrivarfel"]
    assert issues["total"] == 1
    alerts = client.get("/api/v1/alerts", headers=bearer(token)).get_json()["alerts"]
    assert [a["title"] for a in alerts] == ["Fler rapporter"]
    assert alerts[0]["raised_at"].endswith("Z")  # RFC 3339, in UTC


def test_the_export_streams_jsonl_or_csv_and_is_audited(app, client, token, make_report):
    make_report()
    make_report("Skrivaren fungerar inte alls.", area="printing")
    jsonl = client.get("/api/v1/export?area=printing", headers=bearer(token))
    assert jsonl.mimetype == "application/jsonl"
    assert len(jsonl.data.decode().splitlines()) == 1
    csv = client.get("/api/v1/export?format=csv", headers=bearer(token))
    assert csv.mimetype == "text/csv" and len(csv.data.decode().splitlines()) == 3
    exports = events(app, "export.reports")
    assert [e.details["rows"] for e in exports] == [1, 2]
    assert all(e.actor_label.startswith("api token 1") for e in exports)


def test_fhir_gives_one_adverse_event_or_a_bundle_valid_r4_and_audited(app, client, token,
                                                                       make_report):
    make_report()
    printing = make_report("Skrivaren fungerar inte alls.", area="printing")
    one = client.get(f"/api/v1/fhir/AdverseEvent/{printing}", headers=bearer(token))
    assert one.status_code == 200 and one.mimetype == "application/fhir+json"
    assert_valid(one.get_json())
    bundle = client.get("/api/v1/fhir/AdverseEvent?area=printing", headers=bearer(token))
    assert bundle.mimetype == "application/fhir+json"
    document = json.loads(bundle.data)
    assert_valid_bundle(document)
    assert [entry["resource"]["id"] for entry in document["entry"]] == [
        one.get_json()["id"]]
    exports = events(app, "export.fhir")
    assert [e.details["rows"] for e in exports] == [1, 1]
    assert all(e.actor_label.startswith("api token 1") for e in exports)


def test_fhir_refuses_an_unknown_report_and_project_as_problems(client, token, make_report):
    report_id = make_report()
    assert_problem(client.get("/api/v1/fhir/AdverseEvent/99999", headers=bearer(token)),
                   404, "not-found")
    assert_problem(client.get(f"/api/v1/fhir/AdverseEvent/{report_id}?project=x!",
                              headers=bearer(token)), 422, "validation")


# Tokens -------------------------------------------------------------------------------------

def test_a_token_is_stored_only_as_a_keyed_hash(app, token):
    with app.app_context():
        stored = db.session.scalar(select(ApiToken))
        assert token not in (stored.token_hash, stored.prefix)
        assert stored.token_hash == token_hash(token) and token.startswith(stored.prefix)
    [event] = events(app, "api_token.create")
    assert event.details["scopes"] == ["export.deidentified", "triage"]
    assert token not in str(event.details)


def test_use_moves_the_last_used_time_at_most_once_a_minute(app, token):
    with app.app_context():
        first = authenticate(token).last_used_at
        assert authenticate(token).last_used_at == first
        later = authenticate(token, now=first + LAST_USED_GRANULARITY).last_used_at
        assert later == first + LAST_USED_GRANULARITY


@pytest.mark.parametrize("state", ["unknown", "revoked", "expired", "scope"])
def test_a_refused_token_is_audited(app, client, admin, token, state):
    secret = token
    if state == "unknown":
        secret = "vaka_" + secrets.token_urlsafe(32)
    elif state == "scope":
        secret = new_token(app, admin, {"export.aggregate"})
    else:
        with app.app_context():
            stored = db.session.scalar(select(ApiToken))
            if state == "revoked":
                stored.revoked_at = utcnow()
            else:
                stored.expires_at = utcnow() - timedelta(seconds=1)
            db.session.commit()
    response = client.get("/api/v1/alerts", headers=bearer(secret))
    assert_problem(response, 403 if state == "scope" else 401,
                   "forbidden" if state == "scope" else "unauthenticated")
    if state != "scope":
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    [event] = events(app, "api_token.failure")
    assert event.details["reason"] == state


def test_no_token_is_not_audited_but_refused(app, client):
    assert_problem(client.get("/api/v1/alerts"), 401, "unauthenticated")
    assert_problem(client.get("/api/v1/alerts", headers={"Authorization": "Basic eDp5"}), 401,
                   "unauthenticated")
    assert events(app, "api_token.failure") == []


def test_the_admin_page_shows_a_new_token_once_and_revokes_it(app, client, admin, login):
    login(admin)
    page = client.post("/admin/tokens", data={"system": "Cosmic", "scopes": ["triage"],
                                              "lifetime_days": "90"})
    assert page.status_code == 200
    secret = re.search(rb'class="token-secret">(vaka_[\w-]+)<', page.data).group(1).decode()
    assert client.get("/api/v1/alerts", headers=bearer(secret)).status_code == 200
    listing = client.get("/admin/tokens")
    assert secret.encode() not in listing.data and b"Cosmic" in listing.data
    assert client.post("/admin/tokens/1/revoke").status_code == 302
    assert_problem(client.get("/api/v1/alerts", headers=bearer(secret)), 401, "unauthenticated")
    assert [e.action for e in events(app) if e.action.startswith("api_token")] == [
        "api_token.create", "api_token.revoke", "api_token.failure"]
    with app.app_context():
        token = db.session.get(ApiToken, 1)
        assert token.expires_at - token.created_at == timedelta(days=90)


@pytest.mark.parametrize("data", [
    {"system": "", "scopes": ["triage"], "lifetime_days": "30"},
    {"system": "Cosmic", "lifetime_days": "30"},
    {"system": "Cosmic", "scopes": ["everything"], "lifetime_days": "30"},
    {"system": "Cosmic", "scopes": ["triage"], "lifetime_days": "9999"},
])
def test_the_admin_page_refuses_a_bad_token_and_keeps_what_was_typed(app, client, admin,
                                                                     login, data):
    login(admin)
    page = client.post("/admin/tokens", data=data)
    assert page.status_code == 400 and b"token-secret" not in page.data
    with app.app_context():
        assert db.session.scalar(select(ApiToken)) is None


@pytest.mark.parametrize("app_config", [{"RATELIMIT_ENABLED": True,
                                         "API_AUTH_FAILURE_LIMIT_PER_ADDRESS": "3 per minute"}])
def test_refused_tokens_are_throttled_like_logins(client, token):
    wrong = bearer("vaka_" + secrets.token_urlsafe(32))
    for _ in range(3):
        assert client.get("/api/v1/alerts", headers=wrong).status_code == 401
    assert_problem(client.get("/api/v1/alerts", headers=wrong), 429, "rate-limited")


@pytest.mark.parametrize("app_config", [{"RATELIMIT_ENABLED": True,
                                         "API_AUTH_FAILURE_LIMIT_PER_ADDRESS": "3 per minute"}])
def test_a_working_token_is_never_counted(client, token):
    for _ in range(5):
        assert client.get("/api/v1/alerts", headers=bearer(token)).status_code == 200


# Problems everywhere under /api/ -----------------------------------------------------------

def test_unknown_paths_and_methods_are_problems_not_pages(client):
    assert_problem(client.get("/api/v1/nothing"), 404, "not-found")
    assert_problem(client.get("/api/v2/reports"), 404, "not-found")
    response = client.delete("/api/v1/alerts")
    assert_problem(response, 405, "method-not-allowed")
    assert "GET" in response.headers["Allow"]
    assert_problem(client.get("/api/v1/alerts?x=%00"), 400, "malformed-request")


def test_a_server_error_is_a_problem_too(app):
    def boom():
        raise RuntimeError("a bug")

    app.add_url_rule("/api/v1/boom", "boom", boom)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    assert_problem(app.test_client().get("/api/v1/boom"), 500, "server-error")


def test_pages_outside_the_api_keep_their_html_errors(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404 and response.mimetype == "text/html"


# The description ----------------------------------------------------------------------------

def test_the_document_is_openapi_3_1_with_problems_for_every_error(client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"] == "3.1.0"
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            statuses = set(operation["responses"])
            assert {"404", "405", "413", "422", "429", "500"} <= statuses, (method, path)
            for status, response in operation["responses"].items():
                if int(status) >= 400:
                    assert list(response["content"]) == [PROBLEM_MEDIA_TYPE]
            if "x-scope" in operation:
                assert operation["security"] == [{"bearer": []}]
                assert {"401", "403"} <= statuses


def test_the_reference_page_describes_every_operation_and_problem_type(client):
    document = client.get("/api/v1/openapi.json").get_json()
    page = client.get("/api/v1/reference")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    ids = set(re.findall(r' id="([^"]+)"', html))
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            assert operation["operationId"] in ids
            assert f"<code>{method.upper()} {path}</code>" in html
    for kind in ErrorKind:
        assert f"problem-{kind}" in ids
    # A real problem's type URI points at its section; every link within the page lands.
    problem = assert_problem(client.get("/api/v1/reports"), 401, "unauthenticated")
    assert problem["type"].split("#")[1] in ids
    assert set(re.findall(r'href="#([^"]+)"', html)) <= ids
    assert '<a href="#schema-NewReport"><code>NewReport</code></a>' in html
    sources = re.findall(r'(?:src|href)="([^"]*)"', html)
    assert sources and all(s.startswith("#") or (s.startswith("/") and not s.startswith("//"))
                           for s in sources), "nothing is loaded from elsewhere"


def test_the_reference_writes_types_in_words():
    schemas = {"A.f179fd8.Area": {"enum": ["printing", "other"], "type": "string"},
               "A.f179fd8.UnitOut": {"properties": {"id": {"type": "integer"}}}}
    words = [(part.text, part.anchor) for part in type_text({"anyOf": [
        {"type": "array", "items": {"$ref": "#/components/schemas/A.f179fd8.UnitOut"}},
        {"$ref": "#/components/schemas/A.f179fd8.Area"}, {"type": "null"}]}, schemas)]
    assert "".join(text for text, _ in words) == \
        "array of A.UnitOut or one of printing, other or null"
    assert ("A.UnitOut", "schema-A-UnitOut") in words
    assert type_text({"type": "string", "format": "date"}, {})[0].text == "string (date)"


# The quick report link ------------------------------------------------------------------------

def test_the_quick_report_link_fills_in_unit_and_area(client, unit):
    page = client.get(f"/?unit={unit.id}&area=printing").data.decode()
    assert f'<option selected value="{unit.id}">' in page
    assert '<option selected value="printing">' in page


@pytest.mark.parametrize("query", ["unit=999&area=kitchen", "unit=abc&area=", "unit=&x=1"])
def test_the_quick_report_link_ignores_unknown_values(client, unit, query):
    response = client.get(f"/?{query}")
    assert response.status_code == 200
    page = response.data.decode()
    assert f'<option selected value="{unit.id}">' not in page
    assert '<option selected value="other">' in page


def test_the_admin_unit_page_shows_its_quick_link(client, admin, login, unit):
    login(admin)
    page = client.get(f"/admin/units/{unit.id}").data.decode()
    assert f"http://localhost/?unit={unit.id}" in page


def test_reports_sent_through_the_api_and_the_form_are_the_same_rows(app, client, unit):
    client.post("/api/v1/reports", json=report_body(unit.id, impact="near_miss"))
    with app.app_context():
        report = db.session.scalar(select(Report))
        assert (report.kind, report.impact, report.status) == ("incident", "near_miss", "new")
        assert report.occurred_at.minute == 0  # anonymous: only the hour is kept
