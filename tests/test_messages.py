"""Messages between the coordination group and reporters, anonymous ones through the receipt."""

import logging
import re
import secrets
from datetime import date, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.extensions import limiter
from app.services import ServiceError
from app.services.drafts import ReportDraft
from app.services.messages import message_reporter
from app.services.reports import submit_report
from models import MESSAGE_MAX, AuditEvent, Message, db, utcnow
from tests.helpers import BAD_BODIES, events, page_text, send_as_coordinator, stored_messages


def audit_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(AuditEvent))


@pytest.fixture
def anonymous_report(app, make_unit) -> tuple[int, str]:
    """An anonymous report, sent like the form does; returns its id and receipt code."""
    unit = make_unit()
    draft = ReportDraft(kind="incident", text="Skrivaren på avdelningen skrev ut fel etiketter.",
                        occurred_at=datetime(2026, 3, 1, 8, 30), unit_id=unit.id,
                        area="printing", impact="none", suggestion=None,
                        submission_token=secrets.token_urlsafe(24))
    with app.app_context():
        submission = submit_report(draft, reporter=None)
        return submission.report.id, submission.receipt_code


@pytest.fixture
def coordinator(make_user):
    return make_user("coordinator", email="samordnare@example.org")


def answer(client, receipt: str, body: str, **kwargs):
    return client.post("/status", data={"receipt": receipt, "body": body, "send": "1"}, **kwargs)


# The model's invariants

@pytest.mark.parametrize(("author", "author_id"), [
    ("reporter", "user"),         # a reporter's message must name no one
    ("coordinator", None),        # a coordinator's must name its writer
    ("someone", None),            # and there are only the two
])
def test_the_database_refuses_a_message_that_breaks_the_invariants(app, make_report, make_user,
                                                                   ctx, author, author_id):
    user = make_user("coordinator")
    message = Message(report_id=make_report(), author=author, body="Hej",
                      author_id=user.id if author_id else None)
    db.session.add(message)
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_a_message_keeps_only_the_date(app, make_report, ctx):
    db.session.add(Message(report_id=make_report(), author="reporter", body="Hej"))
    db.session.commit()
    created = db.session.scalar(select(Message.created_on))
    assert type(created) is date and created == utcnow().date()


def test_the_service_refuses_an_empty_or_overlong_message(app, make_report, coordinator, ctx):
    report_id = make_report()
    for body in ("   ", "x" * (MESSAGE_MAX + 1)):
        with pytest.raises(ServiceError):
            message_reporter(report_id, coordinator, body)
    assert db.session.scalars(select(Message)).all() == []


# The coordinator's side

def test_coordinator_sends_a_message_that_is_listed_and_audited_without_its_text(
        app, client, login, coordinator, make_report):
    report_id = make_report()
    login(coordinator)
    response = client.post(f"/triage/reports/{report_id}/messages",
                           data={"body": "Kan du beskriva vilken skrivare det gällde?"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/triage/reports/{report_id}#messages")
    [message] = stored_messages(app, report_id)
    assert (message.author, message.author_id) == ("coordinator", coordinator.id)
    page = page_text(client.get(f"/triage/reports/{report_id}"))
    assert "Your message is sent" in page
    assert "Kan du beskriva vilken skrivare det gällde?" in page
    assert "samordnare@example.org" in page
    [event] = events(app, "report.message")
    assert (event.actor_id, event.object_type, event.object_id) == (coordinator.id, "report",
                                                                    str(report_id))
    assert event.details == {"message_id": message.id}


def test_coordinator_sees_the_messages_in_the_order_they_came(app, client, login, coordinator,
                                                             anonymous_report):
    report_id, receipt = anonymous_report
    send_as_coordinator(app, report_id, coordinator, "Första frågan")
    answer(client, receipt, "Mitt svar")
    send_as_coordinator(app, report_id, coordinator, "Andra frågan")
    login(coordinator)
    page = page_text(client.get(f"/triage/reports/{report_id}"))
    assert page.index("Första frågan") < page.index("Mitt svar") < page.index("Andra frågan")
    assert re.search(r"Reporter,\s*\d{4}-\d\d-\d\d\s*Mitt svar", page)


@pytest.mark.parametrize("body", ["", "  \r\n ", "x" * (MESSAGE_MAX + 1)])
def test_an_empty_or_overlong_message_is_not_sent(app, client, login, coordinator, make_report,
                                                  body):
    report_id = make_report()
    login(coordinator)
    response = client.post(f"/triage/reports/{report_id}/messages", data={"body": body},
                           follow_redirects=True)
    assert response.status_code == 200
    assert "The message is not sent: it must have between 1 and 4000 characters" in \
        page_text(response)
    assert stored_messages(app, report_id) == []
    assert events(app, "report.message") == []


def test_the_text_box_limit_counts_a_line_break_once_like_browsers(app, client, login,
                                                                  coordinator, make_report):
    report_id = make_report()
    login(coordinator)
    page = client.get(f"/triage/reports/{report_id}").get_data(as_text=True)
    assert re.search(rf'<textarea[^>]*maxlength="{MESSAGE_MAX}"[^>]*name="body"', page)
    body = "rad\r\n" * (MESSAGE_MAX // 4)  # 4 characters a line in the browser, 5 sent
    client.post(f"/triage/reports/{report_id}/messages", data={"body": body})
    [message] = stored_messages(app, report_id)
    assert message.body == body.replace("\r\n", "\n").strip()


def test_a_double_click_stores_a_message_once(app, client, login, coordinator, make_report):
    report_id = make_report()
    login(coordinator)
    for _ in range(2):
        client.post(f"/triage/reports/{report_id}/messages", data={"body": "Tack!"})
    assert len(stored_messages(app, report_id)) == 1
    assert len(events(app, "report.message")) == 1


@pytest.mark.parametrize("role", ["staff", "researcher", "admin"])
def test_only_coordinators_can_send_messages(app, client, login, make_user, make_report, role):
    report_id = make_report()
    login(make_user(role))
    response = client.post(f"/triage/reports/{report_id}/messages", data={"body": "Hej"})
    assert response.status_code == 403
    assert stored_messages(app, report_id) == []


def test_a_visitor_is_sent_to_log_in(app, client, make_report):
    report_id = make_report()
    response = client.post(f"/triage/reports/{report_id}/messages", data={"body": "Hej"})
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert stored_messages(app, report_id) == []


def test_a_message_to_an_unknown_report_is_404(client, login, coordinator):
    login(coordinator)
    assert client.post("/triage/reports/4242/messages", data={"body": "Hej"}).status_code == 404


@pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": True}])
@pytest.mark.parametrize("path", ["/triage/reports/{id}/messages", "/report/mine/{id}",
                                  "/status"])
def test_a_message_without_the_csrf_token_is_refused(app, client, anonymous_report, path):
    report_id, receipt = anonymous_report
    response = client.post(path.format(id=report_id),
                           data={"receipt": receipt, "body": "Hej", "send": "1"})
    assert response.status_code == 400
    assert "expired or was not sent from this site" in response.get_data(as_text=True)
    assert stored_messages(app, report_id) == []


# The anonymous reporter's side, through the receipt page

def test_the_receipt_page_shows_the_messages_without_the_coordinators_name(
        app, client, coordinator, anonymous_report):
    report_id, receipt = anonymous_report
    send_as_coordinator(app, report_id, coordinator, "<b>Vilken skrivare?</b>")
    response = client.post("/status", data={"receipt": receipt})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "&lt;b&gt;Vilken skrivare?&lt;/b&gt;" in html and "<b>Vilken" not in html
    assert "Coordination group" in html and "samordnare@example.org" not in html
    # The answer form carries the receipt code again: nothing is kept in the session.
    assert re.search(rf'<input name="receipt" type="hidden" value="{receipt}">', html)
    with client.session_transaction() as session:
        assert receipt not in str(dict(session))


def test_an_anonymous_answer_is_stored_without_a_name_time_audit_or_log(
        app, client, caplog, anonymous_report):
    report_id, receipt = anonymous_report
    before = audit_count(app)
    with caplog.at_level(logging.DEBUG):
        response = answer(client, receipt, "Det var skrivaren i korridoren.")
    assert response.status_code == 200
    page = page_text(response)
    assert "Your answer is sent" in page
    assert re.search(r"You,\s*\d{4}-\d\d-\d\d\s*Det var skrivaren i korridoren.", page)
    [message] = stored_messages(app, report_id)
    assert (message.author, message.author_id) == ("reporter", None)
    assert message.created_on == utcnow().date()
    assert audit_count(app) == before
    logged = " ".join(record.getMessage() for record in caplog.records)
    assert receipt not in logged and "skrivaren i korridoren" not in logged
    with client.session_transaction() as session:
        assert receipt not in str(dict(session))


def test_an_answer_with_a_wrong_receipt_is_refused_and_stores_nothing(app, client,
                                                                     anonymous_report):
    report_id, receipt = anonymous_report
    wrong = receipt[:-1] + ("A" if receipt[-1] != "A" else "B")
    response = answer(client, wrong, "Gissat svar")
    assert response.status_code == 400
    assert "No report matches that receipt code" in page_text(response)
    assert "Gissat svar" not in page_text(response)
    assert stored_messages(app, report_id) == []


@pytest.mark.parametrize(("body", "error"), BAD_BODIES)
def test_a_bad_answer_shows_an_error_and_keeps_the_report_and_the_text(app, client,
                                                                      anonymous_report, body,
                                                                      error):
    report_id, receipt = anonymous_report
    response = answer(client, receipt, body)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert error in html and "Messages" in html
    assert body.strip() in html  # what was typed is still in the box
    assert stored_messages(app, report_id) == []


def test_an_answer_sent_again_by_reloading_is_stored_once(app, client, anonymous_report):
    report_id, receipt = anonymous_report
    assert [answer(client, receipt, "Samma svar").status_code for _ in range(2)] == [200, 200]
    assert len(stored_messages(app, report_id)) == 1


def test_looking_up_a_receipt_stores_no_answer(app, client, anonymous_report):
    report_id, receipt = anonymous_report
    client.post("/status", data={"receipt": receipt, "body": "inte skickat"})
    assert stored_messages(app, report_id) == []


@pytest.mark.parametrize("app_config", [{"RATELIMIT_ENABLED": True,
                                         "RECEIPT_LIMIT_PER_ADDRESS": "3 per minute"}])
def test_answers_count_against_the_receipt_throttle(app, client, anonymous_report):
    _, receipt = anonymous_report
    with app.app_context():
        limiter.reset()
    codes = [answer(client, receipt, f"Svar {n}").status_code for n in range(2)]
    codes.append(client.post("/status", data={"receipt": receipt}).status_code)
    codes.append(answer(client, receipt, "Ett svar för mycket").status_code)
    assert codes == [200, 200, 200, 429]


def test_a_named_report_cannot_be_answered_with_a_made_up_receipt(app, client, make_user,
                                                                   make_report):
    report_id = make_report(reporter=make_user())
    response = answer(client, f"V-{report_id:06d}-AAAA-AAAA-AAAA-AAAA-AAAA", "Hej")
    assert response.status_code == 400
    assert stored_messages(app, report_id) == []

