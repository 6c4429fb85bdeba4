"""The JSON API fuzzed from its own OpenAPI document with schemathesis.

Every operation gets valid and invalid requests (bodies, query strings, path ids), with
a token that holds every scope. No response may be a 5xx, and every response (problem
details included) must match the document: status code, media type, headers and
schema. Derandomized, so a run is repeatable; the whole run is counted and must reach
1,000 requests.
"""

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.api import openapi_document
from app.auth.access import PERMISSIONS
from models import Alert, KnownIssue, utcnow
from tests.api_helpers import bearer, new_token
from tests.helpers import persist

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance, negative_data_rejection]
REQUESTS_MIN = 1_000
#: Requests sent, per operation, over the whole run.
sent: dict[str, int] = {}


@pytest.fixture
def app_config():
    # Rate limits would answer 429 to a fuzzer; tests/test_api.py checks them.
    return {"RATELIMIT_ENABLED": False}


@pytest.fixture
def api_schema(app, make_user, make_report, make_unit):
    admin = make_user("admin")
    make_report()
    make_report("Skrivaren på avdelningen skriver inte ut remisser.", unit="Akuten")
    persist(app, KnownIssue(title="Skrivarfel", created_by_id=admin.id))
    persist(app, Alert(kind="spike", key="spike:unit:1:day", title="Fler rapporter",
                       raised_at=utcnow()))
    secret = new_token(app, admin, set(PERMISSIONS))
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
                                    deterministic=True, database="none")
    schema.config.headers = bearer(secret)
    return schema


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=90, derandomize=True, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
def test_every_operation_answers_as_documented(case, api_schema):
    sent[case.operation.label] = sent.get(case.operation.label, 0) + 1
    case.call_and_validate(headers=api_schema.config.headers, checks=CHECKS)


def test_the_fuzzer_sent_enough_requests_to_every_operation(app):
    """Runs after the fuzzing above (pytest keeps the file's order); alone, it has nothing
    to count."""
    if not sent:
        pytest.skip("counts the requests of test_every_operation_answers_as_documented")

    with app.app_context():
        document = openapi_document(app)
    operations = {f"{method.upper()} {path}"
                  for path, described in document["paths"].items()
                  for method in described}
    assert set(sent) == operations
    print(f"\nrequests per operation: {sent}, total {sum(sent.values())}")
    assert sum(sent.values()) >= REQUESTS_MIN, sent
