"""The reporter's side made for a phone: receipt codes typed back in any form, the named
default, the error summary and its ARIA ties, texts over the limit refused and kept, the
confirmation's next steps, and the unread marks on "my reports"."""

import re

import pytest

from app.reports.forms import TEXT_MAX
from app.reports.routes import answer_time
from app.services import NotFound
from app.services.drafts import normalise_receipt, receipt_groups, report_for_receipt
from tests.helpers import RECEIPT, all_reports, form_data, page_text, send_as_coordinator


def anonymous_receipt(client, make_unit) -> str:
    unit = make_unit()
    return RECEIPT.search(client.post("/", data=form_data(unit.id)).get_data(as_text=True))[1]


# The receipt typed back ---------------------------------------------------------------------

SECRET = "ABCD2EFG3HIJ4KLM5NOP"


@pytest.mark.parametrize("typed", [
    "V-000123-ABCD-2EFG-3HIJ-4KLM-5NOP",
    "v-000123-abcd-2efg-3hij-4klm-5nop",
    "V 000123 ABCD 2EFG 3HIJ 4KLM 5NOP",
    "  v000123abcd2efg3hij4klm5nop\n",
    "V–000123–ABCD–2EFG–3HIJ–4KLM–5NOP",  # en dashes, as a word processor writes them
    "V-000123 - ABCD 2EFG-3hij 4KLM.5NOP",
    "V-123-ABCD2EFG3HIJ4KLM5NOP",
])
def test_a_receipt_is_read_in_any_case_with_any_separators(typed):
    assert normalise_receipt(typed) == (123, SECRET)


@pytest.mark.parametrize("typed", [
    "", "V-000123", "V-000123-ABCD-2EFG-3HIJ-4KLM",  # too short
    "V-000123-ABCD-2EFG-3HIJ-4KLM-5NOP-QRST",  # too long
    "V-000123-ABCD-2EFG-3HIJ-4KLM-5NO0",  # 0 is not base32
    "X-000123-ABCD-2EFG-3HIJ-4KLM-5NOP", "V-ABCD-2EFG-3HIJ-4KLM-5NOP",
    "V-0001234567890-ABCD-2EFG-3HIJ-4KLM-5NOP",  # a number of 13 digits
])
def test_what_cannot_be_a_receipt_is_none(typed):
    assert normalise_receipt(typed) is None


def test_a_secret_that_begins_with_digits_is_still_told_from_the_number():
    assert normalise_receipt("V0001232345ABCDEFGHIJKLMNOP") == (123, "2345ABCDEFGHIJKLMNOP")


def test_the_receipt_page_finds_the_report_from_the_code_typed_loosely(app, client, make_unit):
    receipt = anonymous_receipt(client, make_unit)
    for typed in (receipt.replace("-", " ").lower(), receipt.replace("-", ""),
                  " ".join(receipt.split("-", 2)[:2]) + " " + receipt.split("-", 2)[2].lower()):
        response = client.post("/status", data={"receipt": typed})
        assert response.status_code == 200, typed
        assert 'class="facts"' in response.get_data(as_text=True)


def test_a_loosely_typed_code_of_another_report_is_still_refused(app, client, make_unit):
    receipt = anonymous_receipt(client, make_unit)
    number = int(receipt.split("-")[1])
    other = receipt.replace(f"{number:06d}", f"{number + 1:06d}").replace("-", " ")
    with app.app_context(), pytest.raises(NotFound):
        report_for_receipt(other)


def test_the_receipt_breaks_only_between_its_groups(client, make_unit):
    receipt = anonymous_receipt(client, make_unit)
    assert receipt_groups(receipt) == [receipt[:8], *receipt[9:].split("-")]
    page = client.post("/", data=form_data(make_unit("Akuten").id)).get_data(as_text=True)
    code = re.search(r'<code class="receipt-code"[^>]*>(.*?)</code>', page).group(1)
    assert code.count("<wbr>") == 5 and "word-break" not in code
    assert all(len(re.sub(r"-$", "", part)) in (4, 8)
               for part in re.findall(r"<span>([^<]+)</span>", code))
    assert re.sub(r"<[^>]+>", "", code) == RECEIPT.search(page)[1]


# What happens next ------------------------------------------------------------------------

@pytest.mark.parametrize(("days", "words"), [
    (1, "within a day"), (5, "within 5 days"), (7, "within a week"), (14, "within 2 weeks"),
    (10, "within 10 days")])
def test_the_usual_answer_time_is_said_in_words(app, days, words):
    with app.test_request_context():
        assert answer_time(days) == words


def test_the_anonymous_confirmation_says_what_happens_next(app, client, make_unit):
    app.config["REPORT_ANSWER_DAYS"] = 7
    text = page_text(client.post("/", data=form_data(make_unit().id)))
    assert "What happens next" in text and "usually answers within a week" in text
    assert "Copy the code" in text


def test_the_swedish_confirmation_says_it_in_swedish(app, client, make_unit):
    client.post("/language/sv", data={"next": "/"})
    text = page_text(client.post("/", data=form_data(make_unit().id)))
    assert "Vad händer nu" in text and "inom 5 dagar" in text


# A member of staff reports with their name unless they choose otherwise ----------------------

def checked_identity(page: str) -> list[str]:
    return re.findall(r'<input checked id="identity-\d" name="identity" type="radio" '
                      r'value="(\w+)">', page)


def test_a_logged_in_member_of_staff_is_named_by_default(client, make_unit, make_user, login):
    make_unit()
    login(make_user("staff"))
    page = client.get("/").get_data(as_text=True)
    assert checked_identity(page) == ["named"]
    assert 'value="anonymous"' in page and "Anonymously" in page


def test_a_post_without_the_choice_is_anonymous(app, client, make_unit, make_user, login):
    unit = make_unit()
    login(make_user("staff"))
    data = form_data(unit.id)
    del data["identity"]
    assert client.post("/", data=data).status_code == 200
    assert all_reports(app)[0].reporter_id is None


def test_the_named_confirmation_leads_to_my_reports(app, client, make_unit, make_user, login):
    unit = make_unit()
    login(make_user("staff"))
    page = client.post("/", data=form_data(unit.id, identity="named")).get_data(as_text=True)
    assert 'href="/report/mine"' in page and 'href="/status"' not in page.split("<main")[1]
    assert "receipt-code" not in page


# Errors: a summary that takes the focus, fields tied to their messages ---------------------

def test_a_failed_post_leads_with_a_summary_linking_to_each_field(client, make_unit):
    unit = make_unit()
    response = client.post("/", data=form_data(unit.id, text="kort", when="", occurred_at=""))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    summary = re.search(r'<div class="error-summary" id="error-summary" tabindex="-1" autofocus'
                        r'[^>]*>(.*?)</div>', page, re.S).group(1)
    assert page.index("error-summary") < page.index("<h1>")
    assert re.findall(r'href="#([\w-]+)"', summary) == ["text", "when-0"]
    assert "Write at least 10 characters" in summary and "Choose when it happened" in summary


def test_every_field_with_an_error_is_invalid_and_described_by_its_message(client, make_unit):
    make_unit()
    page = client.post("/", data=form_data("", text="kort", when="", occurred_at="")
                       ).get_data(as_text=True)
    text = re.search(r"<textarea[^>]*>", page).group(0)
    assert 'aria-invalid="true"' in text
    assert 'aria-describedby="text-hint text-count text-error"' in text
    assert 'id="text-error"' in page and 'id="text-count"' in page
    unit_select = re.search(r'<select[^>]*id="unit_id"[^>]*>', page).group(0)
    assert 'aria-describedby="unit_id-error"' in unit_select
    assert 'aria-invalid="true"' in unit_select
    when = re.search(r'<fieldset role="radiogroup"[^>]*>\s*<legend>When did it happen', page)
    assert 'aria-describedby="when-error"' in when.group(0)
    assert 'aria-invalid="true"' in when.group(0)
    kind = re.search(r'<fieldset role="radiogroup"[^>]*>\s*<legend>Type of report', page)
    assert "aria-invalid" not in kind.group(0)
    area = re.search(r'<select[^>]*id="area"[^>]*>', page).group(0)
    assert "aria-invalid" not in area and "aria-describedby" not in area


def test_a_valid_form_has_no_summary_and_no_invalid_field(client, make_unit):
    make_unit()
    page = client.get("/").get_data(as_text=True)
    assert "error-summary" not in page and "aria-invalid" not in page


def test_the_text_area_has_no_maxlength_and_states_its_limit(client, make_unit):
    make_unit()
    page = client.get("/").get_data(as_text=True)
    text = re.search(r"<textarea[^>]*>", page).group(0)
    assert "maxlength" not in text and f'data-count-max="{TEXT_MAX}"' in text
    assert "At most 10,000 characters." in page
    assert '<script src="/static/reporter.js" defer>' in page


def test_a_paste_over_the_limit_is_refused_with_how_much_and_kept_whole(app, client, make_unit):
    unit = make_unit()
    pasted = "Journalen frös. " * 700  # 11,200 characters, the last space stripped
    response = client.post("/", data=form_data(unit.id, text=pasted))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "The text is 11,199 characters long, 1,199 more than the 10,000 allowed." in page
    assert pasted.strip() in page  # all of it, back in the text area
    assert not all_reports(app)


def test_the_limit_counts_a_line_break_as_one_character_as_the_counter_does(app, client,
                                                                           make_unit):
    unit = make_unit()
    text = ("x" * 99 + "\r\n") * 100  # 10,000 characters with LF line breaks
    assert client.post("/", data=form_data(unit.id, text=text)).status_code == 200
    assert all_reports(app)[0].text == text.replace("\r\n", "\n").strip()


def test_the_optional_details_unfold_when_given_or_wrong(client, make_unit):
    unit = make_unit()
    assert '<details class="more">' in client.get("/").get_data(as_text=True)
    wrong = client.post("/", data=form_data(unit.id, text="kort", impact="harm"))
    assert '<details class="more" open>' in wrong.get_data(as_text=True)
    defaults = client.post("/", data=form_data(unit.id, text="kort", area="other",
                                               impact="unknown"))
    assert '<details class="more">' in defaults.get_data(as_text=True)


def test_a_wrong_receipt_leads_with_the_summary_too(client):
    response = client.post("/status", data={"receipt": "V-1-nonsense"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'href="#receipt"' in page and 'aria-describedby="receipt-error"' in page


# "My reports" marks what the coordination group wrote since the reporter looked ------------

def test_my_reports_marks_the_reports_with_unread_messages(app, client, make_user, login,
                                                           make_report):
    staff, coordinator = make_user("staff"), make_user("coordinator")
    login(staff)
    answered, quiet = make_report(reporter=staff), make_report(reporter=staff)
    send_as_coordinator(app, answered, coordinator, "Kan du beskriva vilken vy det var?")

    def marked() -> list[str]:
        page = client.get("/report/mine").get_data(as_text=True)
        return re.findall(r'/report/mine/(\d+)">V-\d+</a> <span class="tag unread">', page)

    assert marked() == [str(answered)]
    client.get(f"/report/mine/{answered}")
    assert marked() == []
    send_as_coordinator(app, answered, coordinator, "Tack, nu vet vi.")
    send_as_coordinator(app, quiet, coordinator, "En fråga till.")
    assert marked() == [str(quiet), str(answered)]


def test_a_coordinator_reading_the_report_does_not_mark_it_read_for_the_reporter(
        app, client, make_user, login, make_report):
    staff, coordinator = make_user("staff"), make_user("coordinator")
    report_id = make_report(reporter=staff)
    send_as_coordinator(app, report_id, coordinator, "Vilken dator var det?")
    login(coordinator)
    assert client.get(f"/triage/reports/{report_id}").status_code == 200
    client.post("/logout")
    login(staff)
    assert 'class="tag unread"' in client.get("/report/mine").get_data(as_text=True)


def test_a_time_typed_under_another_choice_shows_under_it_with_the_error(client, make_unit):
    unit = make_unit()
    page = client.post("/", data=form_data(unit.id, when="now")).get_data(as_text=True)
    assert '<div class="field when-other_day shown invalid">' in page
    assert '<div class="field when-today">' in page  # nothing typed: shown under its choice
    typed = re.search(r'<input[^>]*id="occurred_at"[^>]*>', page).group(0)
    assert 'aria-invalid="true"' in typed and 'value="2026-03-14T08:30"' in typed
    assert 'href="#occurred_at">You typed a time for another choice' in page
