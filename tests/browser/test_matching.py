"""The report form in Chromium: typing shows the matching open known issues, announced in a
live region, and "This is my problem too" files the report into the one chosen."""

from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from app.services.known_issues import create_known_issue
from app.services.similarity import index_reports
from models import Report, User, db
from tests.browser.pages import assert_no_serious_violations, fill_report, region_now, submit_report

UNIT = "Avdelning 12"
LAB = ["Labbsvaren syns inte i journalen sedan uppdateringen, vi fick ringa labbet.",
       "Provsvaren kommer inte över till journalen efter uppdateringen."]
TITLE = "Lab results missing from the record"


@pytest.mark.browser
def test_typing_shows_a_matching_known_issue_and_the_choice_files_the_report(
        app, page: Page, live_server: str, make_report, make_user) -> None:
    author = make_user("coordinator")
    ids = [make_report(text, unit=UNIT) for text in LAB]
    with app.app_context():
        index_reports(ids)
        issue_id = create_known_issue(TITLE, None, db.session.get(User, author.id), ids).id
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text)
            if "Content Security Policy" in message.text else None)

    page.goto(f"{live_server}/")
    matches = page.get_by_role("region", name="Known problems that look like yours")
    expect(matches).to_be_hidden()
    yesterday = (region_now(app) - timedelta(days=1)).replace(hour=8, minute=30)
    fill_report(page, "Kaffemaskinen", yesterday, UNIT, app)
    page.get_by_label("What happened?").press_sequentially(
        " och labbsvaren syns inte i journalen", delay=5)
    expect(matches).to_be_visible()
    expect(matches.get_by_text(TITLE)).to_be_visible()
    expect(page.locator("#matching-status")).to_have_text("One known problem looks like yours.")
    assert_no_serious_violations(page)

    choice = matches.get_by_role("button", name="This is my problem too")
    choice.focus()
    page.keyboard.press("Enter")  # keyboard, as a reporter without a mouse would
    expect(choice).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#matching-status")).to_have_text(
        f"Your report will be filed under the known problem: {TITLE}.")
    reference, _receipt = submit_report(page)
    expect(page.get_by_text(TITLE)).to_be_visible()
    with app.app_context():
        report = db.session.scalar(select(Report).where(Report.id == int(reference[2:])))
        assert report.known_issue_id == issue_id
    assert errors == []  # no script error, no CSP refusal
