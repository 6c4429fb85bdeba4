"""Steps the browser journeys share: reporting, logging in and the accessibility check."""

import re
from datetime import datetime

from axe_playwright_python.sync_playwright import Axe
from flask import Flask
from playwright.sync_api import Page, expect

from app.times import local_now
from models import User
from tests.helpers import PASSWORD

REFERENCE = re.compile(r"^V-\d{6}$")
#: The reference followed by five groups of four base-32 characters.
RECEIPT_CODE = re.compile(r"^V-\d{6}(-[A-Z2-7]{4}){5}$")
BLOCKING_IMPACTS = {"serious", "critical"}
ALL_IMPACTS = {"minor", "moderate", "serious", "critical"}


def assert_no_serious_violations(page: Page, impacts: set[str] = BLOCKING_IMPACTS) -> None:
    """Run axe-core on the current page; fail on any violation of one of `impacts` (by
    default serious or critical ones)."""
    violations = Axe().run(page).response["violations"]
    blocking = [v for v in violations if v["impact"] in impacts]
    assert not blocking, f"axe found on {page.url}:\n" + "\n".join(
        f"- {v['id']} ({v['impact']}): {v['help']} "
        f"[{', '.join(' '.join(node['target']) for node in v['nodes'])}]"
        for v in blocking)


def region_now(app: Flask) -> datetime:
    """The region's wall clock, which the form's "today" means (not the machine's: UTC here)."""
    with app.app_context():
        return local_now()


def fill_report(page: Page, text: str, occurred_at: datetime, unit: str, app: Flask) -> None:
    """Fill the form as a reporter would: a time today under "Earlier today", another
    under "Another day" (both on the region's clock)."""
    page.get_by_label("Incident").check()
    page.get_by_label("What happened?").fill(text)
    if occurred_at.date() == region_now(app).date():
        page.get_by_label("Earlier today", exact=True).check()
        page.get_by_label("Time, if earlier today").fill(occurred_at.strftime("%H:%M"))
    else:
        page.get_by_label("Another day", exact=True).check()
        page.get_by_label("Date and time, if another day").fill(
            occurred_at.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Unit or ward").select_option(label=unit)
    open_details(page)
    page.get_by_label("Affected area").select_option(label="Test results")
    page.get_by_label("Harm").check()


def open_details(page: Page) -> None:
    """Unfold the form's optional details (area, impact, suggestion) unless they are."""
    details = page.locator("details.more")
    if details.get_attribute("open") is None:
        details.locator("summary").click()


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
    # By the fields' ids, so that it logs in whatever the page's language.
    page.locator("#email").fill(user.email)
    page.locator("#password").fill(password)
    page.locator("main form input[type=submit]").click()
