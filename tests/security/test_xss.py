"""Stored and reflected XSS: every payload in every free-text field shows up escaped.

Data-driven: `STORES` lists the forms that store free text (and the pages that
must show it), `PAGES` the pages that show stored text, `REFLECTIONS` the
places that echo what was just sent. A new form or page is one line in a list.
Besides the lists, every form found on every page is filled with each payload
and sent, and every page is then read again by every role.
"""

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from markupsafe import escape
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from app.services.users import find_user
from models import MESSAGE_MAX, Report, Unit, db
from tests.helpers import RECEIPT, form_data
from tests.security.helpers import (
    ROLES,
    STRONG_PASSWORD,
    World,
    log_in,
    page_urls,
    send,
    send_every_form,
)

PAYLOADS = {
    "script": "<script>alert(1)</script>",
    "attribute": '"><img src=x onerror=alert(1)>',
    "single-quote": "'><svg onload=alert(1)>",
    "textarea": "</textarea><script>alert(1)</script>",
    "javascript-url": "javascript:alert(1)",
    "template": "{{7*7}} {% print 7*7 %}",
}
#: Markup of the payloads that would run if it reached a page unescaped.
LIVE_MARKUP = ("<script>alert", "<img src=x", "<img/src=x", "<svg onload", "<svg/onload",
               "</textarea><script",
               'href="javascript:', 'src="javascript:', 'action="javascript:')


def probe(payload: str) -> str:
    """The payload inside ordinary text long enough for every text field."""
    return f"XSS probe {payload} end of probe"


def assert_csp_forbids_inline_script(response: TestResponse) -> None:
    policy = response.headers["Content-Security-Policy"]
    directives = {name: sources for name, _, sources in
                  (part.strip().partition(" ") for part in policy.split(";"))}
    assert directives.get("script-src", directives.get("default-src")) == "'self'"
    assert directives.get("object-src") == "'none'"
    assert directives.get("base-uri") == "'none'"


def assert_safe_html(response: TestResponse, shown: str | None = None) -> None:
    """No payload markup is live; `shown`, if given, is on the page escaped."""
    assert response.status_code < 500
    assert response.mimetype == "text/html"
    assert_csp_forbids_inline_script(response)
    html = response.get_data(as_text=True)
    live = [fragment for fragment in LIVE_MARKUP if fragment in html.lower()]
    assert not live, f"unescaped {live} in {response.request.path}"
    if shown is not None:
        assert str(escape(shown)) in html, f"{shown!r} not shown on {response.request.path}"


def assert_csv_keeps_text(response: TestResponse, text: str, shown: bool) -> None:
    """A CSV holds the text verbatim (escaping would corrupt data) but is never a page."""
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    if shown:
        rows = csv.reader(io.StringIO(response.get_data(as_text=True)))
        assert text in {cell for row in rows for cell in row}


@dataclass
class Scene:
    """What the pages are opened with; a store points them at what it made."""

    app: Flask
    world: World
    browser: Callable[[str], FlaskClient]
    runner: FlaskCliRunner
    #: The report on the triage detail page, and users["staff"]'s report on "own report".
    report_id: int
    own_report_id: int
    receipt: str
    user_id: int
    unit_id: int

    def newest(self, model: type) -> int:
        with self.app.app_context():
            return db.session.scalar(select(func.max(model.id)))


def save_report_field(name: str, identity: str) -> Callable[[Scene, str], None]:
    """Send the text in one field of the report form, anonymously or named by staff."""

    def save(scene: Scene, text: str) -> None:
        client = scene.browser("visitor" if identity == "anonymous" else "staff")
        response = client.post("/", data=form_data(scene.world.unit_id, identity=identity,
                                                   **{name: text}))
        assert response.status_code == 200
        assert_safe_html(response)
        scene.report_id = scene.newest(Report)
        if identity == "anonymous":
            scene.receipt = RECEIPT.search(response.get_data(as_text=True)).group(1)
        else:
            scene.own_report_id = scene.report_id

    return save


def save_coordinator_message(scene: Scene, text: str) -> None:
    """A coordinator writes to the named reporter and to the anonymous one."""
    for report_id in (scene.world.named_report_id, scene.world.anonymous_report_id):
        response = scene.browser("coordinator").post(f"/triage/reports/{report_id}/messages",
                                                     data={"body": text})
        assert response.status_code == 302


def save_workflow_text(action: str, *fields: str) -> Callable[[Scene, str], None]:
    """A coordinator writes the text into fields of a workflow form on a report's page."""

    def save(scene: Scene, text: str) -> None:
        response = scene.browser("coordinator").post(
            f"/triage/reports/{scene.report_id}/{action}", data=dict.fromkeys(fields, text))
        assert response.status_code == 302

    return save


def save_own_answer(scene: Scene, text: str) -> None:
    response = scene.browser("staff").post(f"/report/mine/{scene.own_report_id}",
                                           data={"body": text})
    assert response.status_code == 302


def save_receipt_answer(scene: Scene, text: str) -> None:
    response = scene.browser("visitor").post("/status", data={
        "receipt": scene.receipt, "body": text, "send": "Send answer"})
    assert response.status_code == 200
    scene.report_id = scene.world.anonymous_report_id


def email_with(text: str) -> str:
    """An address that passes the forms' checks: no spaces (a slash separates attributes)."""
    return f"{text.replace(' ', '/')}@example.org".lower()


def use_account(scene: Scene, email: str) -> None:
    """The account fails a login, logs in, sees its own address and reports with its name."""
    with scene.app.app_context():
        user = find_user(email)
        scene.user_id = user.id
    client = scene.app.test_client()
    client.post("/login", data={"email": email, "password": "not the password"})
    log_in(client, user, STRONG_PASSWORD)
    assert_safe_html(client.get("/"), shown=email)  # the page header names the user
    client.post("/", data=form_data(scene.world.unit_id, identity="named"))
    scene.report_id = scene.newest(Report)


def save_email_by_admin(scene: Scene, text: str) -> str:
    email = email_with(text)
    response = scene.browser("admin").post("/admin/users/new", data={
        "email": email, "new": STRONG_PASSWORD, "confirm": STRONG_PASSWORD, "role": "staff"})
    assert response.status_code == 302, response.get_data(as_text=True)
    use_account(scene, email)
    return email


def save_email_by_command(scene: Scene, text: str) -> str:
    email = email_with(text)
    result = scene.runner.invoke(args=["users", "create", email, "--role", "staff",
                                       "--password-stdin"], input=STRONG_PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    use_account(scene, email)
    return email


def save_unit_name(scene: Scene, text: str) -> None:
    """An admin adds a unit; a visitor reports from it."""
    response = scene.browser("admin").post("/admin/units", data={"name": text})
    assert response.status_code == 302, response.get_data(as_text=True)
    scene.unit_id = scene.newest(Unit)
    scene.browser("visitor").post("/", data=form_data(scene.unit_id))
    scene.report_id = scene.newest(Report)


def save_known_issue_text(field: str, action: str) -> Callable[[Scene, str], None]:
    """A coordinator puts the named report in the seeded known issue (the anonymous one
    is in it), then writes the text into its title or an update for its reporters."""

    def save(scene: Scene, text: str) -> None:
        coordinator, issue_id = scene.browser("coordinator"), scene.world.known_issue_id
        coordinator.post("/known-issues/attach", data={
            "issue": str(issue_id), "report_ids": str(scene.world.named_report_id)})
        response = coordinator.post(f"/known-issues/{issue_id}/{action}", data={field: text})
        assert response.status_code == 302

    return save


@dataclass(frozen=True)
class Store:
    """A field whose text is stored, and the pages (keys of PAGES) that must show it."""

    form: str
    field: str
    save: Callable[[Scene, str], str | None]
    shown_on: frozenset[str]


REPORTED = frozenset({"triage detail", "export CSV"})
STORES = [
    Store("/ (anonymous)", "text", save_report_field("text", "anonymous"),
          REPORTED | {"triage queue"}),
    Store("/ (anonymous)", "suggestion", save_report_field("suggestion", "anonymous"),
          REPORTED),
    Store("/ (named)", "text", save_report_field("text", "named"),
          REPORTED | {"triage queue", "my reports", "own report"}),
    Store("/ (named)", "suggestion", save_report_field("suggestion", "named"),
          REPORTED | {"own report"}),
    Store("/triage/reports/N/messages", "body", save_coordinator_message,
          frozenset({"triage detail", "own report", "receipt status"})),
    Store("/triage/reports/N/comments", "body", save_workflow_text("comments", "body"),
          frozenset({"triage detail"})),
    Store("/triage/reports/N/handoffs", "ids", save_workflow_text(
        "handoffs", "vendor_ticket", "deviation_id"), frozenset({"triage detail"})),
    Store("/report/mine/N", "body", save_own_answer, frozenset({"triage detail", "own report"})),
    Store("/status (answer)", "body", save_receipt_answer,
          frozenset({"triage detail", "receipt status"})),
    Store("/admin/users/new", "email", save_email_by_admin,
          frozenset({"admin users", "admin user", "triage detail", "audit log"})),
    Store("flask users create", "email", save_email_by_command,
          frozenset({"admin users", "admin user", "triage detail", "audit log"})),
    Store("/known-issues/N/updates", "body", save_known_issue_text("body", "updates"),
          frozenset({"known issue", "own report", "my reports", "receipt status"})),
    Store("/known-issues/N/edit", "title", save_known_issue_text("title", "edit"),
          frozenset({"known issue", "own report", "my reports", "receipt status"})),
    Store("/admin/units", "name", save_unit_name,
          frozenset({"report form", "triage queue", "triage detail", "export page",
                     "export CSV", "admin units", "admin unit"})),
]


def _get(role: str, path: Callable[[Scene], str]) -> Callable[[Scene], TestResponse]:
    return lambda scene: send(scene.browser(role), "GET", path(scene))


#: Pages that show stored text: how each is opened, and by whom.
PAGES: dict[str, Callable[[Scene], TestResponse]] = {
    "report form": _get("visitor", lambda s: "/"),
    "receipt status": lambda s: s.browser("visitor").post("/status",
                                                          data={"receipt": s.receipt}),
    "my reports": _get("staff", lambda s: "/report/mine"),
    "own report": _get("staff", lambda s: f"/report/mine/{s.own_report_id}"),
    "triage queue": _get("coordinator", lambda s: "/triage/?order=newest"),
    "triage detail": _get("coordinator", lambda s: f"/triage/reports/{s.report_id}"),
    "overview": _get("coordinator", lambda s: "/overview"),
    "known issue": _get("coordinator", lambda s: f"/known-issues/{s.world.known_issue_id}"),
    "export page": _get("researcher", lambda s: "/export/"),
    "export CSV": _get("researcher", lambda s: "/export/reports"),
    "audit log": _get("admin", lambda s: "/admin/audit"),
    "admin users": _get("admin", lambda s: "/admin/users"),
    "admin user": _get("admin", lambda s: f"/admin/users/{s.user_id}"),
    "admin units": _get("admin", lambda s: "/admin/units"),
    "admin unit": _get("admin", lambda s: f"/admin/units/{s.unit_id}"),
}


@pytest.fixture
def scene(app, world, browser, runner) -> Scene:
    return Scene(app, world, browser, runner, report_id=world.named_report_id,
                 own_report_id=world.named_report_id, receipt=world.receipt,
                 user_id=world.users["staff"].id, unit_id=world.unit_id)


@pytest.mark.parametrize("store", STORES, ids=lambda store: f"{store.form} {store.field}")
def test_stored_text_is_shown_escaped_on_every_page(scene, store):
    for payload in PAYLOADS.values():
        text = probe(payload)
        stored = store.save(scene, text) or text
        for name, fetch in PAGES.items():
            response = fetch(scene)
            if name == "export CSV":
                assert_csv_keeps_text(response, stored, shown=name in store.shown_on)
            else:
                assert_safe_html(response, shown=stored if name in store.shown_on else None)


def test_a_page_list_entry_exists_for_every_page_a_store_names():
    assert set().union(*(store.shown_on for store in STORES)) <= set(PAGES)


#: Requests that echo what they were sent: role, request, and whether the text is echoed.
REFLECTIONS: dict[str, tuple[str, Callable, bool]] = {
    "login e-mail": ("visitor", lambda c, s, t: c.post(
        "/login", data={"email": t, "password": "wrong password!"}), True),
    "login next": ("visitor", lambda c, s, t: c.get("/login", query_string={"next": t}), True),
    "report form with an error": ("visitor", lambda c, s, t: c.post(
        "/", data={**form_data(s.world.unit_id, text=t, suggestion=t), "unit_id": ""}), True),
    "receipt code": ("visitor", lambda c, s, t: c.post("/status", data={"receipt": t}), True),
    "receipt answer too long": ("visitor", lambda c, s, t: c.post("/status", data={
        "receipt": s.receipt, "body": t + "x" * MESSAGE_MAX, "send": "Send answer"}), True),
    "own answer too long": ("staff", lambda c, s, t: c.post(
        f"/report/mine/{s.own_report_id}", data={"body": t + "x" * MESSAGE_MAX}), True),
    "audit actor filter": ("admin", lambda c, s, t: c.get(
        "/admin/audit", query_string={"actor": t}), True),
    "export project": ("researcher", lambda c, s, t: c.get(
        "/export/", query_string={"project": t}), True),
    "new account e-mail": ("admin", lambda c, s, t: c.post("/admin/users/new", data={
        "email": t, "new": STRONG_PASSWORD, "confirm": STRONG_PASSWORD, "role": "staff"}), True),
    "unit name too long": ("admin", lambda c, s, t: c.post(
        "/admin/units", data={"name": t * 10}), True),
    "unknown parameter name": ("coordinator", lambda c, s, t: c.get(
        "/triage/", query_string={t: "1"}), True),
    "unknown category": ("coordinator", lambda c, s, t: c.post(
        f"/triage/reports/{s.report_id}", data={"categories": [t], "status": t}), True),
    "password change": ("staff", lambda c, s, t: c.post(
        "/account/password", data={"current": t, "new": t, "confirm": t}), False),
    "missing page": ("visitor", lambda c, s, t: c.get("/" + quote(t)), False),
}


@pytest.mark.parametrize("name", REFLECTIONS)
def test_echoed_input_is_escaped(scene, name):
    role, request, echoed = REFLECTIONS[name]
    for payload in PAYLOADS.values():
        text = probe(payload)
        response = request(scene.browser(role), scene, text)
        assert_safe_html(response, shown=text if echoed else None)


def test_the_words_marked_by_the_model_are_escaped_too(scene, active_model):
    text = probe(PAYLOADS["script"]) + " Patienten fick fel dos av läkemedlet, allvarligt."
    scene.browser("visitor").post("/", data=form_data(scene.world.unit_id, text=text))
    response = scene.browser("coordinator").get(f"/triage/reports/{scene.newest(Report)}")
    assert "<mark" in response.get_data(as_text=True)
    assert_safe_html(response, shown="XSS probe <")  # words inside are marked


# Every form on every page ---------------------------------------------------------------

def every_page(app, world, browser) -> Iterator[TestResponse]:
    """Every HTML page every role may open."""
    for role in ROLES:
        for url in page_urls(app, world):
            response = send(browser(role), "GET", url)
            if response.mimetype == "text/html" and response.status_code == 200:
                yield response


@pytest.mark.parametrize("payload", PAYLOADS.values(), ids=PAYLOADS.keys())
def test_every_form_on_every_page_escapes_what_it_is_sent(app, world, browser, payload):
    sent = set()
    for _role, target, response in send_every_form(app, world, browser, probe(payload)):
        if response.mimetype == "text/html":
            assert_safe_html(response)
        sent.add(target)
    assert {"/", "/status", "/login", "/triage/", "/admin/audit", "/admin/users/new",
            "/admin/units"} <= sent
    # What the forms stored is now on the pages that show it.
    for response in every_page(app, world, browser):
        assert_safe_html(response)
