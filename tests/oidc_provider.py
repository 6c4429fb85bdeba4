"""A small but real OpenID Connect provider for the single sign-on tests.

It speaks HTTP on 127.0.0.1 (werkzeug's server in a thread) with a discovery document,
an authorization endpoint, a token endpoint, a JWKS and an end-session endpoint, and
signs its ID tokens with joserfc (the JOSE library Authlib uses). It checks what a
provider must: the client and its secret, the redirect URI, that a code is used once,
and the PKCE verifier against the S256 challenge (with Authlib's own function).

Each test says who logs in (`next_login`) and may make the provider misbehave for the
attack cases (`mischief`): other claims, a key that is not in its JWKS.
"""

import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from flask import Flask, jsonify, redirect, request
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from werkzeug.serving import make_server

CLIENT_ID = "vaka-test"
CLIENT_SECRET = "test-client-secret"
KEY_ID = "provider-key-1"


@dataclass
class Login:
    """The person the provider authenticates next, and the claims it says about them."""

    email: str
    groups: list[str] = field(default_factory=lambda: ["vaka-staff"])
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Mischief:
    """How the provider's next ID token goes wrong (nothing by default)."""

    #: Claims replacing the honest ones, e.g. {"aud": "another-client"}.
    claims: dict[str, Any] = field(default_factory=dict)
    #: Sign with a key the JWKS does not hold (by default under the JWKS's key id: a forgery).
    foreign_key: bool = False
    #: The key id the token's header names instead of the provider's.
    key_id: str | None = None


class Provider:
    def __init__(self) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": KEY_ID, "use": "sig"})
        self.foreign = RSAKey.generate_key(2048, parameters={"kid": KEY_ID, "use": "sig"})
        self.next_login = Login("sjukskoterska@example.org")
        self.mischief = Mischief()
        self.codes: dict[str, dict[str, Any]] = {}
        #: What the token endpoint refused, e.g. "invalid_grant: PKCE verifier".
        self.refusals: list[str] = []
        self.end_session_calls: list[dict[str, str]] = []
        self.jwks_requests = 0
        self.with_end_session = True
        self._server = make_server("127.0.0.1", 0, self._app(), threaded=True)
        self.issuer = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def metadata_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    def start(self) -> "Provider":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join()

    def id_token(self, nonce: str, **claims: Any) -> str:
        """An ID token for `next_login`, as honest as `mischief` allows."""
        now = int(time.time())
        login = self.next_login
        payload = {"iss": self.issuer, "sub": f"sub-{login.email}", "aud": CLIENT_ID,
                   "iat": now, "exp": now + 300, "nonce": nonce, "email": login.email,
                   "email_verified": True, "groups": login.groups, **login.extra, **claims}
        payload.update(self.mischief.claims)
        key = self.foreign if self.mischief.foreign_key else self.key
        return jwt.encode({"alg": "RS256", "kid": self.mischief.key_id or KEY_ID}, payload, key)

    # The endpoints --------------------------------------------------------------------------

    def _app(self) -> Flask:
        app = Flask("oidc_provider")
        app.add_url_rule("/.well-known/openid-configuration", view_func=self._discovery)
        app.add_url_rule("/jwks", view_func=self._jwks)
        app.add_url_rule("/authorize", view_func=self._authorize)
        app.add_url_rule("/token", view_func=self._token, methods=["POST"])
        app.add_url_rule("/logout", view_func=self._end_session)
        return app

    def _discovery(self):
        document = {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic"],
        }
        if self.with_end_session:
            document["end_session_endpoint"] = f"{self.issuer}/logout"
        return jsonify(document)

    def _jwks(self):
        self.jwks_requests += 1
        return jsonify(KeySet([self.key]).as_dict(private=False))

    def _authorize(self):
        args = request.args
        if (args.get("client_id") != CLIENT_ID or args.get("response_type") != "code"
                or args.get("code_challenge_method") != "S256" or not args.get("code_challenge")
                or "openid" not in args.get("scope", "").split()):
            return jsonify(error="invalid_request"), 400
        code = secrets.token_urlsafe(16)
        self.codes[code] = {"redirect_uri": args["redirect_uri"], "nonce": args.get("nonce"),
                            "challenge": args["code_challenge"]}
        return redirect(add_params_to_uri(args["redirect_uri"],
                                          {"code": code, "state": args["state"]}))

    def _refuse(self, error: str, why: str):
        self.refusals.append(f"{error}: {why}")
        return jsonify(error=error, error_description=why), 400

    def _token(self):
        auth = request.authorization
        if auth is None or (auth.username, auth.password) != (CLIENT_ID, CLIENT_SECRET):
            return self._refuse("invalid_client", "client authentication")
        form = request.form
        grant = self.codes.pop(form.get("code", ""), None)  # a code is good once
        if form.get("grant_type") != "authorization_code" or grant is None:
            return self._refuse("invalid_grant", "unknown or used code")
        if form.get("redirect_uri") != grant["redirect_uri"]:
            return self._refuse("invalid_grant", "redirect_uri")
        verifier = form.get("code_verifier", "")
        if not verifier or create_s256_code_challenge(verifier) != grant["challenge"]:
            return self._refuse("invalid_grant", "PKCE verifier")
        return jsonify(access_token=secrets.token_urlsafe(16), token_type="Bearer",
                       expires_in=300, id_token=self.id_token(grant["nonce"]))

    def _end_session(self):
        self.end_session_calls.append(request.args.to_dict())
        target = request.args.get("post_logout_redirect_uri")
        return redirect(target) if target else "Logged out"
