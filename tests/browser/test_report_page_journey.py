"""The report page in a real browser: opened from a filtered queue, decided with the keyboard
(confirm the model's categories, assign to me, save and next), on to the next report with the
filters kept; axe-core and no sideways scrolling on a desktop and on a phone."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from app.services.classification import classify_reports
from tests.browser.pages import assert_no_serious_violations, log_in
from tests.helpers import fetch_report

ARTIFACTS = Path(__file__).parent.parent.parent / "test-artifacts"
TEXTS = ["Patienten fick dubbel dos morfin, ordinationen syntes två gånger i listan.",
         "Skrivaren på avdelningen skriver inte ut etiketterna till proverna.",
         "Ingen har visat oss hur man signerar ordinationer i det nya systemet."]


@pytest.fixture
def reports(app, make_report, active_model) -> list[int]:
    """Three classified reports of one unit in the queue's urgency order (one of another
    unit among them, which the unit filter leaves out)."""
    ids = [make_report(text, unit="Avdelning 12") for text in TEXTS]
    make_report("Larmet på pumpen gick hela natten.", unit="Akuten")
    with app.app_context():
        assert classify_reports(ids) == len(ids)
    return sorted(ids, key=lambda i: (-fetch_report(app, i).priority, i))


def no_sideways_scroll(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.browser
def test_decide_with_the_keyboard_and_go_on_keeping_the_filters(page: Page, live_server: str,
                                                                app, make_user, reports):
    coordinator = make_user("coordinator", email="samordnare@example.org")
    first, second, third = reports
    log_in(page, live_server, coordinator)
    unit_id = fetch_report(app, first).unit_id
    page.goto(f"{live_server}/triage/?unit={unit_id}&order=urgency")
    reference = f"V-{second:06d}"
    page.get_by_role("link", name=reference, exact=True).click()
    expect(page.get_by_role("heading", name=f"Report {reference}")).to_be_visible()
    expect(page).to_have_url(re.compile(rf"/triage/reports/{second}\?unit={unit_id}&order="))
    expect(page.get_by_role("heading", name="Shortcuts")).to_be_visible()
    expect(page.locator("a[rel=prev]")).to_have_attribute(
        "href", re.compile(rf"/triage/reports/{first}\?unit={unit_id}"))

    decision = page.locator("#decision")
    for box in decision.locator("input[name=categories]").all():
        box.uncheck()
    page.locator("h1").click()  # out of any field: shortcuts work from the page
    page.keyboard.press("c")
    model_categories = decision.get_attribute("data-model-categories").split()
    for box in decision.locator("input[name=categories]").all():
        assert box.is_checked() == (box.get_attribute("value") in model_categories)
    page.keyboard.press("a")
    expect(decision.get_by_label("Assigned to")).to_have_value(str(coordinator.id))

    # Typed into a field, the same key is a letter, not a shortcut.
    comment = page.locator("#comment-body")
    comment.fill("")
    comment.press("j")
    expect(comment).to_have_value("j")
    expect(page).to_have_url(re.compile(rf"/triage/reports/{second}\?"))
    comment.fill("")

    page.locator("h1").click()
    page.keyboard.press("s")
    expect(page.get_by_role("heading", name=f"Report V-{third:06d}")).to_be_visible()
    expect(page).to_have_url(re.compile(rf"/triage/reports/{third}\?unit={unit_id}&order="))
    expect(page.get_by_text(f"Your decision on {reference} is saved.")).to_be_visible()
    decided = fetch_report(app, second)
    assert decided.assignee_id == coordinator.id and decided.labels_reviewed
    assert set(decided.categories) == set(model_categories)
    assert decided.risk_confirmed

    page.keyboard.press("k")
    expect(page).to_have_url(re.compile(rf"/triage/reports/{second}\?unit={unit_id}&order="))
    page.get_by_role("link", name="Back to the queue").click()
    expect(page).to_have_url(re.compile(rf"/triage/\?unit={unit_id}&order=urgency$"))


@pytest.mark.browser
@pytest.mark.parametrize(("width", "height"), [(1366, 900), (390, 844)])
def test_the_report_page_is_accessible_and_fits(page: Page, live_server: str, make_user,
                                                reports, width, height):
    page.set_viewport_size({"width": width, "height": height})
    log_in(page, live_server, make_user("coordinator"))
    page.goto(f"{live_server}/triage/reports/{reports[1]}?status=open")
    expect(page.locator("#decision")).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"report-page-{width}.png"), full_page=True)
    assert_no_serious_violations(page)
    if width < 500:
        assert no_sideways_scroll(page)
    page.goto(f"{live_server}/triage/")
    expect(page.locator("table.queue tbody tr").first).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / f"queue-{width}.png"))
