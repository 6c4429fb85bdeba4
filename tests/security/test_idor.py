"""IDOR: a report id or a receipt code that is not yours opens and changes nothing.

tests/test_access.py and test_permissions.py check status codes per role. Here
every route with a report id in its address, including routes added later, is
opened for a named and an anonymous report by everyone who has no business
with it there, and must neither show the report's text nor change anything.
"""

import pytest

from tests.security.helpers import (
    FORGED_CHANGE,
    SECRET_TEXT,
    anonymous_report,
    app_rules,
    log_in,
    redirects_to_login,
    rule_id,
    send,
    snapshot,
    url_for_rule,
)

REPORT_RULES = [rule for rule in app_rules("GET") + app_rules("POST")
                if "report_id" in rule.arguments]
#: Neither the report's author nor a coordinator.
OUTSIDERS = ("visitor", "other staff", "researcher", "admin")


def outsiders(rule) -> tuple[str, ...]:
    """Who must not reach the report this way: coordinators read every report, but only
    through triage; its author ("staff") follows it only through their own pages."""
    return (*OUTSIDERS, "staff" if rule.endpoint.startswith("triage.") else "coordinator")


@pytest.fixture
def outsider(app, world, browser):
    def open_as(who: str):
        if who != "other staff":
            return browser(who)
        client = app.test_client()
        log_in(client, world.other_staff)
        return client

    return open_as


def refused(who: str, response) -> bool:
    if who == "visitor" and redirects_to_login(response):
        return True
    return response.status_code in {403, 404}


def test_some_route_takes_a_report_id():
    assert REPORT_RULES


@pytest.mark.parametrize("report", ["named", "anonymous"])
@pytest.mark.parametrize("rule", REPORT_RULES, ids=rule_id)
def test_a_report_route_opened_by_an_outsider_shows_and_changes_nothing(
        app, world, outsider, rule, report):
    report_id = world.named_report_id if report == "named" else world.anonymous_report_id
    url = url_for_rule(app, rule, world, report_id=report_id)
    clients = {who: outsider(who) for who in outsiders(rule)}
    before = snapshot(app)
    for who, client in clients.items():
        for method in sorted(rule.methods & {"GET", "POST"}):
            response = send(client, method, url, data=FORGED_CHANGE if method == "POST" else None)
            assert refused(who, response), (who, method, response.status_code)
            assert SECRET_TEXT not in response.get_data(as_text=True), (who, method)
    assert snapshot(app) == before


# Receipts --------------------------------------------------------------------------------

def split(receipt: str) -> tuple[str, str]:
    """A receipt's reference (V-000012) and its secret (ABCD-EFGH-...)."""
    letter, number, secret = receipt.split("-", 2)
    return f"{letter}-{number}", secret


def status_of(client, code: str):
    return client.post("/status", data={"receipt": code})


def shows_report(response, reference: str) -> bool:
    page = response.get_data(as_text=True)
    return 'class="facts"' in page and f"<dd>{reference}</dd>" in page


@pytest.fixture
def second(app, world) -> str:
    """Another anonymous report's receipt code."""
    return anonymous_report(app, world.unit_id, "Another anonymous report, other unit")[1]


def test_each_receipt_opens_its_own_report(world, client, second):
    for receipt, other in ((world.receipt, second), (second, world.receipt)):
        response = status_of(client, receipt)
        assert response.status_code == 200
        assert shows_report(response, split(receipt)[0])
        assert not shows_report(response, split(other)[0])


def test_a_receipts_secret_opens_no_other_report(world, client, second):
    reference, secret = split(world.receipt)
    other_reference, other_secret = split(second)
    named = f"V-{world.named_report_id:06d}"
    for code in (f"{other_reference}-{secret}", f"{reference}-{other_secret}",
                 f"{named}-{secret}", f"{named}-{other_secret}"):
        response = status_of(client, code)
        assert response.status_code == 400, code
        assert 'class="facts"' not in response.get_data(as_text=True)


def near_misses(secret: str) -> list[str]:
    """The secret with one letter changed (first, middle, last), cut short or lengthened."""
    letters = [i for i, char in enumerate(secret) if char != "-"]

    def changed(i: int) -> str:
        return secret[:i] + ("A" if secret[i] != "A" else "B") + secret[i + 1:]

    return [*(changed(letters[n]) for n in (0, len(letters) // 2, -1)),
            secret[:-5], secret + "-AAAA", secret + "A", secret[5:]]


def test_the_right_reference_with_a_wrong_secret_is_refused(world, client):
    reference, secret = split(world.receipt)
    for wrong in near_misses(secret):
        response = status_of(client, f"{reference}-{wrong}")
        assert response.status_code == 400, wrong
        page = response.get_data(as_text=True)
        assert 'class="facts"' not in page
        assert "No report matches that receipt code" in page
    assert status_of(client, world.receipt).status_code == 200
