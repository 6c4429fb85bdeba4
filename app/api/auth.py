"""Bearer tokens on the API's views: who is calling, and whether its scopes allow it."""

from collections.abc import Callable
from functools import wraps

from flask import g, request

from app.api.problems import ApiProblem
from app.services.api_tokens import TokenRefused, authenticate, require_scope
from models import ApiToken

#: What a refused request is told, by the reason it was refused.
UNAUTHENTICATED_REASONS = {
    "missing": "Send the header Authorization: Bearer <token>.",
    "unknown": "The token is not valid.",
    "revoked": "The token was revoked.",
    "expired": "The token has expired.",
}


def bearer_secret() -> str | None:
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    return secret.strip() or None if scheme.lower() == "bearer" else None


def calling_token(scope: str | None = None, required: bool = True) -> ApiToken | None:
    """The token of this request, checked for `scope`; ApiProblem 401/403 if it fails.

    With `required` False a request without an Authorization header is let through
    (None); one with a bad token is still refused.
    """
    secret = bearer_secret()
    if secret is None and not required and "Authorization" not in request.headers:
        return None
    try:
        token = authenticate(secret)
        if scope:
            require_scope(token, scope)
    except TokenRefused as refused:
        if refused.reason == "scope":
            raise ApiProblem(403, f"The token lacks the scope {scope}.") from None
        raise ApiProblem(401, UNAUTHENTICATED_REASONS[refused.reason]) from None
    g.api_token = token
    return token


def current_token() -> ApiToken:
    """The token `token_required` let this request in with."""
    return g.api_token


def token_required(scope: str) -> Callable:
    """Let a view be called only with a usable token that holds `scope` (a permission)."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            calling_token(scope)
            return view(*args, **kwargs)

        wrapped.api_scope = scope
        return wrapped

    return decorator
