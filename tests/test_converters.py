"""Ids in URLs: a number no row can have is a 404, on every route that takes one."""

import re

from app.converters import MAX_ID

TOO_LARGE = str(MAX_ID + 1)


def _url(rule: str, report_id: str) -> str:
    """The rule with its ids set to `report_id` and each `any(...)` part its first choice."""
    url = re.sub(r"<int:[^>]+>", report_id, rule)
    return re.sub(r"<any\(([^,)]+)[^>]*>", r"\1", url)


def test_an_id_too_large_for_any_row_is_not_found_on_every_route(app, make_user, login,
                                                                 client):
    login(make_user("admin", email="admin@example.org"))
    rules = [rule for rule in app.url_map.iter_rules() if "<int:" in rule.rule]
    assert len(rules) > 20
    for rule in rules:
        url = _url(rule.rule, TOO_LARGE)
        answer = client.get(url) if "GET" in rule.methods else client.post(url)
        assert answer.status_code == 404, url


def test_the_largest_id_a_row_can_have_still_matches(app):
    urls = app.url_map.bind("localhost")
    assert urls.match(f"/triage/reports/{MAX_ID}") == ("triage.detail", {"report_id": MAX_ID})
