"""Shared pieces of the attacker's test suite (its fixtures are in conftest.py).

Every route is read from the app's URL map, so routes added later are attacked
too; `URL_ARGS` says which seeded object fills each URL argument. `EXPECTED`
says which roles may call each route.
"""

import itertools
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.routing import AnyConverter, Rule
from werkzeug.test import TestResponse

from app import create_app
from app.api.problems import API_PREFIX
from app.services.drafts import ReportDraft
from app.services.reports import submit_report
from config import TestingConfig
from models import Report, User, db
from tests.helpers import PASSWORD

ROLES = ("visitor", "staff", "coordinator", "researcher", "admin")
CSRF_ERROR = "expired or was not sent from this site"
#: Text of the seeded reports: no page may show it to anyone but coordinators (and its author).
SECRET_TEXT = "Confidential seeded report text about ward twelve"
#: A password that passes the policy, for accounts made or changed by the tests.
STRONG_PASSWORD = "blue kettle under the pier"
#: A body for any form that changes something: a review, a message, a unit, a role, a password.
FORGED_CHANGE = {"categories": ["safety"], "status": "closed", "body": "Sent by an intruder",
                 "name": "Unit named by an intruder", "role": "admin", "current": PASSWORD,
                 "new": STRONG_PASSWORD, "confirm": STRONG_PASSWORD}

#: Read once, when the tests are collected, so that each route is a test of its own.
_URL_MAP = create_app(TestingConfig).url_map


# The permission table ------------------------------------------------------------------

#: Who calls a route in the permission table; "anonymous" is not logged in.
CALLERS = ("anonymous", "staff", "coordinator", "researcher", "admin")
EVERYONE = frozenset(CALLERS)
LOGGED_IN = EVERYONE - {"anonymous"}
STAFF_AND_COORDINATOR = frozenset({"staff", "coordinator"})
COORDINATOR = frozenset({"coordinator"})
EXPORTERS = frozenset({"coordinator", "researcher"})
ADMIN = frozenset({"admin"})

#: (method, rule) -> the roles that may call it. Everyone else is sent to the login
#: page (anonymous) or refused with 403.
EXPECTED = {
    ("GET", "/"): EVERYONE,
    ("POST", "/"): EVERYONE,
    ("GET", "/status"): EVERYONE,
    ("POST", "/status"): EVERYONE,
    ("POST", "/language/<code>"): EVERYONE,
    ("GET", "/login"): EVERYONE,
    ("POST", "/login"): EVERYONE,
    ("GET", "/login/sso"): EVERYONE,
    ("GET", "/login/sso/callback"): EVERYONE,
    ("POST", "/logout"): LOGGED_IN,
    ("GET", "/account/password"): LOGGED_IN,
    ("POST", "/account/password"): LOGGED_IN,
    ("GET", "/report/mine"): STAFF_AND_COORDINATOR,
    ("GET", "/report/mine/<int:report_id>"): STAFF_AND_COORDINATOR,
    ("POST", "/report/mine/<int:report_id>"): STAFF_AND_COORDINATOR,
    ("GET", "/triage/"): COORDINATOR,
    ("POST", "/triage/bulk"): COORDINATOR,
    ("GET", "/overview"): COORDINATOR,
    ("GET", "/triage/reports/<int:report_id>"): COORDINATOR,
    ("POST", "/triage/reports/<int:report_id>"): COORDINATOR,
    ("POST", "/triage/reports/<int:report_id>/messages"): COORDINATOR,
    ("POST", "/triage/reports/<int:report_id>/redact"): COORDINATOR,
    ("POST", "/triage/reports/<int:report_id>/handoffs"): COORDINATOR,
    ("POST", "/triage/reports/<int:report_id>/comments"): COORDINATOR,
    ("GET", "/known-issues/"): COORDINATOR,
    ("GET", "/known-issues/new"): COORDINATOR,
    ("POST", "/known-issues/new"): COORDINATOR,
    ("GET", "/known-issues/<int:issue_id>"): COORDINATOR,
    ("POST", "/known-issues/<int:issue_id>/edit"): COORDINATOR,
    ("POST", "/known-issues/<int:issue_id>/resolution"): COORDINATOR,
    ("POST", "/known-issues/<int:issue_id>/merge"): COORDINATOR,
    ("POST", "/known-issues/<int:issue_id>/split"): COORDINATOR,
    ("POST", "/known-issues/<int:issue_id>/detach"): COORDINATOR,
    ("POST", "/known-issues/attach"): COORDINATOR,
    ("GET", "/alerts"): COORDINATOR,
    ("POST", "/alerts/<int:alert_id>/seen"): COORDINATOR,
    ("POST", "/alerts/<int:alert_id>/dismiss"): COORDINATOR,
    ("POST", "/alerts/<int:alert_id>/link"): COORDINATOR,
    ("POST", "/alerts/notifications"): COORDINATOR,
    ("GET", "/emerging-issues/"): COORDINATOR,
    ("GET", "/emerging-issues/<int:group_id>"): COORDINATOR,
    ("POST", "/emerging-issues/<int:group_id>/confirm"): COORDINATOR,
    ("POST", "/emerging-issues/<int:group_id>/merge"): COORDINATOR,
    ("POST", "/emerging-issues/<int:group_id>/split"): COORDINATOR,
    ("POST", "/emerging-issues/<int:group_id>/dismiss"): COORDINATOR,
    ("POST", "/emerging-issues/<int:group_id>/move-out"): COORDINATOR,
    ("GET", "/export/"): EXPORTERS,
    ("GET", "/export/reports"): EXPORTERS,
    ("GET", "/export/codebook.csv"): EXPORTERS,
    ("GET", "/export/aggregates.csv"): EXPORTERS,
    ("GET", "/admin/models"): frozenset({"coordinator", "admin"}),
    ("POST", "/admin/models/<int:version_id>/activate"): ADMIN,
    ("GET", "/admin/audit"): ADMIN,
    ("GET", "/admin/jobs"): ADMIN,
    ("GET", "/admin/tokens"): ADMIN,
    ("POST", "/admin/tokens"): ADMIN,
    ("POST", "/admin/tokens/<int:token_id>/revoke"): ADMIN,
    ("POST", "/admin/jobs/<int:failed_id>/retry"): ADMIN,
    ("GET", "/admin/users"): ADMIN,
    ("GET", "/admin/users/new"): ADMIN,
    ("POST", "/admin/users/new"): ADMIN,
    ("GET", "/admin/users/<int:user_id>"): ADMIN,
    ("POST", "/admin/users/<int:user_id>/role"): ADMIN,
    ("POST", "/admin/users/<int:user_id>/<any(enable, disable):change>"): ADMIN,
    ("POST", "/admin/users/<int:user_id>/password"): ADMIN,
    ("GET", "/admin/units"): ADMIN,
    ("POST", "/admin/units"): ADMIN,
    ("GET", "/admin/units/<int:unit_id>"): ADMIN,
    ("POST", "/admin/units/<int:unit_id>"): ADMIN,
    ("POST", "/admin/units/<int:unit_id>/<any(deactivate, reactivate):change>"): ADMIN,
    ("GET", "/report/matching-issues"): EVERYONE,
    ("POST", "/known-issues/<int:issue_id>/updates"): COORDINATOR,
    # Operations: for balancers and Prometheus; /metrics answers allowed addresses only.
    ("GET", "/healthz"): EVERYONE,
    ("GET", "/readyz"): EVERYONE,
    ("GET", "/metrics"): EVERYONE,
    # The JSON API's description; its operations are checked per token scope
    # (tests/security/test_api_permissions.py).
    ("GET", "/api/v1/openapi.json"): EVERYONE,
    ("GET", "/api/v1/reference"): EVERYONE,
}


# Routes -----------------------------------------------------------------------------------

def app_rules(method: str) -> list[Rule]:
    """Every page answering `method`, static files aside, in a stable order.

    The JSON API is left out: it reads no session cookie (a bearer token or nothing
    vouches for a request), so CSRF and the roles' matrix do not apply to it;
    tests/security/test_api_permissions.py and tests/test_api_fuzz.py check it.
    """
    rules = [rule for rule in _URL_MAP.iter_rules()
             if method in (rule.methods or ()) and rule.endpoint != "static"
             and not rule.rule.startswith(API_PREFIX)]
    return sorted(rules, key=lambda rule: rule.rule)


def rule_id(rule: Rule) -> str:
    return rule.endpoint


@dataclass(frozen=True)
class World:
    """One of everything a route may need, made before each test."""

    users: dict[str, User]
    other_staff: User
    unit_id: int
    #: A named report by users["staff"].
    named_report_id: int
    anonymous_report_id: int
    receipt: str
    version_id: int
    #: An open known issue holding the anonymous report, and another, empty one.
    known_issue_id: int
    other_known_issue_id: int
    #: An open emerging issue holding both reports.
    emerging_issue_id: int
    #: A new spike alert.
    alert_id: int = 0
    #: A job that failed on its last retry (the named report's).
    failed_job_id: int = 0
    #: An API token an admin made for a dashboard.
    api_token_id: int = 0


#: Which seeded object fills a URL argument of that name. A route with an argument
#: missing here fails the tests that call it, with a message saying to add it.
URL_ARGS: dict[str, Callable[[World], object]] = {
    "report_id": lambda world: world.named_report_id,
    "alert_id": lambda world: world.alert_id,
    "version_id": lambda world: world.version_id,
    "user_id": lambda world: world.users["staff"].id,
    "unit_id": lambda world: world.unit_id,
    "code": lambda world: "en",
    "issue_id": lambda world: world.known_issue_id,
    "group_id": lambda world: world.emerging_issue_id,
    "failed_id": lambda world: world.failed_job_id,
    "token_id": lambda world: world.api_token_id,
}


def any_choices(rule: Rule) -> dict[str, list[str]]:
    """The choices of each `<any(a, b):name>` argument of the rule."""
    return {name: sorted(converter.items) for name, converter in rule._converters.items()
            if isinstance(converter, AnyConverter)}


def url_for_rule(app: Flask, rule: Rule, world: World, **values: object) -> str:
    """A path for `rule` with every argument filled from the world (or `values`).

    An `any(...)` argument takes its first choice; `rule_urls` gives them all.
    """
    for name, options in any_choices(rule).items():
        values.setdefault(name, options[0])
    for name in sorted(rule.arguments - set(values)):
        if name not in URL_ARGS:
            pytest.fail(f"{rule.rule}: no test value for <{name}>; add one to URL_ARGS "
                        "in tests/security/helpers.py")
        values[name] = URL_ARGS[name](world)
    return app.url_map.bind("localhost").build(rule.endpoint, values)


def rule_urls(app: Flask, rule: Rule, world: World) -> list[str]:
    """A path for `rule` for every combination of its `any(...)` choices."""
    choices = any_choices(rule)
    return [url_for_rule(app, rule, world, **dict(zip(choices, combination, strict=True)))
            for combination in itertools.product(*choices.values())]


def anonymous_report(app: Flask, unit_id: int, text: str = SECRET_TEXT) -> tuple[int, str]:
    """Submit an anonymous report through the service; returns its id and receipt code."""
    draft = ReportDraft(kind="incident", text=text, occurred_at=datetime(2026, 3, 1, 8, 30),
                        unit_id=unit_id, area="other", impact="none", suggestion=None,
                        submission_token=secrets.token_urlsafe(24))
    with app.app_context():
        submission = submit_report(draft, None)
        return submission.report.id, submission.receipt_code


# Browsers ------------------------------------------------------------------------------

def csrf_token(client: FlaskClient, path: str = "/") -> str:
    """The CSRF token of the client's session, read from a page as a browser would."""
    page = client.get(path)
    for form in parse_forms(page.get_data(as_text=True)):
        for control in form.controls:
            if control.name == "csrf_token":
                return control.value
    raise AssertionError(f"{path} has no CSRF token")


def log_in(client: FlaskClient, user, password: str = PASSWORD) -> TestResponse:
    """Log in through the form, CSRF token included, so it works with CSRF checks on."""
    response = client.post("/login", data={"email": user.email, "password": password,
                                           "csrf_token": csrf_token(client, "/login")})
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


def send(client: FlaskClient, method: str, url: str, **kwargs: object) -> TestResponse:
    """A request whose body is read and closed at once: a streamed download otherwise
    keeps its request context pushed and breaks the next request."""
    response = client.open(url, method=method, **kwargs)
    response.get_data()
    response.close()
    return response


def session_data(app: Flask, client: FlaskClient) -> dict:
    """What the client's (signed) session cookie holds; {} without one."""
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    if cookie is None:
        return {}
    return dict(app.session_interface.get_signing_serializer(app).loads(cookie.value))


def redirects_to_login(response: TestResponse) -> bool:
    return response.status_code == 302 and urlsplit(
        response.headers["Location"]).path == "/login"


# The database --------------------------------------------------------------------------

def snapshot(app: Flask, skip: tuple[str, ...] = ()) -> dict[str, list[tuple]]:
    """Every row of every table (but `skip`), to show a request changed nothing."""
    with app.app_context():
        return {table.name: sorted((tuple(row) for row in db.session.execute(table.select())),
                                   key=repr)
                for table in db.metadata.sorted_tables if table.name not in skip}


def row_counts(app: Flask) -> dict[str, int]:
    with app.app_context():
        return {table.name: db.session.scalar(select(func.count()).select_from(table))
                for table in db.metadata.sorted_tables}


# HTML ----------------------------------------------------------------------------------

#: Controls a person types into.
TYPED = {"text", "textarea", "search", "email", "password", "url", "tel"}


@dataclass
class Control:
    """An input, select, textarea or button of a form, as a browser would send it."""

    tag: str
    type: str
    name: str
    value: str = ""
    checked: bool = False
    options: list[str] = field(default_factory=list)


@dataclass
class Form:
    method: str
    action: str
    controls: list[Control] = field(default_factory=list)
    #: Other targets its buttons send it to (`formaction`).
    button_actions: list[str] = field(default_factory=list)

    def field_names(self) -> list[str]:
        """Names a person can fill in or choose (not hidden values, not buttons)."""
        names = [c.name for c in self.controls if c.name and c.type not in
                 {"hidden", "submit", "button", "reset", "image"}]
        return list(dict.fromkeys(names))

    def control(self, name: str) -> Control:
        return next(c for c in self.controls if c.name == name)

    def filled(self, text: str) -> dict[str, list[str]]:
        """The form as a browser sends it, with `text` typed into every typed control."""
        data: dict[str, list[str]] = {}
        for control in self.controls:
            if not control.name or control.type in {"submit", "button", "reset", "image"}:
                continue
            if control.type in TYPED:
                value = text
            elif control.type in {"checkbox", "radio"}:
                if not control.checked:
                    continue
                value = control.value
            elif control.type == "select":
                value = control.value or next((o for o in control.options if o), "")
            else:
                value = control.value
            data.setdefault(control.name, []).append(value)
        return data


class _PageParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self.body_rows = 0
        self._in_tbody = 0
        self._select: Control | None = None
        self._textarea: Control | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.forms.append(Form(attr.get("method", "get").lower(), attr.get("action", "")))
        elif tag == "tbody":
            self._in_tbody += 1
        elif tag == "tr" and self._in_tbody:
            self.body_rows += 1
        elif self.forms and tag in {"input", "select", "textarea", "button"}:
            kind = attr.get("type", "submit" if tag == "button" else "text").lower()
            control = Control(tag, tag if tag in {"select", "textarea"} else kind,
                              attr.get("name", ""), attr.get("value", ""), "checked" in attr)
            self.forms[-1].controls.append(control)
            if "formaction" in attr:
                self.forms[-1].button_actions.append(attr["formaction"])
            self._select = control if tag == "select" else None
            self._textarea = control if tag == "textarea" else None
        elif tag == "option" and self._select is not None:
            self._select.options.append(attr.get("value", ""))
            if "selected" in attr:
                self._select.value = attr.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "tbody":
            self._in_tbody -= 1
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea.value += data.removeprefix("\r\n")


def _parse(html: str) -> _PageParser:
    parser = _PageParser()
    parser.feed(html)
    parser.close()
    return parser


def parse_forms(html: str) -> list[Form]:
    return _parse(html).forms


def table_rows(html: str) -> int:
    """How many rows the page's result tables have (rows inside <tbody>)."""
    return _parse(html).body_rows


def form_targets(page_url: str, form: Form) -> list[str]:
    """The paths a form sends to (its action, then its buttons'), resolved on its page."""
    actions = [form.action or page_url, *form.button_actions]
    return [urlsplit(urljoin(f"http://localhost{page_url}", action)).path for action in actions]


# Every form -----------------------------------------------------------------------------

#: Forms the sweep does not send: logging out would end the sweep's session.
NOT_SENT = {"/logout"}


def page_urls(app: Flask, world: World) -> list[str]:
    """Every GET page; a report's pages once for each report in the database."""
    with app.app_context():
        report_ids = db.session.scalars(select(Report.id)).all()
    urls = []
    for rule in app_rules("GET"):
        if "report_id" in rule.arguments:
            urls += [url_for_rule(app, rule, world, report_id=i) for i in report_ids]
        else:
            urls.append(url_for_rule(app, rule, world))
    return urls


def send_every_form(app: Flask, world: World, browser: Callable[[str], FlaskClient],
                    text: str) -> Iterator[tuple[str, str, TestResponse]]:
    """Every role sends every form on every page it sees, `text` in every typed control.

    Yields the role, the form's target and the response.
    """
    for role in ROLES:
        client = browser(role)
        for url in page_urls(app, world):
            for form in parse_forms(send(client, "GET", url).get_data(as_text=True)):
                for target in sorted(set(form_targets(url, form)) - NOT_SENT):
                    options = {"query_string" if form.method == "get" else "data":
                               form.filled(text)}
                    yield role, target, send(client, form.method.upper(), target, **options)
