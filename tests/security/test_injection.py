"""SQL injection: hostile strings in every filter, search and free-text field.

The filter parameters are not listed by hand: every GET form on every page a
role can open is found and each of its fields gets every string, both at the
form's target and at the page itself. The answer must be 400 with a clear
error or 200 with no results, never 500, and afterwards every table still
exists with the same rows.
"""

import csv
import io
import re
from urllib.parse import quote

import pytest
from sqlalchemy import inspect, select
from werkzeug.routing import IntegerConverter

from models import Report, db
from tests.helpers import PASSWORD, form_data
from tests.security.helpers import (
    ROLES,
    app_rules,
    form_targets,
    parse_forms,
    row_counts,
    send,
    send_every_form,
    table_rows,
    url_for_rule,
)

INJECTIONS = [
    "' OR 1=1 --",
    "' OR '1'='1",
    '" OR ""="',
    "1; DROP TABLE report",
    "1); DROP TABLE report; --",
    "%' UNION SELECT id, email, password_hash FROM \"user\" --",
    "%",
    "_",
    "\\",
    "2026-01-01' OR 1=1 --",
    "-1",
    "99999999999999999999999",
    "Ωmega 日本語 🙂 \u202e\u200b",
    "\U0001f4a9" * 300,
]
NUL_BYTES = ["\x00", "safety\x00", "admin\x00' OR 1=1 --"]
#: Every filter page is also asked for a page number.
EXTRA_PARAMETERS = ("page",)
#: Fields that say how to export, not which reports: an accepted value keeps every row.
NOT_FILTERS = {"project"}
#: Pages that must be found to have filters, with the role that opens them.
EXPORTS = {"/export/", "/export/reports", "/export/codebook.csv", "/export/aggregates.csv"}
KNOWN_FILTER_TARGETS = {"coordinator": {"/triage/", *EXPORTS}, "researcher": EXPORTS,
                        "admin": {"/admin/audit"}}
#: The audit log may grow while attacking: every export is recorded.
GROWS = ("audit_event",)


@pytest.fixture
def app_config():
    return {"PROPAGATE_EXCEPTIONS": False}  # a crash is answered 500, as in production


def results(response) -> int:
    """Rows of results in an HTML table or a CSV download."""
    body = response.get_data(as_text=True)
    if response.mimetype == "text/csv":
        return len(list(csv.reader(io.StringIO(body)))) - 1
    return table_rows(body)


def filter_fields(app, world, client) -> dict[str, tuple[set[str], set[str]]]:
    """Every target of a GET form the client can see: its fields and its checkboxes."""
    found: dict[str, tuple[set[str], set[str]]] = {}
    for rule in app_rules("GET"):
        url = url_for_rule(app, rule, world)
        response = send(client, "GET", url)
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        for form in parse_forms(response.get_data(as_text=True)):
            if form.method != "get":
                continue
            names = set(form.field_names()) | set(EXTRA_PARAMETERS)
            checkboxes = {c.name for c in form.controls if c.type == "checkbox"}
            for target in {*form_targets(url, form), url}:
                fields, boxes = found.setdefault(target, (set(), set()))
                fields |= names
                boxes |= checkboxes
    return found


def attack_filters(app, world, browser, role: str, values: list[str]) -> list[str]:
    """Send every value in every filter field; returns what went wrong, one line each.

    A refusal of a field the form shows must say what is wrong; one of the extra
    parameters (not in the form) is only checked not to crash or mislead.
    """
    client = browser(role)
    targets = filter_fields(app, world, client)
    assert KNOWN_FILTER_TARGETS.get(role, set()) <= set(targets)
    problems = []
    for target, (fields, checkboxes) in sorted(targets.items()):
        baseline = results(send(client, "GET", target))
        for name in sorted(fields):
            # Any value ticks a checkbox: the results are those of the ticked box.
            ticked = (results(send(client, "GET", target, query_string={name: "y"}))
                      if name in checkboxes else None)
            for value in values:
                response = send(client, "GET", target, query_string={name: value})
                where = f"{target}?{name}={value[:40]!r}"
                expected = ticked if name in checkboxes else baseline if name in NOT_FILTERS \
                    else 0
                if response.status_code == 400:
                    if name not in EXTRA_PARAMETERS and not explained(response):
                        problems.append(f"{where}: 400 without an error message")
                elif response.status_code != 200:
                    problems.append(f"{where}: answered {response.status_code}")
                elif results(response) != expected:
                    problems.append(f"{where}: {results(response)} results, not {expected}")
    return problems


def explained(response) -> bool:
    return 'class="error"' in response.get_data(as_text=True)


def assert_tables_intact(app, before: dict[str, int]) -> None:
    with app.app_context():
        assert set(before) <= set(inspect(db.engine).get_table_names())
    after = row_counts(app)
    assert {t: n for t, n in after.items() if t not in GROWS} == {
        t: n for t, n in before.items() if t not in GROWS}


@pytest.mark.parametrize("role", ROLES)
def test_injection_strings_in_every_filter(app, world, browser, role):
    before = row_counts(app)
    problems = attack_filters(app, world, browser, role, INJECTIONS)
    assert not problems, "\n".join(problems)
    assert_tables_intact(app, before)


@pytest.mark.parametrize("role", ROLES)
def test_nul_bytes_in_every_filter(app, world, browser, role):
    before = row_counts(app)
    problems = attack_filters(app, world, browser, role, NUL_BYTES)
    assert not problems, "\n".join(problems)
    assert_tables_intact(app, before)


@pytest.mark.parametrize(("role", "path"), [("coordinator", "/triage/"),
                                            ("admin", "/admin/audit")])
def test_a_bad_page_number_is_explained(world, browser, role, path):
    response = send(browser(role), "GET", path, query_string={"page": "' OR 1=1 --"})
    assert response.status_code == 400
    assert explained(response)


@pytest.mark.parametrize("rule", [r for r in app_rules("GET") + app_rules("POST")
                                  if r.arguments], ids=lambda rule: rule.endpoint)
def test_injection_in_an_address_part_is_not_found(app, world, browser, rule):
    method = "GET" if "GET" in rule.methods else "POST"
    only_numbers = all(isinstance(rule._converters[name], IntegerConverter)
                       for name in rule.arguments)
    before = row_counts(app)
    for value in ("1 OR 1=1", "1;DROP TABLE report", "-1", "1e3", "%00"):
        path = re.sub(r"<[^>]+>", quote(value, safe="%"), rule.rule)
        response = send(browser("coordinator"), method, path)
        assert response.status_code < 500, path
        if only_numbers:
            assert response.status_code == 404, path
    assert_tables_intact(app, before)


# Free text is stored as sent ------------------------------------------------------------

def stored_report(app) -> Report:
    with app.app_context():
        report = db.session.scalar(select(Report).order_by(Report.id.desc()))
        db.session.expunge(report)
        return report


@pytest.mark.parametrize("field", ["text", "suggestion"])
def test_injection_strings_in_a_report_are_stored_as_sent(app, world, client, field):
    for value in INJECTIONS[:6] + INJECTIONS[-2:]:
        text = f"Injection probe {value} end"
        count = row_counts(app)["report"]
        response = client.post("/", data=form_data(world.unit_id, **{field: text}))
        assert response.status_code == 200, value
        assert getattr(stored_report(app), field) == text
        assert row_counts(app)["report"] == count + 1


@pytest.mark.parametrize("field", ["text", "suggestion"])
def test_a_nul_character_in_a_report_is_refused_or_stored(app, world, client, field):
    text = "Injection probe \x00 end"
    count = row_counts(app)["report"]
    response = client.post("/", data=form_data(world.unit_id, **{field: text}))
    assert response.status_code in {200, 400}
    if response.status_code == 200:
        assert getattr(stored_report(app), field) == text
    else:
        assert row_counts(app)["report"] == count
        assert explained(response)


def test_a_nul_character_in_any_form_is_refused_or_stored(app, world, browser):
    crashed = sorted({target for _role, target, response in
                      send_every_form(app, world, browser, "Injection probe \x00 end")
                      if response.status_code >= 500})
    assert not crashed, ", ".join(crashed)


@pytest.mark.parametrize("value", [
    *INJECTIONS[:6],
    *NUL_BYTES,
])
def test_injection_strings_do_not_log_in(app, world, client, value):
    admin = world.users["admin"].email
    for email, password in ((value, value), (admin + value, PASSWORD), (admin, value)):
        response = client.post("/login", data={"email": email, "password": password})
        if response.status_code == 400:  # a NUL is refused before the login is tried
            assert explained(response)
        else:
            assert response.status_code == 200, (email, password)
            assert "Wrong e-mail or password" in response.get_data(as_text=True)
    assert client.get("/admin/audit").status_code == 302


@pytest.mark.parametrize("value", [*INJECTIONS[:6], *NUL_BYTES])
def test_injection_strings_open_no_receipt(app, world, client, value):
    for code in (value, world.receipt[:8] + value, world.receipt + value):
        response = client.post("/status", data={"receipt": code})
        assert response.status_code == 400, code
        assert 'class="facts"' not in response.get_data(as_text=True)
