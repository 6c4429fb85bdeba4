"""The admin pages for users and units, their services, and the single sign-on seam."""

from datetime import datetime

import pytest
from sqlalchemy import func, select, text

from app.admin.forms import ACTION_NAMES
from app.services.audit import ACTIONS
from app.services.units import unit_choices
from app.services.users import UserError, account_for_login, find_user
from models import AuditEvent, Unit, User, db
from tests.helpers import PASSWORD, form_data, page_text

NEW_PASSWORD = "blue kettle under the pier"


@pytest.fixture
def admin(make_user, login):
    user = make_user("admin", email="admin@example.org")
    login(user)
    return user


def fetch_user(app, user_id: int) -> User:
    with app.app_context():
        user = db.session.get(User, user_id)
        db.session.expunge(user)
        return user


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def events(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        found = db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()
        db.session.expunge_all()
        return found


def can_log_in(app, email: str, password: str) -> bool:
    response = app.test_client().post("/login", data={"email": email, "password": password})
    return response.status_code == 302


def page(response) -> str:
    return response.get_data(as_text=True)


# Users ----------------------------------------------------------------------------------

def test_users_page_lists_every_account(client, admin, make_user):
    make_user("researcher", email="forskare@example.org", active=False)
    text = page(client.get("/admin/users"))
    assert "forskare@example.org" in text and "admin@example.org" in text
    assert "Researcher" in text and "Administrator" in text
    assert "No, disabled" in text
    assert admin.created_at.strftime("%Y-%m-%d") in text


def test_admin_creates_an_account_that_can_log_in(app, client, admin):
    response = client.post("/admin/users/new", data={
        "email": " Ny.Kollega@Example.org ", "role": "coordinator",
        "new": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    with app.app_context():
        user = find_user("ny.kollega@example.org")
        assert (user.email, user.role, user.active) == ("ny.kollega@example.org", "coordinator",
                                                        True)
    assert can_log_in(app, "ny.kollega@example.org", NEW_PASSWORD)
    [event] = events(app, "user.create")
    assert (event.actor_id, event.object_id) == (admin.id, str(user.id))
    assert event.details == {"role": "coordinator"}
    assert NEW_PASSWORD not in repr(event.details)


@pytest.mark.parametrize(("data", "message"), [
    ({"email": "ADMIN@example.org"}, "An account with this e-mail already exists."),
    ({"email": "not-an-address"}, "Enter an e-mail address"),
    ({"new": "short pass", "confirm": "short pass"}, "at least 12 characters"),
    ({"new": "password1234", "confirm": "password1234"}, "too common or too easy to guess"),
    ({"email": "pelle@example.org", "new": "pelle@example.org1",
      "confirm": "pelle@example.org1"}, "too common or too easy to guess"),
    ({"confirm": "another long sentence here"}, "The two new passwords differ."),
    ({"role": "king"}, "Not a valid choice"),
])
def test_a_bad_new_account_is_refused_with_a_clear_error(app, client, admin, data, message):
    response = client.post("/admin/users/new", data={
        "email": "ny@example.org", "role": "staff", "new": NEW_PASSWORD,
        "confirm": NEW_PASSWORD, **data})
    assert response.status_code == 400
    assert message in page(response)
    assert count(app, User) == 1
    assert events(app, "user.create") == []


def test_admin_changes_a_role(app, client, admin, make_user):
    user = make_user("staff")
    response = client.post(f"/admin/users/{user.id}/role", data={"role": "researcher"})
    assert response.status_code == 302
    assert fetch_user(app, user.id).role == "researcher"
    assert "is now: Researcher" in page(client.get(response.headers["Location"]))
    [event] = events(app, "user.role")
    assert event.details == {"previous": "staff", "role": "researcher"}
    assert (event.actor_id, event.object_id) == (admin.id, str(user.id))


def test_an_unknown_role_changes_nothing(app, client, admin, make_user):
    user = make_user("staff")
    response = client.post(f"/admin/users/{user.id}/role", data={"role": "superuser"})
    assert response.status_code == 400 and "Not a valid choice" in page(response)
    assert fetch_user(app, user.id).role == "staff"
    assert events(app, "user.role") == []


def test_disabling_ends_the_sessions_and_enabling_lets_the_user_back(app, client, admin,
                                                                     make_user):
    user = make_user("coordinator")
    theirs = app.test_client()
    theirs.post("/login", data={"email": user.email, "password": PASSWORD})
    assert theirs.get("/triage/").status_code == 200

    assert client.post(f"/admin/users/{user.id}/disable").status_code == 302
    assert theirs.get("/triage/").status_code == 302  # logged out at once
    assert not fetch_user(app, user.id).active
    assert not can_log_in(app, user.email, PASSWORD)

    assert client.post(f"/admin/users/{user.id}/enable").status_code == 302
    assert fetch_user(app, user.id).active
    assert can_log_in(app, user.email, PASSWORD)
    assert [len(events(app, "user.disable")), len(events(app, "user.enable"))] == [1, 1]


def test_reset_password_replaces_it_and_ends_the_sessions(app, client, admin, make_user):
    user = make_user("staff")
    theirs = app.test_client()
    theirs.post("/login", data={"email": user.email, "password": PASSWORD})
    assert theirs.get("/account/password").status_code == 200

    response = client.post(f"/admin/users/{user.id}/password",
                           data={"new": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert theirs.get("/account/password").status_code == 302
    assert can_log_in(app, user.email, NEW_PASSWORD)
    assert not can_log_in(app, user.email, PASSWORD)
    [event] = events(app, "user.password_reset")
    assert event.object_id == str(user.id) and NEW_PASSWORD not in repr(event.details)


def test_a_weak_reset_password_is_refused(app, client, admin, make_user):
    user = make_user("staff")
    response = client.post(f"/admin/users/{user.id}/password",
                           data={"new": "password1234", "confirm": "password1234"})
    assert response.status_code == 400 and "too common" in page(response)
    assert can_log_in(app, user.email, PASSWORD)


@pytest.mark.parametrize(("path", "data"), [
    ("role", {"role": "staff"}),
    ("disable", {}),
    ("password", {"new": NEW_PASSWORD, "confirm": NEW_PASSWORD}),
])
def test_an_admin_cannot_demote_disable_or_reset_themself(app, client, admin, path, data):
    response = client.post(f"/admin/users/{admin.id}/{path}", data=data)
    assert response.status_code == 400
    assert "You cannot change your own role, access or password here" in page(response)
    after = fetch_user(app, admin.id)
    assert (after.role, after.active, after.session_token) == (
        "admin", True, admin.session_token)
    assert can_log_in(app, admin.email, PASSWORD)


def test_own_account_page_offers_no_lockout(client, admin, make_user):
    own = page(client.get(f"/admin/users/{admin.id}"))
    assert "This is your own account" in own
    assert "Disable the account" not in own and f"/admin/users/{admin.id}/role" not in own
    other = page(client.get(f"/admin/users/{make_user().id}"))
    assert "Disable the account" in other and "Set the new password" in other


def test_unknown_user_is_404(client, admin):
    assert client.get("/admin/users/4242").status_code == 404
    assert client.post("/admin/users/4242/disable").status_code == 404


# Units ----------------------------------------------------------------------------------

def unit_id(app, name: str) -> int:
    with app.app_context():
        return db.session.scalar(select(Unit.id).where(Unit.name == name))


def report_form_units(app) -> list[str]:
    with app.app_context():
        return [name for _, name in unit_choices()]


def test_admin_adds_a_unit_that_the_report_form_offers(app, client, admin):
    response = client.post("/admin/units", data={"name": "  Hjärtintensiven  "})
    assert response.status_code == 302
    assert "Hjärtintensiven" in page(client.get("/admin/units"))
    assert report_form_units(app) == ["Hjärtintensiven"]
    assert ">Hjärtintensiven</option>" in page(client.get("/"))
    [event] = events(app, "unit.create")
    assert event.details == {"name": "Hjärtintensiven"}


@pytest.mark.parametrize("name", ["Akuten", "akuten", " AKUTEN "])
def test_a_duplicate_unit_is_refused(app, client, admin, make_unit, name):
    make_unit("Akuten")
    response = client.post("/admin/units", data={"name": name})
    assert response.status_code == 400
    assert "A unit with this name already exists." in page(response)
    assert count(app, Unit) == 1


@pytest.mark.parametrize("name", ["", "   ", "x" * 121])
def test_a_unit_needs_a_sensible_name(app, client, admin, name):
    assert client.post("/admin/units", data={"name": name}).status_code == 400
    assert count(app, Unit) == 0


def test_rename_a_unit(app, client, admin, make_unit):
    unit = make_unit("Avd 12")
    make_unit("Akuten")
    taken = client.post(f"/admin/units/{unit.id}", data={"name": "akuten"})
    assert taken.status_code == 400 and "already exists" in page(taken)
    assert client.post(f"/admin/units/{unit.id}", data={"name": "AVD 12"}).status_code == 302
    assert client.post(f"/admin/units/{unit.id}",
                       data={"name": "Avdelning 12"}).status_code == 302
    assert report_form_units(app) == ["Akuten", "Avdelning 12"]
    renames = [e.details for e in events(app, "unit.rename")]
    assert renames == [{"previous": "Avd 12", "name": "AVD 12"},
                       {"previous": "AVD 12", "name": "Avdelning 12"}]


def test_an_inactive_unit_leaves_the_report_form_and_comes_back(app, client, admin, make_unit):
    unit = make_unit("Röntgen")
    make_unit("Akuten")
    assert client.post(f"/admin/units/{unit.id}/deactivate").status_code == 302
    assert report_form_units(app) == ["Akuten"]
    assert ">Röntgen</option>" not in page(client.get("/"))
    refused = client.post("/", data=form_data(unit.id))
    assert refused.status_code == 400
    assert "No, inactive" in page(client.get("/admin/units"))

    assert client.post(f"/admin/units/{unit.id}/reactivate").status_code == 302
    assert report_form_units(app) == ["Akuten", "Röntgen"]
    assert [len(events(app, "unit.deactivate")), len(events(app, "unit.reactivate"))] == [1, 1]


def test_unknown_unit_is_404(client, admin):
    assert client.get("/admin/units/4242").status_code == 404
    assert client.post("/admin/units/4242/deactivate").status_code == 404


# Navigation and the audit log ------------------------------------------------------------

def test_admin_lands_on_users_and_sees_the_admin_links(client, make_user, login):
    response = login(make_user("admin"))
    assert response.headers["Location"].endswith("/admin/users")
    nav = page(client.get("/admin/users"))
    for link in ("/admin/users", "/admin/units", "/admin/audit", "/admin/models"):
        assert f'href="{link}"' in nav
    assert 'href="/triage/"' not in nav and 'href="/export/"' not in nav


def test_others_see_no_admin_links(client, make_user, login):
    login(make_user("coordinator"))
    nav = page(client.get("/"))
    assert 'href="/triage/"' in nav
    assert 'href="/admin/users"' not in nav and 'href="/admin/units"' not in nav


def test_every_audit_action_has_a_name_and_admin_events_show_in_the_log(client, admin,
                                                                        make_user):
    assert set(ACTIONS) <= set(ACTION_NAMES)
    user = make_user()
    client.post(f"/admin/users/{user.id}/disable")
    log = page(client.get("/admin/audit", query_string={"action": "user.disable"}))
    assert "Disabled an account" in log and f"Account {user.id}" in log


# The single sign-on seam ------------------------------------------------------------------

def test_a_password_login_is_audited_with_its_method(app, make_user, login):
    user = make_user()
    login(user)
    [event] = events(app, "login.success")
    assert event.details == {"method": "password"} and event.actor_id == user.id


def test_account_for_login_provisions_only_with_a_role_claim(ctx):
    assert account_for_login("new@example.org") is None
    user = account_for_login("New@Example.org", role_claim="staff")
    assert (user.email, user.role, user.active) == ("new@example.org", "staff", True)
    assert account_for_login("new@example.org", role_claim="admin").id == user.id
    db.session.expire_all()
    assert db.session.get(User, user.id).role == "staff"  # roles are managed in Vaka
    [event] = db.session.scalars(select(AuditEvent)).all()
    assert (event.action, event.object_id, event.details) == (
        "user.create", str(user.id), {"role": "staff"})


def test_account_for_login_keeps_disabled_accounts_out(ctx, make_user):
    disabled = make_user("coordinator", active=False)
    assert account_for_login(disabled.email, role_claim="coordinator") is None
    assert account_for_login(disabled.email) is None


def test_account_for_login_refuses_an_unknown_role_claim(ctx):
    with pytest.raises(UserError, match="unknown role"):
        account_for_login("new@example.org", role_claim="root")
    assert db.session.scalars(select(User)).all() == []


def test_the_user_list_shows_each_account_s_last_login(app, client, make_user, login):
    """Read from the login events: the newest success counts, a failure does not; an account
    that never logged in says so."""
    nurse = make_user("staff", email="nurse@example.org")
    idle = make_user("staff", email="idle@example.org")
    with app.app_context():
        db.session.add_all([
            AuditEvent(actor_id=nurse.id, actor_label=nurse.email, action="login.success",
                       at=datetime(2026, 3, 1, 8, 0)),
            AuditEvent(actor_id=nurse.id, actor_label=nurse.email, action="login.success",
                       at=datetime(2026, 3, 4, 7, 45)),
            AuditEvent(actor_id=nurse.id, actor_label=nurse.email, action="report.view",
                       at=datetime(2026, 3, 5, 9, 0)),
            AuditEvent(actor_id=idle.id, actor_label=idle.email, action="login.failure",
                       at=datetime(2026, 3, 5, 9, 0))])
        db.session.commit()
    login(make_user("admin", email="admin@example.org"))
    rows = page_text(client.get("/admin/users")).split("\n")
    nurse_row = " ".join(rows[next(i for i, r in enumerate(rows) if "nurse@example.org" in r):][:6])
    idle_row = " ".join(rows[next(i for i, r in enumerate(rows) if "idle@example.org" in r):][:6])
    # 07:45 UTC is 08:45 in Stockholm in March.
    assert "2026-03-04 at 08:45" in nurse_row and "2026-03-05" not in nurse_row
    assert "Never" in idle_row


def test_the_last_login_is_one_index_seek_per_account(app):
    """The correlated query reads the (actor, action, time) index, not every event."""
    from app.services.audit import last_login_query

    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("the plan is SQLite's; PostgreSQL's depends on its statistics")
        sql = last_login_query().compile(db.engine, compile_kwargs={"literal_binds": True})
        plan = " ".join(str(row[-1]) for row in db.session.execute(
            text(f"EXPLAIN QUERY PLAN {sql}")))
    assert "USING COVERING INDEX ix_audit_event_actor_action" in plan
