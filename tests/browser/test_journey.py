"""A whole journey in a real browser: report anonymously, then triage as a coordinator.

Each page on the way is also checked with axe-core; serious or critical
accessibility violations fail the test.
"""

from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from tests.browser.pages import (
    assert_no_serious_violations,
    fill_report,
    log_in,
    region_now,
    submit_report,
)

UNIT = "Avdelning 12 Kardiologi"
REPORT_TEXT = (
    "Provsvaret för kalium syntes inte i journalen när ordinationen gjordes, "
    "så patienten fick fel dos av kaliumklorid. Felet upptäcktes vid nästa provtagning."
)


@pytest.mark.browser
def test_anonymous_report_reaches_the_triage_queue(app, page: Page, live_server: str, make_unit,
                                                    make_user, active_model) -> None:
    make_unit(UNIT)
    coordinator = make_user(role="coordinator")

    page.goto(f"{live_server}/")
    expect(page.get_by_role("heading", name="Report an incident or give feedback")).to_be_visible()
    assert_no_serious_violations(page)
    yesterday = (region_now(app) - timedelta(days=1)).replace(hour=8, minute=30)
    fill_report(page, REPORT_TEXT, yesterday, UNIT, app)
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
