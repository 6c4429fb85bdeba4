"""Logging in and out."""

import re

import pytest

from models import User, db


def test_login_lands_each_role_on_its_page(client, make_user, login):
    response = login(make_user("coordinator"))
    assert response.headers["Location"].endswith("/triage/")


def test_wrong_password_is_refused(client, make_user):
    user = make_user()
    response = client.post("/login", data={"email": user.email, "password": "wrong password!"})
    assert response.status_code == 200
    assert "Wrong e-mail or password" in response.get_data(as_text=True)


def test_unknown_email_gets_the_same_message(client):
    response = client.post("/login", data={"email": "nobody@example.org", "password": "x" * 12})
    assert "Wrong e-mail or password" in response.get_data(as_text=True)


def test_disabled_account_cannot_log_in(client, make_user):
    user = make_user(active=False)
    response = client.post("/login", data={"email": user.email, "password": "correct horse "
                                                                            "battery staple"})
    assert response.status_code == 200


@pytest.mark.parametrize(("target", "safe"), [
    ("/export/", True), ("https://evil.example/", False), ("//evil.example/x", False),
    ("/\\evil.example", False), ("javascript:alert(1)", False),
])
def test_next_redirect_stays_on_the_site(client, make_user, target, safe):
    user = make_user("researcher")
    response = client.post("/login", data={"email": user.email, "next": target,
                                           "password": "correct horse battery staple"})
    location = response.headers["Location"]
    assert location == target if safe else location.endswith("/export/")


def test_logout_ends_the_session_on_the_server(client, app, make_user, login):
    login(make_user("coordinator"))
    assert client.get("/triage/").status_code == 200
    stolen = client.get_cookie("session").value
    client.post("/logout")
    assert client.get("/triage/").status_code == 302
    client.set_cookie("session", stolen)
    assert client.get("/triage/").status_code == 302


def test_disabling_an_account_ends_its_sessions(client, app, make_user, login):
    user = make_user("coordinator")
    login(user)
    with app.app_context():
        db.session.get(User, user.id).active = False
        db.session.commit()
    assert client.get("/triage/").status_code == 302


def test_language_switch_and_accept_language(client):
    assert 'lang="sv"' in client.get("/", headers={"Accept-Language": "sv"}).get_data(
        as_text=True)
    page = client.get("/", headers={"Accept-Language": "sv-SE,sv;q=0.9"}).get_data(as_text=True)
    assert "Skicka rapport" in page
    client.post("/language/en", data={"next": "/status"})
    page = client.get("/", headers={"Accept-Language": "sv"}).get_data(as_text=True)
    assert 'lang="en"' in page and "Send report" in page


NEW_PASSWORD = "blue kettle under the pier"


def change(client, current: str = "correct horse battery staple", new: str = NEW_PASSWORD,
           confirm: str | None = None):
    return client.post("/account/password", data={"current": current, "new": new,
                                                  "confirm": confirm or new})


def test_password_change_keeps_this_session_and_ends_the_others(app, client, make_user, login):
    user = make_user("coordinator")
    login(user)
    other = app.test_client()
    other.post("/login", data={"email": user.email, "password": "correct horse battery staple"})
    assert other.get("/triage/").status_code == 200
    response = change(client)
    assert response.status_code == 302
    assert client.get("/triage/").status_code == 200
    assert other.get("/triage/").status_code == 302
    fresh = app.test_client()
    assert fresh.post("/login", data={"email": user.email,
                                      "password": NEW_PASSWORD}).status_code == 302


@pytest.mark.parametrize(("data", "message"), [
    ({"current": "not my password"}, "The current password is wrong"),
    ({"new": "short one"}, "at least 12 characters"),
    ({"new": "password1234"}, "too common or too easy"),
    ({"new": "qwertyuiop123"}, "too common or too easy"),
    ({"confirm": "something else entirely"}, "The two new passwords differ"),
])
def test_bad_password_changes_are_refused(client, make_user, login, data, message):
    user = make_user()
    login(user)
    response = change(client, **data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    client.post("/logout")
    assert client.post("/login", data={"email": user.email, "password":
                                       "correct horse battery staple"}).status_code == 302


def test_password_page_needs_a_login(client):
    assert client.get("/account/password").status_code == 302


def test_a_login_sent_back_leads_with_an_error_summary_linking_to_the_fields(client):
    page = client.post("/login", data={"email": "", "password": ""}).get_data(as_text=True)
    start = page.index('<div class="error-summary"')
    summary = page[start:page.index("</ul>", start)]
    assert "autofocus" in summary
    assert '<a href="#email">Enter your e-mail address.</a>' in summary
    assert '<a href="#password">Enter your password.</a>' in summary
    assert "Nothing you typed is lost" not in page, "the password is not given back"
    for name in ("email", "password"):
        tag = re.search(rf'<input[^>]*id="{name}"[^>]*>', page).group(0)
        assert 'aria-invalid="true"' in tag and f'aria-describedby="{name}-error"' in tag
        assert f'id="{name}-error"' in page


def test_a_wrong_password_is_in_the_summary_too(client, make_user):
    user = make_user()
    page = client.post("/login", data={"email": user.email, "password": "wrong password!"}
                       ).get_data(as_text=True)
    assert '<a href="#password">Wrong e-mail or password.</a>' in page
