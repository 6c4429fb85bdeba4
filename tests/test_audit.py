"""The audit log: what is recorded, that it cannot be changed, and the admin page."""

import csv
import io
from datetime import datetime

import pytest
from sqlalchemy import delete, select, update

from app.auth.access import UNKNOWN_ACCOUNT
from app.services.audit import record
from app.services.classification import store_version
from models import AuditEvent, AuditLogIsAppendOnly, db, transaction
from tests.helpers import PASSWORD, decision, events, form_data, page_text


def add_event(app, **fields) -> int:
    with app.app_context():
        event = AuditEvent(**{"actor_label": "system", "action": "logout", **fields})
        db.session.add(event)
        db.session.commit()
        return event.id


# What is recorded -----------------------------------------------------------------------

def test_successful_login_is_recorded_with_the_user(app, make_user, login):
    user = make_user("coordinator", email="coord@example.org")
    login(user)
    [event] = events(app)
    assert (event.action, event.actor_id, event.actor_label) == (
        "login.success", user.id, "coord@example.org")
    assert (event.object_type, event.object_id) == ("user", str(user.id))
    assert event.at is not None


def test_failed_login_of_an_account_names_the_account(app, client, make_user):
    user = make_user(email="nurse@example.org")
    response = client.post("/login", data={"email": "Nurse@Example.org",
                                           "password": "wrong password typed"})
    assert response.status_code == 200
    [event] = events(app)
    assert (event.action, event.actor_id, event.actor_label) == (
        "login.failure", None, "anonymous")
    assert (event.object_type, event.object_id) == ("user", str(user.id))
    assert event.details == {"email": "nurse@example.org"}


def test_failed_login_of_an_unknown_address_stores_no_typed_text(app, client):
    typed = "my-secret-password-in-the-wrong-field"
    client.post("/login", data={"email": typed, "password": PASSWORD})
    [event] = events(app)
    assert event.action == "login.failure" and event.actor_id is None
    assert event.object_id is None
    assert event.details == {"email": UNKNOWN_ACCOUNT}
    assert typed not in repr(event.details) + event.actor_label


def test_logout_is_recorded(app, client, make_user, login):
    user = make_user()
    login(user)
    client.post("/logout")
    [event] = events(app, "logout")
    assert (event.actor_id, event.actor_label, event.object_id) == (
        user.id, user.email, str(user.id))


def test_viewing_a_report_is_recorded(app, client, make_user, make_report, login):
    report_id = make_report("Pumpen larmade utan orsak.")
    user = make_user("coordinator")
    login(user)
    assert client.get(f"/triage/reports/{report_id}").status_code == 200
    [event] = events(app, "report.view")
    assert (event.actor_id, event.actor_label) == (user.id, user.email)
    assert (event.object_type, event.object_id) == ("report", str(report_id))
    assert client.get("/triage/reports/424242").status_code == 404
    assert len(events(app, "report.view")) == 1
    refused = client.post(f"/triage/reports/{report_id}",
                          data=decision(status="no-such-status"))
    assert refused.status_code == 400, "the page is shown again, with the report"
    assert len(events(app, "report.view")) == 2


def test_a_review_is_recorded_with_categories_and_status_but_no_text(app, client, make_user,
                                                                     make_report, login):
    report_id = make_report("Pumpen larmade utan orsak.")
    user = make_user("coordinator")
    login(user)
    response = client.post(f"/triage/reports/{report_id}",
                           data=decision(categories=["training", "safety"], status="triaged"))
    assert response.status_code == 302
    [event] = events(app, "report.review")
    assert (event.actor_id, event.object_type, event.object_id) == (
        user.id, "report", str(report_id))
    assert event.details == {"categories": ["safety", "training"]}
    [moved] = events(app, "report.status")
    assert moved.details == {"status": "triaged", "previous": "new"}
    assert "Pumpen" not in repr(event.details)
    assert events(app, "report.view") == []


def test_an_event_commits_with_its_change_or_not_at_all(app, make_user, ctx):
    user = make_user()
    with pytest.raises(RuntimeError), transaction():
        record("report.review", user, "report", 1, status="closed")
        raise RuntimeError("the change failed")
    assert db.session.scalars(select(AuditEvent)).all() == []


def test_an_export_is_recorded_with_its_filters(app, client, make_user, make_report, login):
    make_report()
    user = make_user("researcher")
    login(user)
    response = client.get("/export/reports?category=safety&date_from=2026-01-01")
    assert response.status_code == 200
    assert len(list(csv.reader(io.StringIO(response.get_data(as_text=True))))) == 1
    [event] = events(app, "export.reports")
    assert (event.actor_id, event.actor_label) == (user.id, user.email)
    filters = event.details["filters"]
    assert filters["categories"] == ["safety"]
    assert filters["date_from"] == "2026-01-01" and filters["date_to"] is None
    client.get("/export/reports?date_from=2026-02-01&date_to=2026-01-01")
    assert len(events(app, "export.reports")) == 1, "a refused export is not an export"


def test_admin_activating_a_model_is_recorded(app, client, classifier, make_user, login):
    with app.app_context():
        older, newer = store_version(classifier).id, store_version(classifier).id
    system = events(app, "model.activate")
    assert [(e.actor_label, e.object_id) for e in system] == [
        ("system", str(older)), ("system", str(newer))]
    admin = make_user("admin")
    login(admin)
    assert client.post(f"/admin/models/{older}/activate").status_code == 302
    event = events(app, "model.activate")[-1]
    assert (event.actor_id, event.actor_label) == (admin.id, admin.email)
    assert (event.object_type, event.object_id) == ("model_version", str(older))
    assert event.details == {"previous": newer}


def test_activating_from_the_command_line_is_the_systems(app, runner, active_model, classifier):
    with app.app_context():
        store_version(classifier)
    assert runner.invoke(args=["ml", "activate", str(active_model)]).exit_code == 0
    event = events(app, "model.activate")[-1]
    assert (event.actor_id, event.actor_label, event.object_id) == (
        None, "system", str(active_model))


def test_an_anonymous_report_submission_leaves_no_audit_event(app, client, make_unit,
                                                              active_model):
    unit = make_unit()
    before = events(app)
    response = client.post("/", data=form_data(unit.id),
                           environ_base={"REMOTE_ADDR": "10.9.8.7"})
    assert response.status_code == 200 and "receipt-code" in response.get_data(as_text=True)
    assert [e.id for e in events(app)] == [e.id for e in before]


# Append-only ----------------------------------------------------------------------------

def test_an_event_cannot_be_updated_or_deleted(app, make_user, ctx):
    user = make_user()
    event = record("login.success", user, "user", user.id)
    event.action = "logout"
    with pytest.raises(AuditLogIsAppendOnly):
        db.session.commit()
    db.session.rollback()
    event = db.session.get(AuditEvent, event.id)
    db.session.delete(event)
    with pytest.raises(AuditLogIsAppendOnly):
        db.session.commit()
    db.session.rollback()
    with pytest.raises(AuditLogIsAppendOnly):
        db.session.execute(update(AuditEvent).values(actor_label="someone else"))
    with pytest.raises(AuditLogIsAppendOnly):
        db.session.execute(delete(AuditEvent))
    db.session.rollback()
    [kept] = db.session.scalars(select(AuditEvent)).all()
    assert (kept.action, kept.actor_label) == ("login.success", user.email)


# The admin page -------------------------------------------------------------------------

def test_admin_page_lists_events_newest_first(app, client, make_user, login):
    add_event(app, action="report.view", object_type="report", object_id="7",
              at=datetime(2026, 3, 1, 9, 0), actor_label="<b>x</b>@example.org")
    add_event(app, action="export.reports", at=datetime(2026, 3, 2, 9, 0),
              actor_label="researcher@example.org",
              details={"filters": {"categories": ["safety"], "kind": None}, "rows": 3})
    admin = make_user("admin")
    login(admin)
    response = client.get("/admin/audit")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    login_row = page.index(f"<td>{admin.email}</td>")
    export_row = page.index("researcher@example.org")
    view_row = page.index("Report 7")
    assert login_row < export_row < view_row
    assert "Viewed a report</td>" in page
    text = " ".join(page_text(response).split())
    assert "Filter: Categories: Patient safety" in text and "Rows: 3" in text
    assert "Kind" not in text  # an empty detail is left out
    assert "&lt;b&gt;x&lt;/b&gt;@example.org" in page and "<b>x</b>" not in page
    assert "3 events" in page


def test_a_change_reads_as_its_field_from_before_to_after(app, client, make_user, login):
    """A role change and a status change name their field and both values in the visitor's
    language; an activated model version names the one it replaced."""
    add_event(app, action="user.role", object_type="user", object_id="4",
              details={"previous": "staff", "role": "coordinator"})
    add_event(app, action="report.status", object_type="report", object_id="9",
              details={"previous": "new", "status": "in_progress"})
    add_event(app, action="model.activate", object_type="model_version", object_id="3",
              details={"previous": 2})
    login(make_user("admin"))
    english = " ".join(page_text(client.get("/admin/audit")).split())
    assert "Role: from Staff → to Coordinator" in english
    assert "Status: from New → to In progress" in english
    assert "Model version: from 2 → to 3" in english
    swedish = client.get("/admin/audit", headers={"Accept-Language": "sv"})
    text = " ".join(page_text(swedish).split())
    assert "Roll: från Medarbetare → till Samordnare" in text


@pytest.mark.parametrize(("query", "expected"), [
    ("action=export.reports", {"b"}),
    ("actor=RESEARCHER", {"b"}),
    ("actor=%25", set()),
    ("object_id=7", {"a"}),
    ("date_from=2026-03-02", {"b", "c"}),
    ("date_to=2026-03-02", {"a", "b"}),
    ("date_from=2026-03-02&date_to=2026-03-02", {"b"}),
    ("", {"a", "b", "c"}),
])
def test_admin_page_filters(app, client, make_user, login, query, expected):
    marks = {
        "a": dict(action="report.view", object_type="report", object_id="7",
                  at=datetime(2026, 3, 1, 23, 59), actor_label="coord@example.org"),
        "b": dict(action="export.reports", at=datetime(2026, 3, 2, 0, 0),
                  actor_label="researcher@example.org"),
        "c": dict(action="report.view", object_type="report", object_id="17",
                  at=datetime(2026, 3, 3, 8, 0), actor_label="coord@example.org"),
    }
    for mark, fields in marks.items():
        add_event(app, details={"mark": f"mark-{mark}"}, **fields)
    login(make_user("admin"))
    response = client.get(f"/admin/audit?{query}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert {mark for mark in marks if f"mark-{mark}" in page} == expected


def test_admin_page_is_paginated_by_fifty(app, client, make_user, login):
    with app.app_context():
        db.session.add_all(AuditEvent(actor_label="system", action="logout", object_id=str(n),
                                      details={"n": f"number-{n}"}) for n in range(60))
        db.session.commit()
    login(make_user("admin"))  # one more event: 61 in all
    first = client.get("/admin/audit").get_data(as_text=True)
    second = client.get("/admin/audit?page=2").get_data(as_text=True)
    assert "Page 1 of 2" in first and "Page 2 of 2" in second
    def shown(page: str) -> set[int]:
        return {n for n in range(60) if f"number-{n}</li>" in page}

    assert shown(first) == set(range(11, 60))
    assert shown(second) == set(range(11))


@pytest.mark.parametrize("query", ["bogus=1", "action=report.delete",
                                   "date_from=2026-03-02&date_to=2026-03-01", "page=0"])
def test_admin_page_rejects_bad_parameters(client, make_user, login, query):
    login(make_user("admin"))
    assert client.get(f"/admin/audit?{query}").status_code == 400


@pytest.mark.parametrize("role", ["staff", "coordinator", "researcher"])
def test_only_admins_see_the_audit_log(client, make_user, login, role):
    login(make_user(role))
    assert client.get("/admin/audit").status_code == 403
    assert "/admin/audit" not in client.get("/").get_data(as_text=True)


def test_admins_have_a_link_and_no_edit_controls(client, make_user, login):
    login(make_user("admin"))
    assert 'href="/admin/audit"' in client.get("/").get_data(as_text=True)
    page = client.get("/admin/audit").get_data(as_text=True)
    assert 'method="post"' not in page.split('<main id="main">')[1]
