"""Fixtures of the attacker's test suite: `world` seeds one user per role, a named
and an anonymous report and a model version; `browser` logs a client in per role.

The functions and tables the tests share are in tests/security/helpers.py.
"""

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient

from app.services.api_tokens import create_token
from app.services.grouping import group_report
from models import Alert, FailedJob, KnownIssue, ModelVersion, Report, db, utcnow
from tests.helpers import persist
from tests.security.helpers import ROLES, SECRET_TEXT, World, anonymous_report, log_in


@pytest.fixture
def world(app, classifier, make_user, make_report) -> World:
    """A user per role (and a second staff member), two reports and a model version."""
    users = {role: make_user(role) for role in ROLES if role != "visitor"}
    # A phone number, so that redacting the report changes it.
    named = make_report(SECRET_TEXT, reporter=users["staff"],
                        suggestion=f"{SECRET_TEXT}; call 070-123 45 67")
    with app.app_context():
        unit_id = db.session.get(Report, named).unit_id
    anonymous, receipt = anonymous_report(app, unit_id)
    # The real figures, but no artifact: this version is never loaded, only listed.
    version = persist(app, ModelVersion(
        algorithm=classifier.algorithm, params=classifier.params,
        training_summary=classifier.training_summary, metrics=classifier.metrics,
        artifact=b"", active=False))
    issues = [persist(app, KnownIssue(title=title, created_by_id=users["coordinator"].id)).id
              for title in ("Seeded known issue", "Other known issue")]
    with app.app_context():
        db.session.get(Report, anonymous).known_issue_id = issues[0]
        db.session.commit()
        group_id = group_report(named).id  # it joins the anonymous report's group
    alert = persist(app, Alert(kind="spike", key="spike:unit:Seeded:day", title="Seeded alert",
                               raised_at=utcnow()))
    failed = persist(app, FailedJob(name="process_report_job", args=[named],
                                    error="Seeded failure", failed_hour=Report.hour_of(utcnow())))
    with app.app_context():
        token_id = create_token("Seeded dashboard", {"triage"}, 30, users["admin"]).token.id
    return World(users=users, other_staff=make_user("staff"), unit_id=unit_id,
                 named_report_id=named, anonymous_report_id=anonymous, receipt=receipt,
                 version_id=version.id, known_issue_id=issues[0],
                 other_known_issue_id=issues[1], emerging_issue_id=group_id, alert_id=alert.id,
                 failed_job_id=failed.id, api_token_id=token_id)


@pytest.fixture
def browser(app, world) -> Callable[[str], FlaskClient]:
    """browser(role): a client logged in with that role (a visitor is not logged in)."""
    clients: dict[str, FlaskClient] = {}

    def open_as(role: str) -> FlaskClient:
        if role not in clients:
            clients[role] = app.test_client()
            if role != "visitor":
                log_in(clients[role], world.users[role])
        return clients[role]

    return open_as
