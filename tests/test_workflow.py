"""The triage workflow on a report's page: the one decision form (assignment, status, risk and
due time), hand-offs, internal comments and the report's history."""

import re
import secrets
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from app.services import NotFound, ServiceError
from app.services.classification import classify_reports
from app.services.drafts import ReportDraft
from app.services.reports import submit_report
from app.services.triage import Decision, decide_report
from app.services.workflow import (
    add_comment,
    assign,
    history,
    set_handoffs,
    set_status,
    suggest_risk,
)
from models import COMMENT_MAX, AuditEvent, Comment, Report, User, db, utcnow
from tests.helpers import PASSWORD, decision, events, fetch_report, form_data

ARRIVED = datetime(2026, 3, 2, 10, 15)


def post(client, report_id: int, action: str, **data):
    """Send one of the page's small forms and follow the redirect back to the report's page."""
    response = client.post(f"/triage/reports/{report_id}/{action}", data=data,
                           follow_redirects=True)
    assert response.status_code == 200
    assert response.request.path == f"/triage/reports/{report_id}"
    return response


def decide(app, client, report_id: int, **fields):
    """Save the decision form as the page fills it in (the report's own values), with
    `fields` changed (None leaves a field out); follow a redirect back to the page."""
    report = fetch_report(app, report_id)
    data = {"categories": report.categories, "status": report.status,
            "assignee": str(report.assignee_id or ""),
            "consequence": str(report.consequence or 2),
            "likelihood": str(report.likelihood or 2), **fields}
    response = client.post(f"/triage/reports/{report_id}",
                           data={name: value for name, value in data.items() if value is not None},
                           follow_redirects=True)
    assert response.request.path == f"/triage/reports/{report_id}"
    return response


def text_of(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def section(response, section_id: str) -> str:
    html = response.get_data(as_text=True)
    found = re.search(rf'<section id="{section_id}".*?</section>', html, re.S)
    assert found, section_id
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(0)))


def workflow_state(app, report_id: int) -> tuple:
    report = fetch_report(app, report_id)
    return (report.assignee_id, report.status, report.consequence, report.likelihood,
            report.risk_score, report.risk_confirmed, report.due_at, report.lex_maria,
            report.medical_products_agency, report.data_protection_authority,
            report.vendor_ticket, report.deviation_id, report.triaged_at, report.finished_at)


def comments(app, report_id: int) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(Comment.body)
                                       .where(Comment.report_id == report_id)))


# Assignment

def test_a_report_is_assigned_to_a_coordinator_and_unassigned(app, client, coordinator,
                                                              make_user, make_report):
    colleague = make_user("coordinator", email="kollega@example.org")
    report_id = make_report()
    page = decide(app, client, report_id, assignee=str(colleague.id))
    assert "Your decision on" in text_of(page)
    assert fetch_report(app, report_id).assignee_id == colleague.id
    assert "Assigned to kollega@example.org" in text_of(page)

    decide(app, client, report_id, assignee="")
    assert fetch_report(app, report_id).assignee_id is None
    assigned = events(app, "report.assign")
    assert [(e.object_id, e.actor_label, e.details["assignee"]) for e in assigned] == [
        (str(report_id), "samordnare@example.org", "kollega@example.org"),
        (str(report_id), "samordnare@example.org", None)]


def test_the_assignee_list_offers_only_active_coordinators(client, coordinator, make_user,
                                                           make_report):
    make_user("coordinator", email="borta@example.org", active=False)
    make_user("staff", email="personal@example.org")
    page = client.get(f"/triage/reports/{make_report()}").get_data(as_text=True)
    select_html = re.search(r'<select id="assignee".*?</select>', page, re.S).group(0)
    assert "samordnare@example.org" in select_html
    assert "borta@example.org" not in select_html and "personal@example.org" not in select_html


@pytest.mark.parametrize("who", ["staff", "inactive coordinator", "nobody"])
def test_a_report_cannot_be_assigned_to_anyone_else(app, client, coordinator, make_user,
                                                    make_report, who):
    users = {"staff": lambda: make_user("staff").id,
             "inactive coordinator": lambda: make_user("coordinator", active=False).id,
             "nobody": lambda: 9999}
    report_id, user_id = make_report(), users[who]()
    before = workflow_state(app, report_id)
    page = decide(app, client, report_id, assignee=str(user_id))
    assert "Assigned to: Not a valid choice." in text_of(page)
    with app.app_context(), pytest.raises(ServiceError):
        assign([report_id], user_id, db.session.get(User, coordinator.id))
    assert workflow_state(app, report_id) == before
    assert events(app, "report.assign") == []


def test_bulk_assignment_counts_and_audits_each_changed_report(app, make_user, make_report):
    first, second = make_user("coordinator"), make_user("coordinator")
    ids = [make_report(), make_report(), make_report(assignee_id=first.id)]
    with app.app_context():
        assert assign(ids, first.id, first) == 2
        assert assign(ids, first.id, first) == 0
    assert sorted(e.object_id for e in events(app, "report.assign")) == sorted(
        str(i) for i in ids[:2])
    with app.app_context(), pytest.raises(NotFound):
        assign([ids[0], 9999], second.id, first)
    assert all(fetch_report(app, i).assignee_id == first.id for i in ids)


# Status

def test_status_changes_keep_the_triage_and_finish_times(app, client, coordinator,
                                                         make_report):
    report_id = make_report()
    page = decide(app, client, report_id, status="in_progress")
    assert "Your decision on" in text_of(page)
    report = fetch_report(app, report_id)
    assert report.status == "in_progress" and report.triaged_at is not None
    assert report.finished_at is None
    triaged_at = report.triaged_at

    decide(app, client, report_id, status="duplicate")
    report = fetch_report(app, report_id)
    assert report.status == "duplicate" and report.finished_at is not None
    decide(app, client, report_id, status="triaged")
    report = fetch_report(app, report_id)
    assert report.triaged_at == triaged_at and report.finished_at is None
    assert [(e.details["previous"], e.details["status"])
            for e in events(app, "report.status")] == [
        ("new", "in_progress"), ("in_progress", "duplicate"), ("duplicate", "triaged")]


def test_an_unknown_status_is_refused(app, client, coordinator, make_report):
    report_id = make_report()
    before = workflow_state(app, report_id)
    page = decide(app, client, report_id, status="deleted")
    assert "Status: Not a valid choice." in text_of(page)
    assert workflow_state(app, report_id) == before
    assert events(app, "report.status") == []
    with app.app_context(), pytest.raises(ServiceError):
        set_status([report_id], "deleted", db.session.get(User, coordinator.id))


def test_bulk_status_counts_only_the_reports_it_changed(app, make_user, make_report):
    actor = make_user("coordinator")
    ids = [make_report(), make_report(status="closed")]
    with app.app_context():
        assert set_status(ids, "closed", actor) == 1
    assert [e.object_id for e in events(app, "report.status")] == [str(ids[0])]


def test_the_review_form_offers_all_seven_statuses(client, coordinator, make_report):
    page = client.get(f"/triage/reports/{make_report()}").get_data(as_text=True)
    review = re.search(r'<select id="status".*?</select>', page, re.S).group(0)
    assert re.findall(r'value="(\w+)"', review) == [
        "new", "triaged", "in_progress", "resolved", "closed", "duplicate", "rejected"]


# Risk and due time

def test_a_person_assesses_the_risk_and_the_due_time_follows(app, client, coordinator,
                                                             make_user, make_report):
    reporter = make_user("staff")
    report_id = make_report(reporter=reporter, submitted=ARRIVED)
    page = decide(app, client, report_id, consequence="4", likelihood="2")
    assert "Your decision on" in text_of(page)
    report = fetch_report(app, report_id)
    assert (report.consequence, report.likelihood, report.risk_score) == (4, 2, 8)
    assert report.risk_confirmed
    assert report.due_at == ARRIVED + timedelta(hours=24)
    assert "consequence 4 × likelihood 2 = 8 (assessed by a person)" in text_of(page)

    decide(app, client, report_id, consequence="2", likelihood="2")
    assert fetch_report(app, report_id).due_at == ARRIVED + timedelta(hours=7 * 24)
    decide(app, client, report_id, consequence="1", likelihood="3")
    assert fetch_report(app, report_id).due_at == ARRIVED + timedelta(hours=30 * 24)
    assert [(e.details["score"], e.details["previous"]) for e in events(app, "report.risk")] == [
        (8, None), (4, 8), (3, 4)]


def test_an_anonymous_report_is_due_counted_from_midnight_of_its_day(app, client, coordinator,
                                                                     make_report):
    report_id = make_report(submitted=ARRIVED)
    assert fetch_report(app, report_id).submitted_at is None
    decide(app, client, report_id, consequence="3", likelihood="3")
    assert fetch_report(app, report_id).due_at == datetime(2026, 3, 3, 0, 0)


def test_the_due_time_table_is_configurable(app, client, coordinator, make_user, make_report):
    app.config["RISK_DUE_HOURS"] = ((12, 2), (6, 10))
    report_id = make_report(reporter=make_user("staff"), submitted=ARRIVED)
    decide(app, client, report_id, consequence="4", likelihood="3")
    assert fetch_report(app, report_id).due_at == ARRIVED + timedelta(hours=2)
    decide(app, client, report_id, consequence="2", likelihood="3")
    assert fetch_report(app, report_id).due_at == ARRIVED + timedelta(hours=10)
    decide(app, client, report_id, consequence="1", likelihood="1")
    assert fetch_report(app, report_id).due_at is None


@pytest.mark.parametrize("risk", [{"consequence": "5", "likelihood": "2"},
                                  {"consequence": "0", "likelihood": "2"},
                                  {"consequence": "2", "likelihood": "high"},
                                  {"consequence": "2", "likelihood": None}])
def test_an_impossible_risk_is_refused(app, client, coordinator, make_report, risk):
    report_id = make_report()
    decide(app, client, report_id, consequence="2", likelihood="2")
    before = workflow_state(app, report_id)
    page = decide(app, client, report_id, **risk)
    assert page.status_code == 400
    assert "Not a valid choice." in text_of(page) or "Likelihood: Choose one." in text_of(page)
    assert workflow_state(app, report_id) == before
    assert len(events(app, "report.risk")) == 1


def test_an_open_report_past_its_due_time_is_overdue(app, client, coordinator, make_user,
                                                     make_report):
    late = make_report(reporter=make_user("staff"), submitted=utcnow() - timedelta(days=2))
    on_time = make_report(reporter=make_user("staff"), submitted=utcnow() - timedelta(hours=1))
    for report_id in (late, on_time):
        decide(app, client, report_id, consequence="4", likelihood="4")
    assert "Overdue" in text_of(client.get(f"/triage/reports/{late}"))
    assert "Overdue" not in text_of(client.get(f"/triage/reports/{on_time}"))
    report = fetch_report(app, on_time)
    assert not report.is_overdue() and report.is_overdue(report.due_at + timedelta(seconds=1))

    decide(app, client, late, status="resolved")
    assert not fetch_report(app, late).is_overdue()
    assert "Overdue" not in text_of(client.get(f"/triage/reports/{late}"))


@pytest.mark.parametrize(("impact", "score", "expected"), [
    ("none", 0.1, (1, 1)), ("near_miss", 0.3, (2, 2)), ("unknown", 0.6, (2, 3)),
    ("harm", 0.9, (3, 4)), ("harm", 1.0, (3, 4)), ("none", 0.0, (1, 1)),
    ("harm", None, (3, 3)), ("none", None, (1, 3))])
def test_the_suggestion_rule(impact, score, expected):
    assert suggest_risk(impact, score) == expected


def test_a_submitted_report_gets_a_suggested_risk_from_its_impact(app, client, make_unit,
                                                                  make_user, login):
    unit = make_unit()
    client.post("/", data=form_data(unit.id, impact="harm"))
    login(make_user("coordinator"))
    assert "= 9 (suggested)" in text_of(client.get("/triage/reports/1"))
    report = fetch_report(app, 1)
    assert not report.is_classified
    assert (report.consequence, report.likelihood, report.risk_confirmed) == (3, 3, False)
    assert report.due_at == datetime.combine(report.submitted_on, datetime.min.time()) + \
        timedelta(hours=24)
    assert report.priority >= 9


def _submit(app, unit_id: int, impact: str) -> int:
    draft = ReportDraft(kind="incident", text="Patienten fick dubbel dos morfin, ordinationen "
                        "syntes två gånger i läkemedelslistan.", occurred_at=ARRIVED,
                        unit_id=unit_id, area="medication", impact=impact, suggestion=None,
                        submission_token=secrets.token_urlsafe(24))
    with app.app_context():
        return submit_report(draft, reporter=None).report.id


def test_classification_suggests_the_risk_but_never_overrides_a_person(app, client,
                                                                       coordinator, make_unit,
                                                                       active_model):
    unit = make_unit()
    suggested_id, assessed_id = _submit(app, unit.id, "harm"), _submit(app, unit.id, "harm")
    suggested = fetch_report(app, suggested_id)
    assert suggested.is_classified and not suggested.risk_confirmed
    assert (suggested.consequence, suggested.likelihood) == suggest_risk(
        "harm", suggested.score_safety)

    decide(app, client, assessed_id, consequence="1", likelihood="1")
    before = workflow_state(app, assessed_id)
    with app.app_context():
        # As if its model had failed at submission and `ml reclassify` ran now.
        db.session.get(Report, assessed_id).model_version_id = None
        db.session.commit()
        assert classify_reports([assessed_id]) == 1
    assert workflow_state(app, assessed_id) == before
    assert fetch_report(app, assessed_id).risk_score == 1


# Hand-offs

def test_hand_offs_are_saved_trimmed_and_audited_by_what_changed(app, client, coordinator,
                                                                 make_report):
    report_id = make_report()
    page = post(client, report_id, "handoffs", lex_maria="y",
                vendor_ticket="  CGM-4711 ", deviation_id="")
    assert "The hand-offs are saved." in text_of(page)
    report = fetch_report(app, report_id)
    assert (report.lex_maria, report.medical_products_agency, report.vendor_ticket,
            report.deviation_id) == (True, False, "CGM-4711", None)
    post(client, report_id, "handoffs", lex_maria="y", data_protection_authority="y",
         vendor_ticket="CGM-4711", deviation_id="AVV-2026-17")
    page = post(client, report_id, "handoffs", lex_maria="y", data_protection_authority="y",
                vendor_ticket="", deviation_id="AVV-2026-17")
    assert fetch_report(app, report_id).vendor_ticket is None
    assert [e.details for e in events(app, "report.handoff")] == [
        {"lex_maria": True, "vendor_ticket": "CGM-4711"},
        {"data_protection_authority": True, "deviation_id": "AVV-2026-17"},
        {"vendor_ticket": None}]
    assert "Vendor ticket id: removed" in section(page, "history")


@pytest.mark.parametrize(("ticket", "error"), [
    ("X" * 101, "Field cannot be longer than 100 characters."),
    ("CGM\u200b4711", "Use letters, digits and punctuation only."),
    ("CGM\t4711", "Use letters, digits and punctuation only."),
    ("CGM\n4711", "Use letters, digits and punctuation only.")])
def test_a_bad_ticket_id_is_refused(app, client, coordinator, make_report, ticket, error):
    report_id = make_report()
    before = workflow_state(app, report_id)
    page = post(client, report_id, "handoffs", lex_maria="y", vendor_ticket=ticket)
    assert f"Vendor ticket id: {error}" in text_of(page)
    assert workflow_state(app, report_id) == before
    assert events(app, "report.handoff") == []


# Internal comments

def test_a_comment_is_listed_and_audited_without_its_text(app, client, coordinator,
                                                          make_report):
    report_id = make_report()
    page = post(client, report_id, "comments", body="Leverantören är kontaktad.\r\nVäntar.")
    assert "Your comment is saved." in text_of(page)
    assert "Leverantören är kontaktad." in section(page, "comments")
    assert comments(app, report_id) == ["Leverantören är kontaktad.\nVäntar."]
    (event,) = events(app, "report.comment")
    assert event.object_id == str(report_id) and "Leverantören" not in str(event.details)


@pytest.mark.parametrize(("body", "error"), [
    ("   ", "Write something before saving."),
    ("x" * (COMMENT_MAX + 1), f"Field cannot be longer than {COMMENT_MAX} characters.")])
def test_an_empty_or_overlong_comment_is_refused(app, client, coordinator, make_report, body,
                                                 error):
    report_id = make_report()
    page = post(client, report_id, "comments", body=body)
    assert f"Internal comment: {error}" in text_of(page)
    assert comments(app, report_id) == []
    assert events(app, "report.comment") == []


def test_reporters_never_see_the_internal_comments(app, client, coordinator, make_user,
                                                   make_unit, make_report):
    reporter = make_user("staff")
    named = make_report(reporter=reporter)
    unit = make_unit("Akuten")
    draft = ReportDraft(kind="feedback", text="Skrivaren skriver ut fel etiketter.",
                        occurred_at=ARRIVED, unit_id=unit.id, area="printing", impact="none",
                        suggestion=None, submission_token=secrets.token_urlsafe(24))
    with app.app_context():
        anonymous = submit_report(draft, reporter=None)
        anonymous_id, receipt = anonymous.report.id, anonymous.receipt_code
    for report_id in (named, anonymous_id):
        post(client, report_id, "comments", body="INTERNT: troligen samma fel som förra veckan")

    reporter_client = app.test_client()
    reporter_client.post("/login", data={"email": reporter.email, "password": PASSWORD})
    own = reporter_client.get(f"/report/mine/{named}")
    assert own.status_code == 200 and "INTERNT" not in own.get_data(as_text=True)
    status = app.test_client().post("/status", data={"receipt": receipt})
    assert status.status_code == 200 and "INTERNT" not in status.get_data(as_text=True)


def risk(consequence: int, likelihood: int) -> Decision:
    return Decision(frozenset(), "new", None, consequence, likelihood)


def test_the_services_refuse_bad_input_from_any_caller(app, make_user, make_report):
    """The bulk actions call the services without these forms: they check for themselves."""
    actor, report_id = make_user("coordinator"), make_report()
    before = workflow_state(app, report_id)
    refused = [lambda: decide_report(report_id, actor, risk(5, 2)),
               lambda: decide_report(report_id, actor, risk(2, 0)),
               lambda: set_handoffs(report_id, actor, True, False, False, "X" * 101, None),
               lambda: set_handoffs(report_id, actor, True, False, False, None, "A\u200bB"),
               lambda: add_comment(report_id, actor, " \n "),
               lambda: add_comment(report_id, actor, "x" * (COMMENT_MAX + 1))]
    for call in refused:
        with app.app_context(), pytest.raises(ServiceError):
            call()
    assert workflow_state(app, report_id) == before and comments(app, report_id) == []
    with app.app_context(), pytest.raises(NotFound):
        decide_report(9999, actor, risk(2, 2))
    assert len(events(app)) == 0


# History and access

def test_the_history_lists_every_change_in_order(app, client, coordinator, make_report):
    report_id = make_report()
    decide(app, client, report_id, categories=["safety"], status="triaged",
           assignee=str(coordinator.id), consequence="3", likelihood="4")
    post(client, report_id, "handoffs", medical_products_agency="y")
    post(client, report_id, "comments", body="Läkemedelsverket informerat.")
    page = decide(app, client, report_id, status="resolved")

    listed = section(page, "history")
    expected = ["Submitted the report.",
                "Set the categories to Patient safety.",
                "Changed the status from New to Triaged.",
                "Assigned to samordnare@example.org.",
                "Assessed the risk: consequence 3 × likelihood 4 = 12.",
                "Reported to the Medical Products Agency: yes",
                "Wrote an internal comment.",
                "Changed the status from Triaged to Resolved."]
    positions = [listed.find(entry) for entry in expected]
    assert -1 not in positions and positions == sorted(positions), listed
    assert "Läkemedelsverket informerat" not in listed
    with app.app_context():
        actions = [entry.action for entry in history(report_id)]
        views = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "report.view")).all()
    assert views and "report.view" not in actions
    assert actions == ["report.review", "report.status", "report.assign", "report.risk",
                       "report.handoff", "report.comment", "report.status"]


@pytest.mark.parametrize(("action", "data"), [
    ("", decision(status="closed", consequence="4", likelihood="4")),
    ("/handoffs", {"lex_maria": "y"}), ("/comments", {"body": "Hej"})])
def test_only_coordinators_change_the_workflow(app, client, login, make_user, make_report,
                                               action, data):
    report_id = make_report()
    before = workflow_state(app, report_id)
    for role in ("staff", "researcher", "admin"):
        login(make_user(role))
        assert client.post(f"/triage/reports/{report_id}{action}",
                           data=data).status_code == 403
    assert workflow_state(app, report_id) == before and comments(app, report_id) == []
    login(make_user("coordinator"))
    assert client.post(f"/triage/reports/9999{action}", data=data).status_code == 404
