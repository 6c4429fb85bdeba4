"""Every API operation called with a token of every scope, against the table `API_EXPECTED`.

A token's scopes are the permission names of `app.auth.access.PERMISSIONS`, so the
scopes tried are that table's; which operation needs which is stated here a second
time (like tests/security/helpers.py EXPECTED for the pages), so a mistake in either
shows up. An operation of the OpenAPI document without an entry fails the first test.
"""

import secrets

import pytest

from app.api import openapi_document
from app.auth.access import PERMISSIONS
from models import Alert, KnownIssue, utcnow
from tests.api_helpers import bearer, new_token
from tests.helpers import persist

#: (method, path) -> the one scope that lets a token in; None: no token is needed.
API_EXPECTED = {
    ("POST", "/api/v1/reports"): None,
    ("POST", "/api/v1/receipt"): None,
    ("GET", "/api/v1/reports"): "triage",
    ("GET", "/api/v1/reports/{report_id}"): "triage",
    ("GET", "/api/v1/known-issues"): "triage",
    ("GET", "/api/v1/alerts"): "triage",
    ("GET", "/api/v1/export"): "export.deidentified",
    ("GET", "/api/v1/fhir/AdverseEvent"): "export.deidentified",
    ("GET", "/api/v1/fhir/AdverseEvent/{report_id}"): "export.deidentified",
}
#: Sending a report in someone's name is the submission's one scoped variant.
NAMED_SUBMISSION = "api.report_for_user"


def test_every_operation_is_in_the_table(app):
    with app.app_context():
        document = openapi_document(app)
    described = {(method.upper(), path): operation.get("x-scope")
                 for path, operations in document["paths"].items()
                 for method, operation in operations.items()}
    assert described == API_EXPECTED


@pytest.fixture
def world(app, make_user, make_report):
    """An admin to make tokens, a staff member to name, a report, a known issue, an alert."""
    admin = make_user("admin")
    staff = make_user("staff")
    report_id = make_report()
    persist(app, KnownIssue(title="Skrivarfel", created_by_id=admin.id))
    persist(app, Alert(kind="spike", key="spike:unit:1:day", title="Fler", raised_at=utcnow()))
    return {"admin": admin, "staff": staff, "report_id": report_id}


def call(client, method: str, path: str, headers: dict, world: dict, named: bool = False):
    if method == "GET":
        return client.get(path.format(report_id=world["report_id"]), headers=headers)
    body = {"receipt": "V-000001-AAAA-AAAA-AAAA-AAAA-AAAA"} if path.endswith("receipt") else {
        "text": "Skrivaren skriver inte ut remisserna.", "unit_id": 1,
        "idempotency_key": secrets.token_urlsafe(24),
        **({"reporter_email": world["staff"].email} if named else {})}
    return client.post(path, json=body, headers=headers)


@pytest.mark.parametrize("scope", sorted(PERMISSIONS))
@pytest.mark.parametrize(("method", "path"), sorted(API_EXPECTED))
def test_operation_allows_exactly_its_scope(app, client, world, scope, method, path):
    token = new_token(app, world["admin"], {scope})
    response = call(client, method, path, bearer(token), world)
    needed = API_EXPECTED[(method, path)]
    if needed is None or needed == scope:
        assert response.status_code not in (401, 403), (scope, response.get_json())
        assert response.status_code < 500
    else:
        assert response.status_code == 403, (scope, response.status_code)


@pytest.mark.parametrize(("method", "path"), sorted(API_EXPECTED))
def test_operation_without_a_token(client, world, method, path):
    response = call(client, method, path, {}, world)
    if API_EXPECTED[(method, path)] is None:
        assert response.status_code not in (401, 403)
    else:
        assert response.status_code == 401


@pytest.mark.parametrize("scope", sorted(PERMISSIONS))
def test_a_report_in_someones_name_needs_exactly_its_scope(app, client, world, scope):
    token = new_token(app, world["admin"], {scope})
    response = call(client, "POST", "/api/v1/reports", bearer(token), world, named=True)
    assert response.status_code == (201 if scope == NAMED_SUBMISSION else 403)
