"""The reporter's pages on a 390 × 844 phone (and at 1366 × 900): a short anonymous report
from the home page to the receipt in a few taps, the receipt copied, no page wider than
the screen, touch targets of at least 44 × 44 px, and no axe-core violation at all.

Screenshots of every page at both sizes go to test-artifacts/ (not committed). The tests
take some seconds each: a real Chromium, one axe-core run per page and size.
"""

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect

from models import User
from tests.browser.pages import (
    ALL_IMPACTS,
    RECEIPT_CODE,
    assert_no_serious_violations,
    log_in,
)
from tests.helpers import send_as_coordinator

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
UNIT = "Avdelning 12 Kardiologi"
SHORT_TEXT = "Journalen frös när jag skulle signera läkemedlen."
#: The touch targets of a reporter's page; links inside running text are exempt (WCAG 2.5.5).
TARGETS = ("label.option, button:visible, select, input:not([type=hidden]):not([type=radio]), "
           "details > summary, header.site a, .actions a")
MIN_TARGET_PX = 44


def new_context(browser: Browser, viewport: dict, locale: str = "en-US") -> BrowserContext:
    phone = viewport == PHONE
    context = browser.new_context(locale=locale, viewport=viewport, is_mobile=phone,
                                  has_touch=phone, device_scale_factor=2 if phone else 1)
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    return context


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    context = new_context(browser, PHONE)
    try:
        yield context.new_page()
    finally:
        context.close()


class Taps:
    """Taps as a reporter makes them: a select is two (open it, pick the choice)."""

    def __init__(self, page: Page) -> None:
        self.page, self.count = page, 0
        #: Where the send button was on the page (px from its top) when it was tapped.
        self.send_at = 0.0

    def tap(self, target: Locator) -> None:
        target.tap()
        self.count += 1

    def choose(self, select: Locator, label: str) -> None:
        select.tap()
        select.select_option(label=label)
        self.count += 2


def no_sideways_scroll(page: Page) -> None:
    width, inner = page.evaluate(
        "[document.documentElement.scrollWidth, window.innerWidth]")
    assert width <= inner, f"{page.url} is {width} px wide in a {inner} px window"


def small_targets(page: Page) -> list[str]:
    """The visible touch targets smaller than 44 × 44 px, described."""
    found = []
    for target in page.locator(TARGETS).all():
        box = target.bounding_box()
        if box and target.is_visible() and (box["width"] < MIN_TARGET_PX
                                            or box["height"] < MIN_TARGET_PX):
            found.append(f"{target.evaluate('e => e.outerHTML.slice(0, 80)')} "
                         f"{box['width']:.0f}×{box['height']:.0f}")
    return found


def check(page: Page, name: str, size: str) -> None:
    """What every reporter's page must be, at either size; and its screenshot."""
    no_sideways_scroll(page)
    if size == "phone":
        assert small_targets(page) == [], page.url
    assert_no_serious_violations(page, impacts=ALL_IMPACTS)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"reporter-{name}-{size}.png", full_page=True)


def send_short_report(phone: Page, base: str) -> Taps:
    """From the home page to the receipt, tapping as a reporter would; returns the taps."""
    phone.goto(f"{base}/")
    taps = Taps(phone)
    text = phone.get_by_label("What happened?")
    taps.tap(text)
    text.fill(SHORT_TEXT)
    taps.tap(phone.get_by_label("Just now"))
    taps.choose(phone.get_by_label("Unit or ward"), UNIT)
    send = phone.get_by_role("button", name="Send report")
    taps.send_at = send.bounding_box()["y"] + phone.evaluate("window.scrollY")
    taps.tap(send)
    expect(phone.locator(".receipt-code")).to_have_text(RECEIPT_CODE)
    return taps


@pytest.mark.browser
def test_an_anonymous_short_report_on_a_phone_takes_few_taps_and_the_code_copies(
        phone: Page, live_server: str, make_unit, active_model) -> None:
    make_unit(UNIT)
    started = time.monotonic()
    taps = send_short_report(phone, live_server)
    seconds = time.monotonic() - started
    print(f"\nshort anonymous report on a phone: {taps.count} taps, {seconds:.1f} s, "
          f"send button at y = {taps.send_at:.0f} px")
    assert taps.count < 8 and seconds < 60
    assert taps.send_at < 2 * PHONE["height"], "the send button is a long scroll away"

    receipt = phone.locator(".receipt-code")
    for group in receipt.locator("span").all():  # no group is broken over two lines
        assert group.evaluate("e => e.getClientRects().length") == 1
    phone.get_by_role("button", name="Copy the code").tap()
    expect(phone.get_by_role("status")).to_have_text(
        "The receipt code is copied. Paste it where you keep it safe.")
    assert phone.evaluate("navigator.clipboard.readText()") == receipt.inner_text()


@pytest.mark.browser
def test_without_the_clipboard_api_the_copy_button_selects_the_code(
        phone: Page, live_server: str, make_unit, active_model) -> None:
    make_unit(UNIT)
    # A browser without the asynchronous clipboard (an older one, or a page not on HTTPS).
    phone.add_init_script(
        "Object.defineProperty(Navigator.prototype, 'clipboard', {get: () => undefined})")
    send_short_report(phone, live_server)
    phone.get_by_role("button", name="Copy the code").tap()
    expect(phone.get_by_role("status")).to_have_text(
        "The receipt code is selected: copy it with your phone’s or computer’s menu.")
    assert phone.evaluate("String(window.getSelection())") == (
        phone.locator(".receipt-code").inner_text())


@pytest.mark.browser
def test_the_error_summary_takes_the_focus_and_leads_to_the_field(
        phone: Page, live_server: str, make_unit) -> None:
    make_unit(UNIT)
    phone.goto(f"{live_server}/")
    phone.get_by_label("What happened?").fill("x" * 10_050)
    expect(phone.locator("#text-count")).to_have_text("50 characters too many")
    phone.get_by_role("button", name="Send report").tap()
    summary = phone.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(phone.locator("#text-error")).to_contain_text(
        "The text is 10,050 characters long, 50 more than the 10,000 allowed.")
    expect(phone.get_by_label("What happened?")).to_have_value("x" * 10_050)  # nothing cut
    summary.get_by_role("link", name="The text is 10,050").tap()
    expect(phone.get_by_label("What happened?")).to_be_focused()


def reporter_pages(page: Page, base: str, staff: User,
                   report_ids: tuple[int, int]) -> Iterator[str]:
    """Go through every page a reporter sees; yields each page's name once it is shown."""
    page.goto(f"{base}/")
    yield "form"
    page.get_by_role("button", name="Send report").click()
    expect(page.locator("#error-summary")).to_be_visible()
    yield "form-errors"
    page.get_by_label("What happened?").fill(SHORT_TEXT)
    page.get_by_label("Just now").check()
    page.get_by_label("Unit or ward").select_option(label=UNIT)
    page.get_by_role("button", name="Send report").click()
    code = page.locator(".receipt-code")
    expect(code).to_have_text(RECEIPT_CODE)
    page.wait_for_load_state()
    receipt = code.inner_text()
    yield "confirmation"
    page.goto(f"{base}/status")
    yield "status-lookup"
    page.get_by_label("Receipt code").fill(receipt.replace("-", " ").lower())
    page.get_by_role("button", name="Show status").click()
    expect(page.locator("dl.facts")).to_be_visible()
    page.wait_for_load_state()  # its stylesheet too, before the targets are measured
    yield "status"
    page.goto(f"{base}/login")
    yield "login"
    log_in(page, base, staff)
    page.goto(f"{base}/")
    yield "form-named"
    page.goto(f"{base}/report/mine")
    expect(page.locator(".tag.unread")).to_have_count(1)
    yield "my-reports"
    page.goto(f"{base}/report/mine/{report_ids[0]}")
    yield "own-report"


@pytest.mark.browser
@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_every_reporter_page_fits_and_passes_axe(
        app, browser: Browser, live_server: str, make_user, make_report,
        active_model, size: str) -> None:
    staff, coordinator = make_user("staff"), make_user("coordinator")
    ids = (make_report(SHORT_TEXT, unit=UNIT, reporter=staff),
           make_report("Utskriften av remissen blev tom.", unit=UNIT, reporter=staff))
    send_as_coordinator(app, ids[0], coordinator, "Vilken dator hände det på?")
    context = new_context(browser, PHONE if size == "phone" else DESKTOP)
    try:
        page, seen = context.new_page(), []
        for name in reporter_pages(page, live_server, staff, ids):
            check(page, name, size)
            seen.append(name)
    finally:
        context.close()
    assert len(seen) == 9


def first_screen_layout(page: Page) -> str:
    """Where the form's parts sit (px from the top, and how wide), to tell what pushes the
    button down."""
    return page.evaluate("""() => [...document.querySelectorAll(
        'header.site > *, header nav li, main h1, .report-form > *')]
        .filter(e => e.offsetParent !== null)
        .map(e => {
            const box = e.getBoundingClientRect();
            return `${e.tagName.toLowerCase()}.${e.className || e.id} ${Math.round(box.width)}`
                   + ` wide: ${Math.round(box.top)}-${Math.round(box.bottom)}`;
        }).join('\\n')""")


@pytest.mark.browser
@pytest.mark.parametrize("reporter", ["anonymous", "staff"])
@pytest.mark.parametrize("language", ["en-US", "sv-SE"])
def test_the_send_button_is_on_the_first_screen_of_a_phone(
        browser: Browser, live_server: str, make_unit, make_user, reporter: str,
        language: str) -> None:
    make_unit(UNIT)
    context = new_context(browser, PHONE, locale=language)
    try:
        phone = context.new_page()
        if reporter == "staff":
            log_in(phone, live_server, make_user("staff"))
        phone.goto(f"{live_server}/")
        send_on_first_screen(phone, f"{reporter}-{language}")
    finally:
        context.close()


def send_on_first_screen(phone: Page, name: str) -> None:
    send = phone.locator(".report-form input[type=submit]").bounding_box()
    assert phone.evaluate("window.scrollY") == 0
    print(f"\n{name}: the send button ends at y = {send['y'] + send['height']:.0f} px")
    assert send["height"] >= MIN_TARGET_PX
    assert send["y"] + send["height"] <= PHONE["height"], first_screen_layout(phone)
    ARTIFACTS.mkdir(exist_ok=True)
    phone.screenshot(path=ARTIFACTS / f"reporter-first-screen-{name}-phone.png")


@pytest.mark.browser
def test_the_login_pages_error_summary_takes_the_focus_and_leads_to_the_field(
        phone: Page, live_server: str) -> None:
    phone.goto(f"{live_server}/login")
    phone.locator("main form input[type=submit]").tap()
    summary = phone.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(phone.locator("#email")).to_have_attribute("aria-invalid", "true")
    summary.get_by_role("link", name="Enter your password.").tap()
    expect(phone.locator("#password")).to_be_focused()
    no_sideways_scroll(phone)
