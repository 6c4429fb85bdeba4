"""Reporters in the loop (issue 11): the report form shows the open known issues that match
what is typed and files the report into the one chosen; a coordinator's updates on a known
issue reach every reporter in it, named and anonymous, and no one else."""

import re
import secrets
from datetime import datetime

import pytest
from sqlalchemy import func, select

from app.extensions import limiter
from app.reports.forms import MATCH_TEXT_MAX
from app.services.drafts import ReportDraft
from app.services.known_issues import create_known_issue, resolve
from app.services.reports import submit_report
from app.services.similarity import index_reports
from models import UPDATE_MAX, KnownIssueUpdate, Report, User, db
from tests.helpers import PASSWORD, RECEIPT, events, fetch_report, form_data, page_text

LAB = [
    "Labbsvaren syns inte i journalen sedan uppdateringen, vi fick ringa labbet.",
    "Lab results are not showing in the record since the update, we had to phone the lab.",
    "Provsvaren kommer inte över till journalen efter uppdateringen.",
]
#: Words that belong to one reporter's report only: no other page may show them.
PRIVATE = "Labbsvaren för sängplats sju syns inte i journalen sedan uppdateringen."
TYPED = "labbsvaren syns inte i journalen"
WORKAROUND = "Workaround: open the results from the lab portal until the fix on 14 March."

#: A report about nothing any known issue of these tests is about.
UNRELATED = "Kaffemaskinen i personalrummet läcker vatten över hela golvet."


def submit(app, unit_id: int, text: str, reporter: User | None = None,
           known_issue_id: int | None = None) -> tuple[int, str | None]:
    draft = ReportDraft(kind="incident", text=text, occurred_at=datetime(2026, 3, 1, 8),
                        unit_id=unit_id, area="test_results", impact="none", suggestion=None,
                        submission_token=secrets.token_urlsafe(24),
                        known_issue_id=known_issue_id)
    with app.app_context():
        user = db.session.get(User, reporter.id) if reporter else None
        submission = submit_report(draft, user)
        return submission.report.id, submission.receipt_code


def new_issue(app, actor: User, title: str, report_ids: list[int] = ()) -> int:
    with app.app_context():
        return create_known_issue(title, None, db.session.get(User, actor.id), report_ids).id


def resolve_issue(app, actor: User, issue_id: int) -> None:
    with app.app_context():
        resolve(issue_id, "Fixed.", db.session.get(User, actor.id))


@pytest.fixture
def lab_issue(app, make_unit, make_user):
    """An open known issue of lab-result reports (indexed), and a resolved one of printers."""
    unit = make_unit()
    author = make_user("coordinator", email="author@example.org")
    ids = [submit(app, unit.id, text)[0] for text in LAB]
    with app.app_context():
        index_reports(ids)
    return {"unit": unit.id, "author": author,
            "issue": new_issue(app, author, "Lab results missing from the record", ids)}


def matches(client, text: str, **args):
    return client.get("/report/matching-issues", query_string={"text": text, **args})


# Matching known issues while typing ----------------------------------------------------

def test_typed_text_matches_the_open_known_issue_it_resembles(client, lab_issue):
    response = matches(client, TYPED)
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.json == {"issues": [{"id": lab_issue["issue"],
                                         "title": "Lab results missing from the record",
                                         "status": "Open"}]}


def test_the_status_is_in_the_reporters_language(client, lab_issue):
    response = client.get("/report/matching-issues", query_string={"text": TYPED},
                          headers={"Accept-Language": "sv"})
    assert response.json["issues"][0]["status"] == "Öppet"


def test_a_resolved_known_issue_is_not_offered(app, client, lab_issue):
    resolve_issue(app, lab_issue["author"], lab_issue["issue"])
    assert matches(client, TYPED).json == {"issues": []}


@pytest.mark.parametrize("text", ["", "labbsvar", "kaffemaskinen i personalrummet är trasig",
                                  "qwerty asdfgh zxcvbn"])
def test_short_or_unrelated_text_matches_nothing(client, lab_issue, text):
    response = matches(client, text)
    assert response.status_code == 200 and response.json == {"issues": []}


def test_at_most_three_issues_best_first(app, client, lab_issue, make_user):
    author = lab_issue["author"]
    for title in ("Labbsvaren syns inte", "Provsvaren saknas i journalen",
                  "Labbsvaren kommer inte fram", "Journalen visar inga labbsvar"):
        new_issue(app, author, title)
    issues = matches(client, TYPED).json["issues"]
    assert len(issues) == 3
    assert {"id", "title", "status"} == set().union(*issues)


def test_no_reports_text_is_sent_with_a_match(app, client, lab_issue):
    submit(app, lab_issue["unit"], PRIVATE, known_issue_id=lab_issue["issue"])
    body = matches(client, TYPED).get_data(as_text=True)
    assert lab_issue["issue"] == matches(client, TYPED).json["issues"][0]["id"]
    for text in [PRIVATE, *LAB]:
        assert text not in body and "sängplats" not in body and "ringa" not in body


@pytest.mark.parametrize("query", [{"text": TYPED, "extra": "1"}, {"q": TYPED},
                                   {"text": "x" * (MATCH_TEXT_MAX + 1)}])
def test_bad_arguments_are_refused(client, lab_issue, query):
    response = client.get("/report/matching-issues", query_string=query)
    assert response.status_code == 400


def test_text_of_the_longest_length_is_matched(client, lab_issue):
    text = (TYPED + " ") * 20
    response = matches(client, text[:MATCH_TEXT_MAX])
    assert response.status_code == 200 and len(response.json["issues"]) == 1


@pytest.mark.parametrize("app_config", [{"RATELIMIT_ENABLED": True,
                                         "MATCHING_LIMIT_PER_ADDRESS": "3 per minute"}])
def test_matching_is_throttled_per_address(app, client, lab_issue):
    with app.app_context():
        limiter.reset()
    codes = [client.get("/report/matching-issues", query_string={"text": TYPED},
                        environ_base={"REMOTE_ADDR": "10.0.0.1"}).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    other = client.get("/report/matching-issues", query_string={"text": TYPED},
                       environ_base={"REMOTE_ADDR": "10.0.0.2"})
    assert other.status_code == 200


def test_the_form_offers_matches_with_its_own_script_under_the_csp(client):
    response = client.get("/")
    html = response.get_data(as_text=True)
    assert 'id="matching-issues"' in html and 'role="status"' in html
    assert 'data-url="/report/matching-issues"' in html
    assert 'name="known_issue_id"' in html
    scripts = re.findall(r"<script[^>]*>(.*?)</script>", html, re.S)
    assert scripts == ["", ""]  # scripts loaded from this site, nothing inline
    assert '<script src="/static/matching.js" defer>' in html
    assert '<script src="/static/reporter.js" defer>' in html
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    script = client.get("/static/matching.js")
    assert script.status_code == 200 and "aria-pressed" in script.get_data(as_text=True)
    script.close()


# "This is my problem too" -----------------------------------------------------------------

def test_the_chosen_open_known_issue_gets_the_report(app, client, lab_issue):
    response = client.post("/", data=form_data(lab_issue["unit"],
                                               known_issue_id=str(lab_issue["issue"])))
    assert response.status_code == 200
    assert "filed under the known problem: Lab results missing" in page_text(response)
    receipt = RECEIPT.search(response.get_data(as_text=True)).group(1)
    with app.app_context():
        newest = db.session.scalar(select(func.max(Report.id)))
    assert fetch_report(app, newest).known_issue_id == lab_issue["issue"]
    # An anonymous submission is not audited: its time would date it.
    assert str(newest) not in {event.object_id for event in events(app)}
    status = page_text(client.post("/status", data={"receipt": receipt}))
    assert "Part of a known problem" in status and "Lab results missing" in status


def test_a_named_report_goes_into_the_chosen_issue_too(app, client, lab_issue, make_user,
                                                       login):
    staff = make_user("staff")
    login(staff)
    client.post("/", data=form_data(lab_issue["unit"], identity="named",
                                    known_issue_id=str(lab_issue["issue"])))
    with app.app_context():
        report = db.session.scalar(select(Report).where(Report.reporter_id == staff.id))
        assert report.known_issue_id == lab_issue["issue"]


@pytest.mark.parametrize("choice", ["resolved", "missing", "abc", "-1", "9" * 40, ""])
def test_any_other_choice_is_ignored_and_the_report_is_filed(app, client, lab_issue, choice):
    if choice == "resolved":
        resolve_issue(app, lab_issue["author"], lab_issue["issue"])
        choice = str(lab_issue["issue"])
    elif choice == "missing":
        choice = str(lab_issue["issue"] + 100)
    # About something else: like the issue, it would join it by itself (app/services/grouping).
    response = client.post("/", data=form_data(lab_issue["unit"], known_issue_id=choice,
                                               text=UNRELATED))
    assert response.status_code == 200
    assert "Thank you, your report is received" in page_text(response)
    assert "known problem" not in page_text(response)
    with app.app_context():
        newest = db.session.scalar(select(Report).order_by(Report.id.desc()).limit(1))
        assert newest.known_issue_id is None and newest.text == UNRELATED


def test_a_form_sent_back_with_errors_keeps_the_choice(client, lab_issue):
    data = {**form_data(lab_issue["unit"], known_issue_id=str(lab_issue["issue"])),
            "unit_id": ""}
    response = client.post("/", data=data)
    assert response.status_code == 400
    assert (f'name="known_issue_id" type="hidden" value="{lab_issue["issue"]}"'
            in response.get_data(as_text=True))


# Updates on a known issue ------------------------------------------------------------------

@pytest.fixture
def reporters(app, lab_issue, make_user):
    """A named and an anonymous report in the lab issue, and a named one outside it."""
    staff, other_staff = make_user("staff"), make_user("staff")
    named, _ = submit(app, lab_issue["unit"], PRIVATE, staff, lab_issue["issue"])
    anonymous, receipt = submit(app, lab_issue["unit"], LAB[0] + " Igen.", None,
                                lab_issue["issue"])
    outside, _ = submit(app, lab_issue["unit"], "Skrivaren skriver inte ut.", other_staff)
    return {"staff": staff, "other_staff": other_staff, "named": named,
            "anonymous": anonymous, "receipt": receipt, "outside": outside}


def post_update(client, issue_id: int, body: str):
    return client.post(f"/known-issues/{issue_id}/updates", data={"body": body})


def stored_updates(app) -> list[tuple[int, str]]:
    with app.app_context():
        return [(u.known_issue_id, u.body) for u in
                db.session.scalars(select(KnownIssueUpdate).order_by(KnownIssueUpdate.id))]


def test_a_coordinator_posts_an_update_which_is_audited_without_its_text(
        app, client, coordinator, lab_issue):
    response = post_update(client, lab_issue["issue"], f"  {WORKAROUND}\r\n  ")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/known-issues/{lab_issue['issue']}#updates")
    assert stored_updates(app) == [(lab_issue["issue"], WORKAROUND)]
    [event] = events(app, "known_issue.update")
    assert event.object_id == str(lab_issue["issue"]) and WORKAROUND not in str(event.details)
    page = page_text(client.get(f"/known-issues/{lab_issue['issue']}"))
    assert WORKAROUND in page and coordinator.email in page


def test_the_same_update_sent_twice_is_stored_once(app, client, coordinator, lab_issue):
    post_update(client, lab_issue["issue"], WORKAROUND)
    post_update(client, lab_issue["issue"], WORKAROUND)
    assert len(stored_updates(app)) == 1


@pytest.mark.parametrize(("body", "message"), [
    ("   ", "This field is required."),
    ("x" * (UPDATE_MAX + 1), f"Field cannot be longer than {UPDATE_MAX} characters.")])
def test_a_bad_update_is_refused_and_stores_nothing(app, client, coordinator, lab_issue, body,
                                                    message):
    response = post_update(client, lab_issue["issue"], body)
    assert response.status_code == 302
    assert message in page_text(client.get(response.headers["Location"]))
    assert stored_updates(app) == [] and events(app, "known_issue.update") == []


def test_a_resolved_issue_takes_no_update(app, client, coordinator, lab_issue):
    resolve_issue(app, lab_issue["author"], lab_issue["issue"])
    response = post_update(client, lab_issue["issue"], WORKAROUND)
    assert "the known issue is resolved" in page_text(client.get(response.headers["Location"]))
    assert stored_updates(app) == []


def test_an_update_on_a_missing_issue_is_not_found(client, coordinator, lab_issue):
    assert post_update(client, lab_issue["issue"] + 100, WORKAROUND).status_code == 404


@pytest.mark.parametrize("role", ["staff", "researcher", "admin"])
def test_only_coordinators_post_updates(app, client, make_user, login, lab_issue, role):
    login(make_user(role))
    assert post_update(client, lab_issue["issue"], WORKAROUND).status_code == 403
    assert stored_updates(app) == []


def _reporter_client(app, user: User):
    reporter = app.test_client()
    reporter.post("/login", data={"email": user.email, "password": PASSWORD})
    return reporter


def test_every_reporter_in_the_issue_sees_its_updates_newest_first(
        app, client, coordinator, lab_issue, reporters):
    post_update(client, lab_issue["issue"], "First: we are looking into it.")
    post_update(client, lab_issue["issue"], WORKAROUND)
    staff = _reporter_client(app, reporters["staff"])
    for page in (page_text(staff.get("/report/mine")),
                 page_text(staff.get(f"/report/mine/{reporters['named']}")),
                 page_text(app.test_client().post("/status",
                                                  data={"receipt": reporters["receipt"]}))):
        assert "Lab results missing from the record" in page and "Open" in page
        assert page.index(WORKAROUND) < page.index("First: we are looking into it.")
        assert re.search(r"\d{4}-\d{2}-\d{2}\s*" + re.escape(WORKAROUND), page)
        assert coordinator.email not in page  # reporters see the date, not the author


def test_a_receipt_page_says_the_report_is_in_a_known_issue_from_the_moment_it_is(
        app, client, coordinator, lab_issue, make_unit):
    report_id, receipt = submit(app, lab_issue["unit"], UNRELATED)
    assert "Part of a known problem" not in page_text(
        app.test_client().post("/status", data={"receipt": receipt}))
    client.post("/known-issues/attach", data={"issue": lab_issue["issue"],
                                               "report_ids": str(report_id)})
    page = page_text(app.test_client().post("/status", data={"receipt": receipt}))
    assert "Part of a known problem" in page and "Lab results missing from the record" in page
    assert "Updates from the coordination group" not in page  # none posted yet


def test_no_one_else_sees_the_updates_nor_another_reporters_text(
        app, client, coordinator, lab_issue, reporters):
    post_update(client, lab_issue["issue"], WORKAROUND)
    other = _reporter_client(app, reporters["other_staff"])
    assert WORKAROUND not in page_text(other.get("/report/mine"))
    assert other.get(f"/report/mine/{reporters['named']}").status_code == 404
    assert WORKAROUND not in page_text(other.get(f"/report/mine/{reporters['outside']}"))
    visitor = app.test_client()
    assert WORKAROUND not in page_text(visitor.post("/status", data={"receipt": "V-1-AAAA"}))
    assert WORKAROUND not in page_text(visitor.get("/"))
    # The anonymous reporter reads the issue, not the named reporter's words, nor theirs.
    receipt_page = page_text(visitor.post("/status", data={"receipt": reporters["receipt"]}))
    assert "sängplats" not in receipt_page and LAB[1] not in receipt_page
    staff = _reporter_client(app, reporters["staff"])
    mine = page_text(staff.get("/report/mine"))
    assert LAB[0] not in mine and LAB[1] not in mine


def test_news_on_my_reports_is_limited_to_the_newest_updates(app, client, coordinator,
                                                            lab_issue, reporters):
    for number in range(5):
        post_update(client, lab_issue["issue"], f"Update number {number}.")
    staff = _reporter_client(app, reporters["staff"])
    mine = page_text(staff.get("/report/mine"))
    assert [n for n in range(5) if f"Update number {n}." in mine] == [2, 3, 4]
    detail = page_text(staff.get(f"/report/mine/{reporters['named']}"))
    assert all(f"Update number {n}." in detail for n in range(5))
