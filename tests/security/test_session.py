"""Sessions: a new one at login, copied cookies that stop working, forged ones that never work.

tests/test_auth.py checks that the same client is logged out after logout and
after the account is disabled. Here the login cookie is copied into another
browser first, and after each way a session ends every protected page and
every form of the URL map is tried with the copy (CSRF token included).
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask

from models import User, db
from tests.helpers import PASSWORD
from tests.security.helpers import (
    FORGED_CHANGE,
    STRONG_PASSWORD,
    app_rules,
    csrf_token,
    log_in,
    redirects_to_login,
    send,
    session_data,
    snapshot,
    url_for_rule,
)

STAFF_ROLES = ("staff", "coordinator", "researcher", "admin")

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": True}


def session_cookie(app: Flask, client) -> str:
    return client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value


def copy_session(app: Flask, source, target) -> None:
    target.set_cookie(app.config["SESSION_COOKIE_NAME"], session_cookie(app, source))


# Fixation and forgery --------------------------------------------------------------------

def test_a_cookie_planted_before_login_is_replaced_at_login(app, world):
    attacker = app.test_client()
    csrf_token(attacker, "/login")
    victim = app.test_client()
    copy_session(app, attacker, victim)
    planted = session_data(app, victim)
    assert planted.get("csrf_token")
    log_in(victim, world.users["coordinator"])
    assert session_cookie(app, victim) != session_cookie(app, attacker)
    # The attacker knows the planted CSRF secret: the logged-in session must not use it.
    csrf_token(victim)
    assert session_data(app, victim)["csrf_token"] != planted["csrf_token"]
    assert redirects_to_login(attacker.get("/triage/"))
    assert victim.get("/triage/").status_code == 200


def test_a_session_signed_with_another_key_opens_nothing(app, world):
    victim = app.test_client()
    log_in(victim, world.users["admin"])
    forger = Flask("forger")
    forger.secret_key = "a guessed key"
    forged = forger.session_interface.get_signing_serializer(forger).dumps(
        session_data(app, victim))
    thief = app.test_client()
    thief.set_cookie(app.config["SESSION_COOKIE_NAME"], forged)
    assert redirects_to_login(thief.get("/admin/audit"))
    assert victim.get("/admin/audit").status_code == 200


def test_a_copied_cookie_from_another_browser_or_address_is_dropped(app, world):
    """Flask-Login's strong session protection ties the session to address and browser."""
    victim = app.test_client()
    log_in(victim, world.users["coordinator"])
    for environ in ({"HTTP_USER_AGENT": "Another browser/1.0"}, {"REMOTE_ADDR": "192.0.2.7"}):
        thief = app.test_client()
        copy_session(app, victim, thief)
        assert redirects_to_login(thief.get("/triage/", environ_base=environ)), environ
    assert victim.get("/triage/").status_code == 200


def test_a_forged_forwarded_for_does_not_make_a_copied_cookie_work(app, world):
    victim = app.test_client()
    log_in(victim, world.users["coordinator"])
    thief = app.test_client()
    copy_session(app, victim, thief)
    response = thief.get("/triage/", environ_base={"REMOTE_ADDR": "192.0.2.7"},
                         headers={"X-Forwarded-For": "127.0.0.1"})
    assert redirects_to_login(response)


# Cookie flags ----------------------------------------------------------------------------

def session_set_cookie(app: Flask, response) -> str:
    name = app.config["SESSION_COOKIE_NAME"]
    [header] = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(name + "=")]
    return header


def test_the_login_cookie_is_http_only_and_same_site_and_nothing_remembers_it(app, world):
    client = app.test_client()
    response = log_in(client, world.users["staff"])
    flags = [flag.strip().lower() for flag in session_set_cookie(app, response).split(";")]
    assert "httponly" in flags and "samesite=lax" in flags
    assert not any("remember" in h for h in response.headers.getlist("Set-Cookie"))


@pytest.mark.parametrize(("setting", "secure"), [(None, "True"), ("0", "False"), ("1", "True")])
def test_the_login_cookie_is_secure_unless_turned_off(setting, secure):
    """Read as a production start reads it: config.py in a fresh interpreter."""
    env = {key: value for key, value in os.environ.items() if key != "SESSION_COOKIE_SECURE"}
    if setting is not None:
        env["SESSION_COOKIE_SECURE"] = setting
    printed = subprocess.run(
        [sys.executable, "-c", "from config import Config; print(Config.SESSION_COOKIE_SECURE)"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True).stdout.strip()
    assert printed == secure


@pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": True,
                                         "SESSION_COOKIE_SECURE": True}])
def test_the_cookie_is_secure_when_configured(app):
    response = app.test_client().get("/login", base_url="https://localhost")
    assert "secure" in [f.strip().lower() for f in session_set_cookie(app, response).split(";")]


# Copied cookies after the session ends ---------------------------------------------------

def logout(app, victim, user, make_user) -> None:
    assert victim.post("/logout", data={"csrf_token": csrf_token(victim)}).status_code == 302


def disable_in_the_database(app, victim, user, make_user) -> None:
    """Only the account's flag changes: the login check itself must refuse it."""
    with app.app_context():
        db.session.get(User, user.id).active = False
        db.session.commit()


def disable_on_the_admin_page(app, victim, user, make_user) -> None:
    admin = app.test_client()
    log_in(admin, make_user("admin"))
    response = admin.post(f"/admin/users/{user.id}/disable",
                          data={"csrf_token": csrf_token(admin)})
    assert response.status_code == 302


def change_password(app, victim, user, make_user) -> None:
    response = victim.post("/account/password", data={
        "current": PASSWORD, "new": STRONG_PASSWORD, "confirm": STRONG_PASSWORD,
        "csrf_token": csrf_token(victim)})
    assert response.status_code == 302


ENDINGS = {"logout": logout, "disabled in the database": disable_in_the_database,
           "disabled by an admin": disable_on_the_admin_page,
           "password changed": change_password}


def login_only(app, world, method: str) -> list[str]:
    """Addresses of every route that sends a visitor to log in."""
    visitor = app.test_client()
    token = csrf_token(visitor)
    urls = []
    for rule in app_rules(method):
        url = url_for_rule(app, rule, world)
        if redirects_to_login(send(visitor, method, url, data={"csrf_token": token})):
            urls.append(url)
    return urls


@pytest.mark.parametrize("ending", ENDINGS)
@pytest.mark.parametrize("role", STAFF_ROLES)
def test_a_copied_cookie_stops_working_when_the_session_ends(app, world, make_user, role,
                                                              ending):
    user = world.users[role]
    victim, thief = app.test_client(), app.test_client()
    log_in(victim, user)
    copy_session(app, victim, thief)
    pages, forms = login_only(app, world, "GET"), login_only(app, world, "POST")
    opened = [url for url in pages if send(thief, "GET", url).status_code == 200]
    assert opened, "the copied cookie should work while the session lasts"
    stolen_token = csrf_token(thief)  # as the thief reads it from any page

    ENDINGS[ending](app, victim, user, make_user)

    for url in pages:
        assert redirects_to_login(send(thief, "GET", url)), url
    assert user.email not in thief.get("/").get_data(as_text=True)
    before = snapshot(app)
    for url in forms:
        response = send(thief, "POST", url, data={**FORGED_CHANGE, "csrf_token": stolen_token})
        assert redirects_to_login(response), url
    assert snapshot(app) == before
