"""CSRF on every route: a POST without this session's token is refused and changes nothing.

tests/test_csrf.py checks a few paths without a token; here every POST route
of the URL map is attacked by every role, with no token, a forged token,
another session's valid token and a text/plain body, and over HTTPS with a
valid token from a foreign page; the database and the session are compared
before and after. The same body with the right token does change something,
so the refusals are the CSRF check's. A GET is never checked for a token, so
no GET may change data.
"""

import pytest

from tests.helpers import PASSWORD, form_data
from tests.security.helpers import (
    CSRF_ERROR,
    EXPECTED,
    ROLES,
    STRONG_PASSWORD,
    app_rules,
    csrf_token,
    rule_id,
    rule_urls,
    send,
    session_data,
    snapshot,
    url_for_rule,
)

POST_RULES = app_rules("POST")
GET_RULES = app_rules("GET")
FOREIGN_PAGE = "https://evil.example/innocent-looking-page"


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": True}


def attack_body(endpoint: str, world) -> dict[str, object]:
    """What a forged form would send: a request that changes something if it got through.

    A route not listed gets an empty body (its address says what to do);
    `test_the_same_post_with_the_sessions_token_changes_something` fails for a
    new route until it has a body here that would change something.
    """
    message = {"body": "Sent by a forged form"}
    password = {"new": STRONG_PASSWORD, "confirm": STRONG_PASSWORD}
    bodies = {
        "reports.new": form_data(world.unit_id),
        "reports.status": {"receipt": world.receipt, **message, "send": "Send answer"},
        "reports.own_detail": message,
        "triage.detail": {"categories": ["safety"], "status": "closed",
                          "assignee": str(world.users["coordinator"].id),
                          "consequence": "4", "likelihood": "4"},
        "triage.send_message": message,
        "triage.handoffs": {"lex_maria": "y", "vendor_ticket": "FORGED-1"},
        "triage.comment": message,
        "triage.bulk": {"report_ids": [str(world.named_report_id)], "action": "status",
                        "status": "closed"},
        "known_issues.new": {"title": "Forged known issue"},
        "known_issues.edit": {"title": "Renamed by a forged form"},
        "known_issues.resolution": {"note": "Resolved by a forged form"},
        "known_issues.merge_issue": {"target": str(world.other_known_issue_id)},
        "known_issues.split_issue": {"split-report_ids": str(world.anonymous_report_id),
                                     "split-title": "Split by a forged form"},
        "known_issues.detach": {"report_id": str(world.anonymous_report_id)},
        "known_issues.attach": {"issue": str(world.other_known_issue_id),
                                "report_ids": str(world.named_report_id)},
        "alerts.linking": {"known_issue": str(world.other_known_issue_id)},
        "alerts.notifications": {"notify_alerts": "y"},
        "known_issues.update": {"body": "Posted by a forged form"},
        "emerging.confirm_group": {"title": "Confirmed by a forged form"},
        "emerging.merge_group": {"target": str(world.other_known_issue_id)},
        "emerging.split_group": {"split-report_ids": str(world.named_report_id)},
        "emerging.move_out_report": {"report_id": str(world.named_report_id)},
        "auth.login": {"email": world.users["admin"].email, "password": PASSWORD},
        "auth.password": {"current": PASSWORD, **password},
        "i18n.choose_language": {"next": "/status"},
        "admin.new_user": {"email": "forged@example.org", "role": "admin", **password},
        "admin.api_tokens": {"system": "Forged system", "scopes": ["triage"],
                             "lifetime_days": "30"},
        "admin.user_role": {"role": "admin"},
        "admin.user_password": password,
        "admin.units": {"name": "Forged unit"},
        "admin.unit": {"name": "Renamed by a forged form"},
    }
    return bodies.get(endpoint, {})


def allowed_role(rule) -> str:
    """A role that may send this POST, from the permission table `EXPECTED`."""
    roles = EXPECTED.get(("POST", rule.rule))
    if roles is None:
        pytest.fail(f"{rule.rule} is not in EXPECTED in tests/security/helpers.py")
    return next(role for role in ("staff", "coordinator", "admin", "researcher", "anonymous")
                if role in roles).replace("anonymous", "visitor")


@pytest.mark.parametrize("rule", POST_RULES, ids=rule_id)
def test_post_without_the_sessions_token_is_refused_and_changes_nothing(app, world, browser,
                                                                       rule):
    body = attack_body(rule.endpoint, world)
    attempts = {
        "no token": body,
        "a forged token": {**body, "csrf_token": "IjAwMDAi.forged.signature"},
        "another session's token": {**body, "csrf_token": csrf_token(app.test_client())},
    }
    for role in ROLES:
        client = browser(role)
        csrf_token(client)  # the victim's session has a token of its own
        before, session_before = snapshot(app), session_data(app, client)
        for url in rule_urls(app, rule, world):
            for name, data in attempts.items():
                response = client.post(url, data=data)
                assert response.status_code == 400, (role, url, name)
                assert CSRF_ERROR in response.get_data(as_text=True), (role, url, name)
            plain = client.post(url, data="email=x&password=y", content_type="text/plain")
            assert plain.status_code == 400, (role, url)
        assert snapshot(app) == before, role
        assert session_data(app, client) == session_before, role


@pytest.mark.parametrize("rule", POST_RULES, ids=rule_id)
def test_the_same_post_with_the_sessions_token_changes_something(app, world, browser, rule):
    """The refusals above are the CSRF check's, and the forged bodies are real attacks."""
    client = browser(allowed_role(rule))
    data = {**attack_body(rule.endpoint, world), "csrf_token": csrf_token(client)}
    before, session_before = snapshot(app), session_data(app, client)
    response = client.post(url_for_rule(app, rule, world), data=data)
    assert CSRF_ERROR not in response.get_data(as_text=True)
    assert response.status_code < 400
    assert (snapshot(app), session_data(app, client)) != (before, session_before)


@pytest.mark.parametrize("rule", POST_RULES, ids=rule_id)
def test_over_https_a_valid_token_sent_from_another_site_is_refused(app, world, browser, rule):
    client = browser("coordinator")
    data = {**attack_body(rule.endpoint, world), "csrf_token": csrf_token(client)}
    before = snapshot(app)
    for headers in ({"Referer": FOREIGN_PAGE}, {}):
        response = client.post(url_for_rule(app, rule, world), data=data, headers=headers,
                               base_url="https://localhost")
        assert response.status_code == 400, headers
        assert CSRF_ERROR in response.get_data(as_text=True), headers
    assert snapshot(app) == before


@pytest.mark.parametrize("rule", GET_RULES, ids=rule_id)
def test_a_get_changes_no_data(app, world, browser, rule):
    """No token guards a GET, so a link or an <img> on another site must change nothing.

    Reading is recorded in the audit log, which is therefore left out.
    """
    url = url_for_rule(app, rule, world)
    before = snapshot(app, skip=("audit_event",))
    for role in ROLES:
        response = send(browser(role), "GET", url)
        # /readyz says 503 when a dependency is not ready (here there is no model).
        assert response.status_code < 500 or rule.rule == "/readyz", role
    assert snapshot(app, skip=("audit_event",)) == before
