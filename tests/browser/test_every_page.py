"""Every page of the app, in Chromium, at a desk's 1366x900 and a phone's 390x844.

The pages are listed from the URL map (a GET route that is neither a page nor in
`PAGES` fails `test_every_get_route_is_listed`), each opened by a role that may
see it, over demo data: the go-live story of app/services/demo.py, grouped into
emerging issues, with its alerts evaluated. On each page at each size: axe-core
finds no violation of any impact, the page does not scroll sideways and a
screenshot is kept in test-artifacts/ (not committed).

The app, its data and the logged-in browsers are made once for the module: loading
the demo story costs a few seconds, a page check well under one.
"""

import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from flask import Flask
from playwright.sync_api import Browser, BrowserContext, expect
from sqlalchemy import func, select
from werkzeug.serving import make_server

from app import create_app
from app.services.alerts import evaluate_alerts
from app.services.classification import activate_version
from app.services.demo import SPIKE_ISSUE, load_demo_data
from app.services.grouping import group_reports, ungrouped_report_ids
from config import TestingConfig
from models import (
    EmergingIssueReport,
    KnownIssue,
    ModelVersion,
    Report,
    Role,
    Unit,
    User,
    db,
    utcnow,
)
from tests.conftest import _empty_schema
from tests.helpers import closing_responses

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
SIZES = {"desk": (1366, 900), "phone": (390, 844)}
#: Enough demo reports for a spike, a few emerging issues and full pages of lists.
DEMO_REPORTS = 200
#: GET routes that answer with a file or JSON, not a page.
NOT_PAGES = {"export.aggregates", "export.codebook", "export.reports",
             "reports.matching_issues", "ops.healthz", "ops.readyz", "ops.prometheus_metrics",
             # redirects to and from the identity provider (tests/browser/test_sso_login.py)
             "auth.sso_login", "auth.sso_callback",
             # the JSON API, for systems with a bearer token (tests/test_api*.py)
             "api.alerts", "api.export", "api.fhir_adverse_event", "api.fhir_bundle",
             "api.known_issues", "api.openapi", "api.queue", "api.report"}


@dataclass(frozen=True)
class Site:
    base_url: str
    #: URL argument name -> the demo object that fills it.
    arguments: dict[str, int]
    #: Role -> a browser context logged in as the demo account of that role.
    contexts: dict[str, BrowserContext]


#: Read once, when the tests are collected, so that each page is a test of its own.
URL_MAP = create_app(TestingConfig).url_map
#: Endpoint -> the role that opens it (None: a visitor, not logged in).
PAGES: dict[str, str | None] = {
    "reports.new": None, "reports.status": None, "auth.login": None,
    "auth.password": Role.STAFF, "reports.mine": Role.STAFF, "reports.own_detail": Role.STAFF,
    "triage.queue": Role.COORDINATOR, "triage.detail": Role.COORDINATOR,
    "overview.index": Role.COORDINATOR, "alerts.index": Role.COORDINATOR,
    "emerging.index": Role.COORDINATOR, "emerging.detail": Role.COORDINATOR,
    "known_issues.index": Role.COORDINATOR, "known_issues.detail": Role.COORDINATOR,
    "known_issues.new": Role.COORDINATOR,
    "export.index": Role.RESEARCHER,
    "admin.models": Role.ADMIN, "admin.audit": Role.ADMIN, "admin.users": Role.ADMIN,
    "admin.user": Role.ADMIN, "admin.new_user": Role.ADMIN, "admin.units": Role.ADMIN,
    "admin.unit": Role.ADMIN, "admin.jobs": Role.ADMIN, "admin.api_tokens": Role.ADMIN,
    "api.reference": None,
}


def _get_endpoints() -> set[str]:
    return {rule.endpoint for rule in URL_MAP.iter_rules()
            if "GET" in (rule.methods or ()) and rule.endpoint != "static"}


def test_every_get_route_is_listed() -> None:
    assert sorted(_get_endpoints() - NOT_PAGES - set(PAGES)) == [], "add the page to PAGES"
    assert sorted(set(PAGES) - _get_endpoints()) == [], "remove the pages that are gone"


def _load_demo(app: Flask, artifact: bytes, classifier) -> dict[str, str]:
    """The demo story, grouped and alerted; returns each role's password."""
    with app.app_context():
        _empty_schema()
        version = ModelVersion(algorithm=classifier.algorithm, params=classifier.params,
                               training_summary=classifier.training_summary,
                               metrics=classifier.metrics, artifact=artifact, active=False)
        db.session.add(version)
        db.session.commit()
        activate_version(version.id)
        demo = load_demo_data(DEMO_REPORTS)
        group_reports(ungrouped_report_ids())
        evaluate_alerts(utcnow(), notify=False)
        return {account.role: (account.email, account.password) for account in demo.accounts}


def _arguments(app: Flask) -> dict[str, int]:
    """The demo objects the pages with an argument show: the busiest known and emerging
    issues, a named report of the staff account, the staff account, a unit, the model."""
    with app.app_context():
        staff = db.session.scalar(select(User).where(User.role == Role.STAFF))
        busiest_group = db.session.scalar(
            select(EmergingIssueReport.emerging_issue_id)
            .group_by(EmergingIssueReport.emerging_issue_id)
            .order_by(func.count().desc()).limit(1))
        return {
            "report_id": db.session.scalar(select(func.min(Report.id))
                                           .where(Report.reporter_id == staff.id)),
            "issue_id": db.session.scalar(select(KnownIssue.id)
                                          .where(KnownIssue.title == SPIKE_ISSUE)),
            "group_id": busiest_group,
            "user_id": staff.id,
            "unit_id": db.session.scalar(select(func.min(Unit.id))),
            "version_id": db.session.scalar(select(ModelVersion.id)),
        }


def _serve(app: Flask) -> Callable[[], None]:
    server = make_server("127.0.0.1", 0, closing_responses(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="every-page", daemon=True)
    thread.start()
    app.config["LIVE_URL"] = f"http://127.0.0.1:{server.server_port}"

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)

    return stop


@pytest.fixture(scope="module")
def site(tmp_path_factory, browser: Browser, classifier, classifier_artifact) -> Iterator[Site]:
    """The app over the demo story in Swedish, its install's language, served on loopback,
    with a logged-in browser context per role (and one for visitors)."""
    config = {"BABEL_DEFAULT_LOCALE": "sv"}
    if not os.environ.get("TEST_DATABASE_URL"):
        database = tmp_path_factory.mktemp("every-page") / "demo.sqlite"
        config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{database}"
    app = create_app(TestingConfig, **config)
    accounts = _load_demo(app, classifier_artifact, classifier)
    stop = _serve(app)
    base_url = app.config["LIVE_URL"]
    contexts: dict[str, BrowserContext] = {}
    try:
        contexts["visitor"] = browser.new_context(locale="sv-SE")
        for role, (email, password) in accounts.items():
            contexts[role] = context = browser.new_context(locale="sv-SE")
            page = context.new_page()
            page.goto(f"{base_url}/login")
            page.locator("input[name=email]").fill(email)
            page.locator("input[name=password]").fill(password)
            page.locator("input[name=password]").press("Enter")
            expect(page.locator("input[name=password]")).to_have_count(0)
            page.close()
        yield Site(base_url, _arguments(app), contexts)
    finally:
        for context in contexts.values():
            context.close()
        stop()
        with app.app_context():
            db.session.remove()
            if db.engine.dialect.name != "postgresql":
                db.drop_all()
            db.engine.dispose()


def _path(endpoint: str, arguments: dict[str, int]) -> str:
    rule = next(rule for rule in URL_MAP.iter_rules() if rule.endpoint == endpoint)
    return URL_MAP.bind("localhost").build(endpoint, {name: arguments[name]
                                                       for name in rule.arguments})


#: The elements that reach past the window's right edge, innermost first (for the message).
_TOO_WIDE = """() => [...document.querySelectorAll('body *')]
    .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5
                 && ![...e.children].some(c => c.getBoundingClientRect().right
                                                > window.innerWidth + 0.5))
    .slice(0, 3).map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : '')
                          + ' ' + Math.round(e.getBoundingClientRect().right) + ' px')"""


def _violations(page) -> list[str]:
    found = Axe().run(page).response["violations"]
    return [f"{v['id']} ({v['impact']}): {v['help']} "
            f"[{', '.join(' '.join(node['target']) for node in v['nodes'][:5])}] "
            f"{v['nodes'][0]['html'][:160]}"
            for v in found]


@pytest.mark.parametrize("endpoint", sorted(PAGES))
def test_page_is_accessible_and_fits_a_phone(site: Site, endpoint: str) -> None:
    role = PAGES[endpoint] or "visitor"
    page = site.contexts[role].new_page()
    problems = []
    try:
        for size, (width, height) in SIZES.items():
            page.set_viewport_size({"width": width, "height": height})
            response = page.goto(site.base_url + _path(endpoint, site.arguments))
            assert response is not None and response.status == 200, response
            assert page.url.startswith(site.base_url + _path(endpoint, site.arguments))
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=ARTIFACTS / f"{endpoint}-{size}.png", full_page=True)
            problems += [f"{size}: {v}" for v in _violations(page)]
            scroll, inner = page.evaluate(
                "[document.documentElement.scrollWidth, window.innerWidth]")
            if scroll > inner:
                problems.append(f"{size}: scrolls sideways ({scroll} px in {inner} px): "
                                + ", ".join(page.evaluate(_TOO_WIDE)))
    finally:
        page.close()
    assert not problems, f"{endpoint}:\n" + "\n".join(problems)


#: The queue's goal at 1366 × 900: at least this many rows (with a line of text) in view.
ROWS_IN_VIEW = 10


@pytest.mark.parametrize("query", ["", "?group=issue"])
def test_the_queue_shows_ten_rows_above_the_fold_grouped_or_not(site: Site, query: str) -> None:
    """The tests' pages hold 5 rows (TestingConfig): ten fit if the first row starts high
    enough for ten of the tallest row seen to end within the window."""
    page = site.contexts[Role.COORDINATOR].new_page()
    try:
        page.set_viewport_size({"width": 1366, "height": 900})
        page.goto(f"{site.base_url}/triage/{query}")
        rows = page.evaluate("""() => [...document.querySelectorAll('tbody.report-row')]
            .map(row => [row.getBoundingClientRect().top, row.getBoundingClientRect().height])""")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=ARTIFACTS / f"triage.queue{'-grouped' if query else ''}-desktop.png")
        first_top, tallest = rows[0][0], max(height for _top, height in rows)
        assert first_top + ROWS_IN_VIEW * tallest <= 900, rows
        if query:
            assert page.locator("tbody.group-row").count() >= 1, "the demo has groups"
            assert not _violations(page)
    finally:
        page.close()
