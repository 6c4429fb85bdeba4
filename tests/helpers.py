"""What several test modules use: the test password, small database helpers, a report
form's data, the audit events and messages of a report, the text of a page.

Fixtures live in conftest.py; these are plain functions and constants, imported.
"""

import re
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select

from app.services.messages import message_reporter
from models import MESSAGE_MAX, AuditEvent, Message, Report, db, utcnow

PASSWORD = "correct horse battery staple"

#: The receipt code on the confirmation page, as its copy button holds it.
RECEIPT = re.compile(r'class="copy" data-code="([^"]+)"')

#: Answers the forms refuse, and what they say.
BAD_BODIES = [("   ", "Write something before sending."),
              ("x" * (MESSAGE_MAX + 1), f"1 more than the {MESSAGE_MAX:,} allowed")]


def persist(app, instance):
    """Commit a new model instance and return it detached, loaded, for use outside the app."""
    with app.app_context():
        db.session.add(instance)
        db.session.commit()
        db.session.refresh(instance)
        db.session.expunge(instance)
        return instance


def days_ago(days: int) -> datetime:
    return utcnow() - timedelta(days=days)


def fetch_report(app, report_id: int) -> Report:
    with app.app_context():
        report = db.session.get(Report, report_id)
        db.session.expunge(report)
        return report


def all_reports(app) -> list[Report]:
    with app.app_context():
        reports = db.session.scalars(select(Report)).all()
        for report in reports:
            db.session.expunge(report)
        return reports


def form_data(unit_id: int, **overrides) -> dict:
    """The staff report form as a browser sends it (anonymous unless overridden)."""
    data = {
        "kind": "incident",
        "text": "Provsvaret för Hb syntes inte i journalen och patienten fick fel dos.",
        "when": "other_day",
        "occurred_at": "2026-03-14T08:30",
        "unit_id": str(unit_id),
        "area": "test_results",
        "impact": "near_miss",
        "suggestion": "",
        "identity": "anonymous",
        "submission_token": secrets.token_urlsafe(24),
    }
    data.update(overrides)
    return data


def events(app, action: str | None = None) -> list[AuditEvent]:
    """Every recorded event (of one action), oldest first, detached."""
    with app.app_context():
        query = select(AuditEvent).order_by(AuditEvent.id)
        if action:
            query = query.where(AuditEvent.action == action)
        found = db.session.scalars(query).all()
        for event in found:
            db.session.expunge(event)
        return list(found)


def stored_messages(app, report_id: int) -> list[Message]:
    with app.app_context():
        found = db.session.scalars(select(Message).where(Message.report_id == report_id)
                                   .order_by(Message.id)).all()
        db.session.expunge_all()
        return list(found)


def send_as_coordinator(app, report_id: int, coordinator, body: str) -> None:
    with app.app_context():
        message_reporter(report_id, coordinator, body)


def page_text(response) -> str:
    """The visible text of a page, without tags."""
    return re.sub(r"<[^>]+>", "", response.get_data(as_text=True))


def decision(**fields) -> dict:
    """The report page's one decision form as a coordinator sends it: no category ticked
    (other), status new, nobody assigned, risk 2 x 2, each overridden by `fields`."""
    return {"status": "new", "assignee": "", "consequence": "2", "likelihood": "2", **fields}


def closing_responses(wsgi_app):
    """A WSGI app whose every response is read whole and closed before it is sent.

    For the browser tests' werkzeug server: when Chromium drops a request (the page moved
    on while a script was loading), the server's drain loop after a failed write raises
    before it closes the response, so a static file stays open and a ResourceWarning
    surfaces in whichever test runs when it is collected.
    """
    def app(environ, start_response):
        response = wsgi_app(environ, start_response)
        try:
            return [b"".join(response)]
        finally:
            if hasattr(response, "close"):
                response.close()
    return app
