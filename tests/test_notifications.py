"""Alert e-mails, sent to a real SMTP server on loopback (aiosmtpd), not a mock."""

import socket
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from app.services.alerts import evaluate_alerts
from app.services.notifications import notify_pending, recipients, set_alert_emails
from models import Alert, db
from tests.helpers import events
from tests.test_alerts import FAULT, NOON, fault_reports, make_group


class Inbox:
    """An aiosmtpd handler that keeps every message it is given, with its envelope recipients."""

    def __init__(self) -> None:
        self.received: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.received.append((list(envelope.rcpt_tos),
                              message_from_bytes(envelope.content, policy=policy.default)))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def port() -> int:
    return free_port()


@pytest.fixture
def app_config(port):
    return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": port, "MAIL_FROM": "vaka@example.org",
            "PUBLIC_URL": "https://vaka.example.org/", "MAIL_TIMEOUT_S": 5}


@pytest.fixture
def inbox(port):
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler
    controller.stop()


@pytest.fixture
def people(app, make_user):
    """Who opted in: two active coordinators; and who must not get anything."""
    opted = [make_user("coordinator", email=f"samordnare{i}@example.org") for i in (1, 2)]
    make_user("coordinator", email="tyst@example.org")
    gone = make_user("coordinator", email="slutat@example.org", active=False)
    staff = make_user("staff", email="personal@example.org")
    with app.app_context():
        for user in (*opted, gone, staff):
            set_alert_emails(user, True)
    return opted


def notified(app) -> list:
    with app.app_context():
        return list(db.session.scalars(select(Alert.notified_at).order_by(Alert.id)))


def test_opted_in_coordinators_get_the_alert_without_report_text(app, make_report, people,
                                                                inbox):
    issue_id = make_group(app, fault_reports(make_report), title="kalium provsvar journal")
    with app.app_context():
        assert recipients() == ["samordnare1@example.org", "samordnare2@example.org"]
        evaluate_alerts(NOON)
    assert sorted(to for to, _ in inbox.received) == [["samordnare1@example.org"],
                                                      ["samordnare2@example.org"]]
    mail = inbox.received[0][1]
    assert mail["Subject"] == "Vaka alert: kalium provsvar journal"
    assert mail["From"] == "vaka@example.org"
    body = mail.get_content()
    assert "A new topic: 4 like reports in 12 hours from 2 units" in body
    assert "Units: Akuten, Avdelning 12" in body and "Reports: 4" in body
    assert f"https://vaka.example.org/emerging-issues/{issue_id}" in body
    assert FAULT not in body and "kalium syns inte" not in body
    assert notified(app)[0] is not None
    # Sent once: the next evaluation has nothing to send.
    with app.app_context():
        evaluate_alerts(NOON)
    assert len(inbox.received) == 2 and issue_id
    assert [e.details["enabled"] for e in events(app, "user.notify_alerts")] == [True] * 4


def test_a_failed_send_is_retried_on_the_next_evaluation(app, make_report, people, port):
    make_group(app, fault_reports(make_report))
    with app.app_context():
        [alert] = evaluate_alerts(NOON)  # no server listens yet
    assert alert is not None and notified(app) == [None]
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with app.app_context():
            assert evaluate_alerts(NOON) == []
    finally:
        controller.stop()
    assert len(handler.received) == 2 and notified(app)[0] is not None


def test_no_notify_stores_the_alert_for_a_later_e_mail(app, make_report, people, inbox):
    make_group(app, fault_reports(make_report))
    with app.app_context():
        evaluate_alerts(NOON, notify=False)
        assert inbox.received == [] and notified(app) == [None]
        assert notify_pending() == 1
    assert len(inbox.received) == 2


def test_nobody_opted_in_means_no_e_mail(app, make_report, make_user, inbox):
    make_user("coordinator")
    make_group(app, fault_reports(make_report))
    with app.app_context():
        evaluate_alerts(NOON)
    assert inbox.received == [] and notified(app)[0] is not None


def test_without_a_mail_server_nothing_is_sent(app, make_report, people, inbox):
    app.config["MAIL_SERVER"] = None
    make_group(app, fault_reports(make_report))
    with app.app_context():
        evaluate_alerts(NOON)
    assert inbox.received == [] and notified(app) == [None]
