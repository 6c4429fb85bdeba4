"""Single sign-on with OpenID Connect: Vaka as a relying party, with Authlib's Flask client.

The routes are in app/auth/routes.py; this is what they call.

/login/sso sends the browser to the provider (found through its discovery document,
OIDC_METADATA_URL) with a fresh `state`, `nonce` and PKCE challenge (S256), which Authlib
keeps in the session. The provider sends the browser back to /login/sso/callback with a
code; Authlib checks the state (and forgets it: a callback works once), exchanges the code
and the PKCE verifier for tokens, and checks the ID token: its signature against the
provider's JWKS, its issuer, audience (our client id), times (within OIDC_CLOCK_SKEW_S) and
nonce. Only then do its claims reach `app.services.sso.account_for_claims`, and the account
`log_in(user, "oidc")`. Every refusal is audited as a `login.failure` with method "oidc" and
a reason; logging out also ends the provider's session when it has an end-session endpoint.
"""

import logging
from dataclasses import dataclass

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.base_client import MismatchingStateError, OAuthError
from authlib.integrations.flask_client import FlaskOAuth2App, OAuth
from flask import Flask, current_app, url_for
from joserfc.errors import (
    BadSignatureError,
    ClaimError,
    ExpiredTokenError,
    InvalidKeyIdError,
    JoseError,
)
from werkzeug.wrappers import Response

from app.services.sso import ClaimSettings, SignOnRefused, account_for_claims, parse_role_map
from models import User

log = logging.getLogger(__name__)

EXTENSION = "vaka.sso"
#: The reason a refused ID token claim is audited with.
CLAIM_REASONS = {"aud": "wrong_audience", "azp": "wrong_audience", "iss": "wrong_issuer",
                 "nonce": "wrong_nonce"}


@dataclass(frozen=True)
class SingleSignOn:
    client: FlaskOAuth2App
    claims: ClaimSettings
    client_id: str
    clock_skew_s: int


def init_app(app: Flask) -> None:
    """Set up the provider's client when OIDC_METADATA_URL is set; refuse half a setup."""
    from app import ConfigurationError

    config = app.config
    if not config["OIDC_METADATA_URL"]:
        return
    if not config["OIDC_CLIENT_ID"] or not config["OIDC_CLIENT_SECRET"]:
        raise ConfigurationError("OIDC_METADATA_URL is set: set OIDC_CLIENT_ID and "
                                 "OIDC_CLIENT_SECRET too")
    try:
        role_map = parse_role_map(config["OIDC_ROLE_MAP"])
    except ValueError as error:
        raise ConfigurationError(str(error)) from error
    if not role_map:
        raise ConfigurationError("OIDC_ROLE_MAP is empty: no one could log in with single "
                                 "sign-on ('claim value=role,...')")
    client = OAuth(app).register(
        "oidc", client_id=config["OIDC_CLIENT_ID"], client_secret=config["OIDC_CLIENT_SECRET"],
        server_metadata_url=config["OIDC_METADATA_URL"],
        client_kwargs={"scope": config["OIDC_SCOPES"], "code_challenge_method": "S256",
                       "default_timeout": config["OIDC_TIMEOUT_S"]})
    app.extensions[EXTENSION] = SingleSignOn(
        client=client, claims=ClaimSettings(config["OIDC_EMAIL_CLAIM"],
                                            config["OIDC_ROLE_CLAIM"], role_map),
        client_id=config["OIDC_CLIENT_ID"], clock_skew_s=config["OIDC_CLOCK_SKEW_S"])


def _sso() -> SingleSignOn | None:
    return current_app.extensions.get(EXTENSION)


def sso_configured() -> bool:
    return _sso() is not None


def password_login_allowed() -> bool:
    """PASSWORD_LOGIN when set, else only where there is no single sign-on."""
    setting = current_app.config["PASSWORD_LOGIN"]
    return not sso_configured() if setting is None else setting


def sign_on_redirect(callback_url: str) -> Response | None:
    """The redirect to the provider's login, or None when the provider cannot be reached."""
    try:
        return _sso().client.authorize_redirect(callback_url)
    except (requests.RequestException, AuthlibBaseError, ValueError) as error:
        log.warning("single sign-on: the provider's metadata could not be read: %s", error)
        return None


def verified_login() -> tuple[User, str]:
    """The account this callback's ID token names, and the ID token (for logging out).

    Raises SignOnRefused with the reason for whatever does not hold.
    """
    sso = _sso()
    token = _verified_token(sso)
    return account_for_claims(token["userinfo"], sso.claims), token["id_token"]


def _verified_token(sso: SingleSignOn) -> dict:
    """The provider's tokens for this callback, the ID token's claims verified ("userinfo").

    Raises SignOnRefused with the reason for whatever does not hold.
    """
    try:
        claims_options = {
            "iss": {"essential": True, "value": sso.client.load_server_metadata()["issuer"]},
            "aud": {"essential": True, "value": sso.client_id}}
        token = sso.client.authorize_access_token(claims_options=claims_options,
                                                  leeway=sso.clock_skew_s)
    except MismatchingStateError as error:
        raise SignOnRefused("state_mismatch") from error
    except OAuthError as error:  # the provider said no: at its login, or at the token endpoint
        raise SignOnRefused("provider_refused", error=error.error or "") from error
    except (BadSignatureError, InvalidKeyIdError) as error:
        raise SignOnRefused("bad_signature") from error
    except ExpiredTokenError as error:
        raise SignOnRefused("expired") from error
    except ClaimError as error:
        raise SignOnRefused(CLAIM_REASONS.get(error.claim, "invalid_claim"),
                            claim=error.claim) from error
    except JoseError as error:
        raise SignOnRefused("invalid_token", error=error.error) from error
    except requests.RequestException as error:
        raise SignOnRefused("provider_unreachable", error=type(error).__name__) from error
    except (KeyError, ValueError) as error:  # no issuer in its metadata, a reply not JSON
        raise SignOnRefused("provider_response", error=type(error).__name__) from error
    if not token.get("userinfo"):
        raise SignOnRefused("no_id_token")
    return token


def end_session_url(id_token: str | None) -> str | None:
    """Where logging out sends the browser to end the provider's session too, or None."""
    sso = _sso()
    if sso is None or not id_token:
        return None
    try:
        if not sso.client.load_server_metadata().get("end_session_endpoint"):
            return None
        return sso.client.create_logout_url(
            post_logout_redirect_uri=url_for("reports.new", _external=True),
            id_token_hint=id_token)["url"]
    except (requests.RequestException, AuthlibBaseError, ValueError) as error:
        log.warning("single sign-on: no end-session redirect: %s", error)
        return None
