"""Every route called by every role, against the allow/deny table `EXPECTED`.

The table, in tests/security/helpers.py, is deliberately not derived from
`app.auth.access.PERMISSIONS`: it states the policy a second time, so a mistake in
either shows up. A route without an entry fails `test_every_route_is_in_the_table`.
"""

import itertools
import re
from datetime import timedelta
from pathlib import Path

import pytest
from werkzeug.security import generate_password_hash

from app.api.problems import API_PREFIX
from app.auth.access import can, permission_required, permission_table
from models import Alert, ApiToken, EmergingIssue, FailedJob, KnownIssue, ModelVersion, User, utcnow
from tests.helpers import PASSWORD, persist
from tests.security.helpers import CALLERS, EXPECTED

_alert_keys = itertools.count()
ARGUMENT = re.compile(r"<(?:(\w+)(?:\(([^)]*)\))?:)?(\w+)>")


def app_routes(app) -> set[tuple[str, str]]:
    """Every route but the API's operations, which take a token, not a login
    (tests/security/test_api_permissions.py); its description is a page like the others."""
    return {(method, rule.rule) for rule in app.url_map.iter_rules()
            if rule.endpoint != "static" and not _api_operation(rule.rule)
            for method in rule.methods - {"HEAD", "OPTIONS"}}


def _api_operation(rule: str) -> bool:
    return rule.startswith(API_PREFIX) and rule not in ("/api/v1/openapi.json",
                                                        "/api/v1/reference")


def test_every_route_is_in_the_table(app):
    routes = app_routes(app)
    assert sorted(routes - set(EXPECTED)) == [], "add the new routes to EXPECTED"
    assert sorted(set(EXPECTED) - routes) == [], "remove the routes that are gone"


#: One password hash for every target account: hashing is the slow part of a test.
TARGET_HASH = generate_password_hash(PASSWORD)


@pytest.fixture
def path_for(app, make_unit, make_report):
    """Builds a path for a rule from new objects; a report belongs to `owner`."""
    def target_user(_owner: User | None) -> int:
        return persist(app, User(email="target@example.org", role="staff",
                                 password_hash=TARGET_HASH)).id

    def model_version(_owner: User | None) -> int:
        return persist(app, ModelVersion(algorithm="stand-in", artifact=b"")).id

    factories = {
        "report_id": lambda owner: make_report(reporter=owner),
        "unit_id": lambda _owner: make_unit("Akuten").id,
        "user_id": target_user,
        "version_id": model_version,
        "code": lambda _owner: "en",
        "alert_id": lambda _owner: persist(app, Alert(
            kind="spike", key=f"spike:unit:{next(_alert_keys)}:day", title="Target",
            raised_at=utcnow())).id,
        "issue_id": lambda _owner: persist(app, KnownIssue(
            title="Target", created_by_id=target_user(None))).id,
        "group_id": lambda _owner: persist(app, EmergingIssue(title="Target")).id,
        "token_id": lambda _owner: persist(app, ApiToken(
            system="Target", token_hash=f"target-{next(_alert_keys)}", prefix="vaka_t",
            scopes=["triage"], created_by_id=target_user(None),
            expires_at=utcnow() + timedelta(days=1))).id,
        "failed_id": lambda _owner: persist(app, FailedJob(
            name="sweep_job", args=[], error="Target", failed_hour=utcnow())).id,
    }

    def build(rule: str, owner: User | None) -> str:
        def value(match: re.Match) -> str:
            converter, options, name = match.groups()
            if converter == "any":  # e.g. any(enable, disable): the first choice
                return options.split(",")[0].strip()
            return str(factories[name](owner))

        return ARGUMENT.sub(value, rule)

    return build


def denied(response, role: str) -> bool:
    if role == "anonymous":
        return response.status_code == 302 and "/login?next=" in response.headers["Location"]
    return response.status_code == 403


@pytest.mark.parametrize("role", CALLERS)
@pytest.mark.parametrize(("method", "rule"), sorted(EXPECTED))
def test_route_allows_exactly_the_expected_roles(client, make_user, login, path_for, role,
                                                method, rule):
    user = None if role == "anonymous" else make_user(role)
    if user is not None:
        login(user)
    path = path_for(rule, user)
    response = client.open(path, method=method, data={})
    if role in EXPECTED[(method, rule)]:
        assert not denied(response, role), f"{role} was refused {method} {path}"
        assert response.status_code not in (403, 404, 405), response.status_code
        # /readyz says 503 when a dependency is not ready (here there is no model).
        assert response.status_code < 500 or rule == "/readyz"
    else:
        assert denied(response, role), (
            f"{role} got {response.status_code} for {method} {path}, expected a refusal")


# The permission table itself --------------------------------------------------------------

def test_readme_shows_the_permission_table_of_the_code():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert permission_table() in readme, (
        "the README's permission table is stale: paste `flask --app app permissions`")


def test_permissions_command_prints_the_table(runner):
    result = runner.invoke(args=["permissions"])
    assert result.exit_code == 0
    assert result.output.strip() == permission_table()
    assert "| `triage` |   | ✓ |   |   |" in result.output


def test_a_misspelt_permission_fails_loudly(app):
    with pytest.raises(ValueError, match="unknown permission 'triag'"):
        permission_required("triag")
    with app.test_request_context(), pytest.raises(ValueError, match="unknown permission"):
        can("admin.everything")

