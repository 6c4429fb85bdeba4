"""Single sign-on against a real OpenID provider on loopback (tests/oidc_provider.py).

The Flask test client plays the browser: it starts at /login/sso, the provider's
authorization endpoint is called over HTTP with `requests`, and its redirect comes back to
the callback; Vaka itself fetches the discovery document, the JWKS and the tokens from the
provider over HTTP. Every attack case must be refused with a `login.failure` audit entry.
"""

import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from sqlalchemy import select

from app import ConfigurationError, create_app
from app.extensions import limiter
from app.services.sso import ClaimSettings, parse_role_map, role_from_claims
from config import TestingConfig
from models import User, db
from tests.helpers import events
from tests.oidc_provider import CLIENT_ID, CLIENT_SECRET, Login, Mischief, Provider

ROLE_MAP = ("vaka-admins=admin,vaka-coordinators=coordinator,vaka-research=researcher,"
            "vaka-staff=staff")
NURSE = "sjukskoterska@example.org"


@pytest.fixture(scope="module")
def running_provider():
    provider = Provider().start()
    yield provider
    provider.stop()


@pytest.fixture
def provider(running_provider):
    """The module's provider, honest again, with a nurse of the staff group to log in."""
    running_provider.next_login = Login(NURSE)
    running_provider.mischief = Mischief()
    running_provider.refusals.clear()
    running_provider.end_session_calls.clear()
    running_provider.with_end_session = True
    running_provider.jwks_requests = 0
    return running_provider


def sso_settings(provider: Provider, **overrides) -> dict:
    return {"OIDC_METADATA_URL": provider.metadata_url, "OIDC_CLIENT_ID": CLIENT_ID,
            "OIDC_CLIENT_SECRET": CLIENT_SECRET, "OIDC_ROLE_MAP": ROLE_MAP, **overrides}


@pytest.fixture
def app_config(request, provider):
    """The SSO settings; a test changes some with `parametrize("app_config", ..., indirect)`."""
    return sso_settings(provider, **getattr(request, "param", {}))


def to_provider(client, path: str = "/login/sso") -> str:
    """Start a login; the provider's redirect back to Vaka (the callback URL)."""
    start = client.get(path)
    assert start.status_code == 302, start.data
    at_provider = requests.get(start.headers["Location"], allow_redirects=False, timeout=10)
    assert at_provider.status_code == 302, at_provider.text
    return at_provider.headers["Location"]


def sso_login(client, path: str = "/login/sso"):
    """The whole flow; the callback's response."""
    return client.get(to_provider(client, path))


def logged_in(client) -> bool:
    response = client.get("/report/mine")
    return response.status_code == 200


def failures(app) -> list[dict]:
    return [event.details for event in events(app, "login.failure")]


def users(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(User.email)))


def assert_refused(app, client, response, reason: str, earlier_logins: int = 0) -> None:
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/login"
    assert not logged_in(client)
    assert [d["reason"] for d in failures(app)] == [reason]
    assert failures(app)[0]["method"] == "oidc"
    assert len(events(app, "login.success")) == earlier_logins


# The good login -----------------------------------------------------------------------------

def test_first_login_provisions_the_mapped_role_and_the_session_works(app, client, provider):
    response = sso_login(client)
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/"  # staff land on the form
    assert logged_in(client)
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == NURSE))
        assert user.role == "staff" and user.active
    [success] = events(app, "login.success")
    assert success.details == {"method": "oidc"} and success.actor_id == user.id
    assert failures(app) == []


def test_the_first_role_of_the_map_wins_and_next_is_followed(app, client, provider):
    provider.next_login = Login("samordnare@example.org",
                                groups=["vaka-staff", "vaka-coordinators"])
    response = sso_login(client, "/login/sso?next=/triage/")
    assert response.headers["Location"] == "/triage/"
    with app.app_context():
        assert db.session.scalar(select(User.role).where(
            User.email == "samordnare@example.org")) == "coordinator"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil"])
def test_next_never_leaves_the_site(client, provider, target):
    response = sso_login(client, f"/login/sso?next={target}")
    assert response.headers["Location"] == "/"


def test_an_admins_role_wins_for_an_existing_account(app, client, provider, make_user):
    make_user("researcher", email=NURSE.upper())  # the e-mail matches whatever its case
    response = sso_login(client)
    assert urlsplit(response.headers["Location"]).path == "/export/"
    with app.app_context():
        assert db.session.scalar(select(User.role).where(User.email == NURSE.upper())) \
            == "researcher"
    assert len(users(app)) == 1


def test_a_token_expired_within_the_clock_skew_is_accepted(app, client, provider):
    now = int(time.time())
    provider.mischief = Mischief(claims={"iat": now - 300, "exp": now - 30})  # skew 60 s
    sso_login(client)
    assert logged_in(client)


def test_the_request_carries_state_nonce_and_an_s256_challenge(client, provider):
    start = client.get("/login/sso")
    query = parse_qs(urlsplit(start.headers["Location"]).query)
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) == 43  # base64url of a SHA-256 digest
    assert query["state"][0] and query["nonce"][0]
    assert query["redirect_uri"] == ["http://localhost/login/sso/callback"]
    assert "code_verifier" not in query


# The attack cases: each refused, with an audit entry ---------------------------------------

@pytest.mark.parametrize(("claims", "reason"), [
    ({"aud": "another-client"}, "wrong_audience"),
    ({"aud": ["another-client", "a-third"]}, "wrong_audience"),
    # Authlib's own check alone lets this one through (the azp names us): ours does not.
    ({"aud": "another-client", "azp": CLIENT_ID}, "wrong_audience"),
    ({"iss": "http://127.0.0.1:1/impostor"}, "wrong_issuer"),
    ({"nonce": "a-nonce-from-another-login"}, "wrong_nonce"),
    ({"exp": int(time.time()) - 61 - 5}, "expired"),
])
def test_a_token_with_a_wrong_claim_is_refused(app, client, provider, claims, reason):
    provider.mischief = Mischief(claims=claims)
    response = sso_login(client)
    assert_refused(app, client, response, reason)
    assert users(app) == []


def test_an_expired_token_beyond_the_skew_is_refused_whenever_it_was_issued(app, client,
                                                                              provider):
    now = int(time.time())
    provider.mischief = Mischief(claims={"iat": now - 600, "exp": now - 120})
    assert_refused(app, client, sso_login(client), "expired")


def test_a_token_signed_with_a_key_not_in_the_jwks_is_refused(app, client, provider):
    provider.mischief = Mischief(foreign_key=True)
    assert_refused(app, client, sso_login(client), "bad_signature")
    assert users(app) == []


def test_an_unknown_key_id_fetches_the_jwks_again_then_is_refused(app, client, provider):
    """A provider that rotated its key is asked once more; a key it does not have fails."""
    provider.mischief = Mischief(foreign_key=True, key_id="rotated-in-by-an-attacker")
    before = provider.jwks_requests
    assert_refused(app, client, sso_login(client), "bad_signature")
    assert provider.jwks_requests - before == 2  # the first look and the forced one


def test_a_callback_used_twice_is_refused(app, client, provider):
    callback = to_provider(client)
    client.get(callback)
    assert logged_in(client)
    replay = client.get(callback)  # the state was spent (and the session rotated)
    assert replay.status_code == 302
    assert [d["reason"] for d in failures(app)] == ["state_mismatch"]


def test_a_callback_replayed_with_the_old_session_cookie_is_refused(app, client, provider):
    callback = to_provider(client)
    cookie = client.get_cookie("session").value  # holds the state, nonce and verifier
    client.get(callback)
    thief = app.test_client()
    thief.set_cookie("session", cookie)
    assert_refused(app, thief, thief.get(callback), "provider_refused", earlier_logins=1)
    assert failures(app)[0]["error"] == "invalid_grant"
    assert provider.refusals == ["invalid_grant: unknown or used code"]


def test_a_stolen_code_fails_the_providers_pkce_check(app, client, provider):
    """A code injected into another login's callback comes with that login's verifier."""
    victims_callback = parse_qs(urlsplit(to_provider(client)).query)
    attacker = app.test_client()
    attackers_callback = parse_qs(urlsplit(to_provider(attacker)).query)
    response = attacker.get("/login/sso/callback", query_string={
        "code": victims_callback["code"][0], "state": attackers_callback["state"][0]})
    assert_refused(app, attacker, response, "provider_refused")
    assert provider.refusals == ["invalid_grant: PKCE verifier"]


def test_an_unknown_role_claim_is_refused_and_no_account_is_made(app, client, provider):
    provider.next_login = Login(NURSE, groups=["cafeteria", "parking"])
    assert_refused(app, client, sso_login(client), "unknown_role")
    assert users(app) == []


def test_an_existing_account_without_a_mapped_group_is_refused(app, client, provider,
                                                                make_user):
    make_user("coordinator", email=NURSE)
    provider.next_login = Login(NURSE, groups=[])
    assert_refused(app, client, sso_login(client), "unknown_role")


def test_a_disabled_account_stays_locked_out(app, client, provider, make_user):
    user = make_user("staff", email=NURSE, active=False)
    assert_refused(app, client, sso_login(client), "disabled_account")
    [event] = events(app, "login.failure")
    assert event.object_id == str(user.id) and event.details["email"] == NURSE


def test_an_unverified_email_is_refused(app, client, provider):
    provider.next_login = Login(NURSE, extra={"email_verified": False})
    assert_refused(app, client, sso_login(client), "email_unverified")
    assert users(app) == []


def test_a_refusal_at_the_provider_is_audited(app, client, provider):
    callback = parse_qs(urlsplit(to_provider(client)).query)
    response = client.get("/login/sso/callback", query_string={
        "error": "access_denied", "state": callback["state"][0]})
    assert_refused(app, client, response, "provider_refused")
    assert failures(app)[0]["error"] == "access_denied"


def test_a_callback_without_a_login_started_is_refused(app, client, provider):
    response = client.get("/login/sso/callback?code=made-up&state=made-up")
    assert_refused(app, client, response, "state_mismatch")


# Logging out ---------------------------------------------------------------------------------

def test_logout_ends_the_session_and_the_providers(app, client, provider):
    sso_login(client)
    response = client.post("/logout")
    target = urlsplit(response.headers["Location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == f"{provider.issuer}/logout"
    assert not logged_in(client)
    back = requests.get(response.headers["Location"], allow_redirects=False, timeout=10)
    assert back.headers["Location"] == "http://localhost/"
    [call] = provider.end_session_calls
    assert call["post_logout_redirect_uri"] == "http://localhost/"
    assert call["id_token_hint"].count(".") == 2  # the ID token Vaka was given
    assert [event.action for event in events(app)][-1] == "logout"


def test_logout_stays_in_vaka_without_an_end_session_endpoint(app, client, provider):
    provider.with_end_session = False
    sso_login(client)
    response = client.post("/logout")
    assert response.headers["Location"] == "/"
    assert not logged_in(client) and provider.end_session_calls == []


# The login page and its settings -------------------------------------------------------------

def test_the_login_page_offers_only_sso_by_default(client, provider, make_user):
    page = client.get("/login").get_data(as_text=True)
    assert 'id="sso-login"' in page and 'type="password"' not in page
    user = make_user("admin")
    response = client.post("/login", data={"email": user.email,
                                           "password": "correct horse battery staple"})
    assert response.status_code == 403
    assert not logged_in(client)


@pytest.mark.parametrize("app_config", [{"PASSWORD_LOGIN": True}], indirect=True)
def test_password_login_can_stay_on_beside_sso(client, login, make_user):
    page = client.get("/login").get_data(as_text=True)
    assert 'id="sso-login"' in page and 'type="password"' in page
    assert page.index('id="sso-login"') < page.index('type="password"')
    login(make_user("admin"))
    assert events(app=client.application, action="login.success")[0].details == {
        "method": "password"}


def test_without_sso_the_login_page_has_the_password_form_only(provider):
    app = create_app(TestingConfig)
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    assert 'type="password"' in page and "sso-login" not in page
    response = client.get("/login/sso")
    assert urlsplit(response.headers["Location"]).path == "/login"
    assert "Single sign-on is not set up here." in client.get("/login").get_data(as_text=True)


@pytest.mark.parametrize("app_config", [{
    "OIDC_METADATA_URL": "http://127.0.0.1:9/.well-known/openid-configuration",
    "OIDC_TIMEOUT_S": 2}], indirect=True)
def test_an_unreachable_provider_sends_back_to_the_login_page(client):
    response = client.get("/login/sso")
    assert urlsplit(response.headers["Location"]).path == "/login"
    assert "does not answer" in client.get("/login").get_data(as_text=True)


@pytest.mark.parametrize(("settings", "message"), [
    ({"OIDC_CLIENT_SECRET": None}, "OIDC_CLIENT_SECRET"),
    ({"OIDC_ROLE_MAP": ""}, "OIDC_ROLE_MAP is empty"),
    ({"OIDC_ROLE_MAP": "vaka-staff=nurse"}, "unknown role 'nurse'"),
    ({"OIDC_ROLE_MAP": "vaka-staff"}, "is not 'claim value=role'"),
])
def test_half_a_configuration_is_refused_at_startup(provider, settings, message):
    with pytest.raises(ConfigurationError, match=message):
        create_app(TestingConfig, **sso_settings(provider, **settings))


@pytest.mark.parametrize("app_config", [
    {"RATELIMIT_ENABLED": True, "LOGIN_LIMIT_PER_ADDRESS": "2 per minute"}], indirect=True)
def test_the_callback_is_rate_limited_like_the_password_login(app, client):
    with app.app_context():
        limiter.reset()
    codes = [client.get("/login/sso/callback?code=x&state=y").status_code for _ in range(3)]
    assert codes == [302, 302, 429]


# The role map --------------------------------------------------------------------------------

def test_the_role_map_keeps_its_order_and_reads_a_single_value():
    settings = ClaimSettings("email", "roles", parse_role_map(" a = admin , b=staff ,"))
    assert settings.role_map == {"a": "admin", "b": "staff"}
    assert role_from_claims({"roles": ["b", "a"]}, settings) == "admin"
    assert role_from_claims({"roles": "b"}, settings) == "staff"
    assert role_from_claims({"roles": {"b": 1}}, settings) is None
    assert role_from_claims({}, settings) is None
