"""The coordination group's journey in a real browser: filter, open, correct, group, resolve.

An anonymous report comes in through the form; a coordinator finds it with the
queue's search and filters, corrects its categories, puts it in a known issue
and resolves that issue; the reporter then reads the resolution note with the
receipt code. Every page on the way is checked with axe-core.
"""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from models import KnownIssue, db
from tests.browser.pages import (
    assert_no_serious_violations,
    fill_report,
    log_in,
    region_now,
    submit_report,
)

UNIT = "Avdelning 40 Infektion"
REPORT_TEXT = ("Kaliumvärdet från labbet kom aldrig in i journalen, så ordinationen av "
               "kaliumklorid gjordes på ett gammalt provsvar.")
ISSUE = "Provsvar från labbet når inte journalen"
NOTE = "Leverantören har rättat integrationen mot labbsystemet den 3 december."


@pytest.mark.browser
def test_filter_open_correct_attach_and_resolve(page: Page, live_server: str, app, make_unit,
                                                make_user, make_report, active_model) -> None:
    make_unit(UNIT)
    coordinator = make_user(role="coordinator")
    with app.app_context():
        db.session.add(KnownIssue(title=ISSUE, created_by_id=coordinator.id))
        db.session.commit()
    unrelated = f"V-{make_report('Parkeringen vid entrén är full varje morgon.'):06d}"

    page.goto(f"{live_server}/")
    fill_report(page, REPORT_TEXT, region_now(app) - timedelta(hours=3), UNIT, app)
    reference, receipt = submit_report(page)

    log_in(page, live_server, coordinator)
    page.get_by_text("Filters", exact=True).click()  # folded away until asked for
    filters = page.get_by_role("search")
    filters.get_by_label("Search").fill("kalium")
    filters.get_by_label("Patient impact").select_option(label="Harm")
    filters.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"[?&]q=kalium.*impact=harm"))
    expect(page.get_by_role("link", name=reference, exact=True)).to_be_visible()
    expect(page.get_by_role("link", name=unrelated, exact=True)).to_have_count(0)
    expect(page.get_by_role("link", name="Remove the filter Search: kalium")).to_be_visible()
    bulk = page.get_by_role("form", name="Change the ticked reports")
    expect(bulk).to_be_hidden()
    page.get_by_label(f"Tick {reference}").check()
    expect(bulk).to_be_visible()
    page.get_by_label(f"Tick {reference}").uncheck()
    assert_no_serious_violations(page)

    page.get_by_role("link", name=reference, exact=True).click()
    expect(page.get_by_role("heading", name=f"Report {reference}")).to_be_visible()
    review = page.locator("form", has=page.get_by_role("button", name="Save decision"))
    review.get_by_label("Patient safety").check()
    review.get_by_label("Training").check()
    review.get_by_role("button", name="Save decision").click()
    expect(page.get_by_text(f"Your decision on {reference} is saved.")).to_be_visible()
    expect(review.get_by_label("Training")).to_be_checked()
    assert_no_serious_violations(page)

    known_issue = page.locator("#known-issue")
    known_issue.get_by_label("Put it in a known issue").select_option(label=ISSUE)
    known_issue.locator("form", has=page.get_by_label("Put it in a known issue")).get_by_role(
        "button", name="Put it in").click()
    expect(known_issue.get_by_role("link", name=ISSUE)).to_be_visible()
    known_issue.get_by_role("link", name=ISSUE).click()

    expect(page.get_by_role("heading", name=ISSUE)).to_be_visible()
    expect(page.get_by_role("link", name=reference, exact=True)).to_be_visible()
    assert_no_serious_violations(page)
    page.get_by_label("Resolution note").fill(NOTE)
    page.get_by_role("button", name="Resolve").click()
    expect(page.get_by_role("button", name="Reopen")).to_be_visible()

    page.get_by_role("button", name="Log out").click()
    page.goto(f"{live_server}/status")
    page.get_by_label("Receipt code").fill(receipt)
    page.get_by_role("button", name="Show status").click()
    expect(page.get_by_role("heading", name="The problem is resolved")).to_be_visible()
    expect(page.get_by_text(NOTE)).to_be_visible()
    assert_no_serious_violations(page)
