"""Ids from a request: a number no row can have is refused, in a URL (404), a query string
or a form (400), before any query; SQLite cannot even bind it (a 500 before)."""

import re

import pytest

from models import MAX_ID, EmergingIssue, KnownIssue, Report, db
from tests.helpers import persist

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


@pytest.mark.parametrize("query", ["emerging_issue", "after=1~", "group=issue&emerging_issue="])
def test_an_id_too_large_in_the_queues_query_string_is_refused(client, coordinator, query):
    separator = "" if query.endswith(("~", "=")) else "="
    answer = client.get(f"/triage/?{query}{separator}{TOO_LARGE}")
    assert answer.status_code == 400


def test_an_id_too_large_in_a_form_is_refused_and_changes_nothing(app, client, make_user, login,
                                                                 make_report):
    coordinator = make_user("coordinator")
    login(coordinator)
    report_id = make_report("Provsvaren syns inte i journalen.")
    issue = persist(app, KnownIssue(title="Provsvar saknas", created_by_id=coordinator.id))
    group = persist(app, EmergingIssue(title="provsvar", status="open", member_count=1))
    posts = {
        "/triage/bulk": {"report_ids": [TOO_LARGE], "action": "status", "status": "resolved"},
        "/known-issues/attach": {"issue": TOO_LARGE, "report_ids": [report_id]},
        f"/known-issues/{issue.id}/merge": {"target": TOO_LARGE},
        f"/known-issues/{issue.id}/split": {"report_ids": [TOO_LARGE], "title": "Del av felet"},
        f"/known-issues/{issue.id}/detach": {"report_id": TOO_LARGE},
        f"/emerging/{group.id}/merge": {"target": TOO_LARGE},
        f"/emerging/{group.id}/split": {"report_ids": [TOO_LARGE]},
        f"/emerging/{group.id}/move-out": {"report_id": TOO_LARGE},
    }
    for url, form in posts.items():
        answer = client.post(url, data=form)
        assert answer.status_code < 500, url
    with app.app_context():
        report = db.session.get(Report, report_id)
        assert (report.status, report.known_issue_id) == ("new", None)
        assert db.session.get(KnownIssue, issue.id).status == "open"
