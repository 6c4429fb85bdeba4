"""Throttling of logins, receipt guessing and the report form's look-ups (Flask-Limiter).

Counters are keyed by a keyed hash of the client address, never the address
itself, so not even the rate-limit store holds one. The address is the
connecting one unless `TRUSTED_PROXIES` says how many proxies in front of the
app may be believed about X-Forwarded-For; anyone else's header is ignored.
"""

import hashlib
import hmac

from flask import Flask, current_app, request
from werkzeug.middleware.proxy_fix import ProxyFix

from app.extensions import limiter
from app.services.users import normalize_email


def _keyed(value: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()[:24]


def client_key() -> str:
    return "address:" + _keyed(request.remote_addr or "unknown")


def account_key() -> str:
    return "account:" + _keyed(normalize_email(request.form.get("email", "")))


def _limit(name: str):
    return lambda: current_app.config[name]


login_per_address = limiter.limit(_limit("LOGIN_LIMIT_PER_ADDRESS"), key_func=client_key,
                                  methods=["POST"], scope="login-address")
login_per_account = limiter.limit(_limit("LOGIN_LIMIT_PER_ACCOUNT"), key_func=account_key,
                                  methods=["POST"], scope="login-account")
#: A single sign-on callback is a login attempt too (a GET: the provider redirects).
sso_per_address = limiter.limit(_limit("LOGIN_LIMIT_PER_ADDRESS"), key_func=client_key,
                                scope="sso-address")
receipt_per_address = limiter.limit(_limit("RECEIPT_LIMIT_PER_ADDRESS"), key_func=client_key,
                                    methods=["POST"], scope="receipt-address")
#: The report form's look-up of matching known issues while a reporter types.
matching_per_address = limiter.limit(_limit("MATCHING_LIMIT_PER_ADDRESS"), key_func=client_key,
                                     scope="matching-address")
#: Refused bearer tokens (401) on the JSON API, counted like failed logins: a client that
#: keeps guessing is stopped, one whose token works is never counted.
api_auth_per_address = limiter.limit(_limit("API_AUTH_FAILURE_LIMIT_PER_ADDRESS"),
                                     key_func=client_key, scope="api-auth-address",
                                     deduct_when=lambda response: response.status_code == 401)


class _ForwardedForRemoved:
    """WSGI middleware that drops X-Forwarded-For once ProxyFix (if any) has used it.

    Flask-Login's session protection reads the header directly, whoever sent it;
    without it, it uses the address ProxyFix vouched for (or the connection's).
    """

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        environ.pop("HTTP_X_FORWARDED_FOR", None)
        return self.wsgi_app(environ, start_response)


def init_app(app: Flask) -> None:
    proxies = app.config["TRUSTED_PROXIES"]
    app.wsgi_app = _ForwardedForRemoved(app.wsgi_app)
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)
    limiter.init_app(app)
