"""A whole journey in a real browser: report anonymously, then triage as a coordinator.

Each page on the way is also checked with axe-core; serious or critical
accessibility violations fail the test.
"""

import re
from datetime import datetime, timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from models import User
from tests.conftest import PASSWORD

UNIT = "Avdelning 12 Kardiologi"
REPORT_TEXT = (
    "Provsvaret för kalium syntes inte i journalen när ordinationen gjordes, "
    "så patienten fick fel dos av kaliumklorid. Felet upptäcktes vid nästa provtagning."
)
REFERENCE = re.compile(r"^V-\d{6}$")
#: The reference followed by five groups of four base-32 characters.
RECEIPT_CODE = re.compile(r"^V-\d{6}(-[A-Z2-7]{4}){5}$")
BLOCKING_IMPACTS = {"serious", "critical"}


def assert_no_serious_violations(page: Page) -> None:
    """Run axe-core on the current page; fail on any serious or critical violation."""
    violations = Axe().run(page).response["violations"]
    blocking = [v for v in violations if v["impact"] in BLOCKING_IMPACTS]
    assert not blocking, f"axe found on {page.url}:\n" + "\n".join(
        f"- {v['id']} ({v['impact']}): {v['help']} "
        f"[{', '.join(' '.join(node['target']) for node in v['nodes'])}]"
        for v in blocking)


def fill_report(page: Page, text: str, occurred_at: datetime, unit: str) -> None:
    page.get_by_label("Incident").check()
    page.get_by_label("What happened?").fill(text)
    page.get_by_label("When did it happen?").fill(occurred_at.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Unit or ward").select_option(label=unit)
    page.get_by_label("Affected area").select_option(label="Test results")
    page.get_by_label("Harm").check()


def submit_report(page: Page) -> tuple[str, str]:
    """Send the filled form; returns the reference and receipt code it confirms."""
    page.get_by_role("button", name="Send report").click()
    expect(page.get_by_role("heading", name="Thank you, your report is received")).to_be_visible()
    reference, receipt = page.locator(".reference"), page.locator(".receipt-code")
    expect(reference).to_have_text(REFERENCE)
    expect(receipt).to_have_text(RECEIPT_CODE)
    return reference.inner_text(), receipt.inner_text()


def log_in(page: Page, base_url: str, user: User, password: str = PASSWORD) -> None:
    page.goto(f"{base_url}/login")
    page.get_by_label("E-mail").fill(user.email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


@pytest.mark.browser
def test_anonymous_report_reaches_the_triage_queue(page: Page, live_server: str, make_unit,
                                                    make_user, active_model) -> None:
    make_unit(UNIT)
    coordinator = make_user(role="coordinator")

    page.goto(f"{live_server}/")
    expect(page.get_by_role("heading", name="Report an incident or give feedback")).to_be_visible()
    assert_no_serious_violations(page)
    yesterday = (datetime.now() - timedelta(days=1)).replace(hour=8, minute=30)
    fill_report(page, REPORT_TEXT, yesterday, UNIT)
    reference, receipt = submit_report(page)
    assert receipt.startswith(f"{reference}-")

    log_in(page, live_server, coordinator)
    expect(page).to_have_url(f"{live_server}/triage/")
    expect(page.get_by_role("heading", name="Triage queue")).to_be_visible()
    link = page.get_by_role("link", name=reference, exact=True)
    expect(link).to_be_visible()
    assert_no_serious_violations(page)

    link.click()
    expect(page.get_by_role("heading", name=f"Report {reference}")).to_be_visible()
    expect(page.locator(".report-text")).to_have_text(REPORT_TEXT)
