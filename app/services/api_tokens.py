"""Bearer tokens for the JSON API: made by an admin for a system, shown once, stored as a
keyed hash, scoped to permission names, expiring and revocable.

The token is 256 random bits, so a keyed hash (HMAC-SHA256, like the receipt's) is
enough to stop a guess; the key means the database alone cannot even check one.
Every creation, revocation and refused use is audited; a use that succeeds only
moves the token's last-used time (at most once a minute, so reads stay reads).
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update

from app.auth.access import PERMISSIONS
from app.services import NotFound, ServiceError
from app.services.audit import record
from models import ApiToken, User, db, transaction, utcnow

#: How every token begins, so that a leaked one is easy to recognise (and to grep for).
TOKEN_PREFIX = "vaka_"
SYSTEM_MAX = 100
#: The longest a token may live; a system gets a new one before then.
LIFETIME_DAYS_MAX = 730
#: How stale a token's last-used time may be before a use writes it again.
LAST_USED_GRANULARITY = timedelta(minutes=1)


class TokenRefused(ServiceError):
    """A bearer token that does not allow the request; `reason` is for the audit log."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"token refused: {reason}")
        self.reason = reason


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    #: The token itself: shown once, never stored.
    secret: str


def _key() -> bytes:
    secret_key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret_key, b"api-token", hashlib.sha256).digest()


def token_hash(secret: str) -> str:
    return "hmac-sha256$" + hmac.new(_key(), secret.encode(), hashlib.sha256).hexdigest()


def actor_label(token: ApiToken) -> str:
    """How the audit log names what a token did."""
    return f"api token {token.id} ({token.system})"


def create_token(system: str, scopes: set[str], lifetime_days: int, actor: User) -> NewToken:
    system = system.strip()
    if not system or len(system) > SYSTEM_MAX:
        raise ServiceError(f"name the system in 1 to {SYSTEM_MAX} characters")
    unknown = sorted(scopes - set(PERMISSIONS))
    if unknown or not scopes:
        raise ServiceError(f"unknown scopes: {', '.join(unknown)}" if unknown
                           else "choose at least one scope")
    if not 1 <= lifetime_days <= LIFETIME_DAYS_MAX:
        raise ServiceError(f"a token lives 1 to {LIFETIME_DAYS_MAX} days")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    with transaction():
        token = ApiToken(system=system, token_hash=token_hash(secret),
                         prefix=secret[:len(TOKEN_PREFIX) + 6], scopes=sorted(scopes),
                         created_at=now, created_by_id=actor.id,
                         expires_at=now + timedelta(days=lifetime_days))
        db.session.add(token)
        db.session.flush()
        record("api_token.create", actor, "api_token", token.id, system=system,
               scopes=sorted(scopes), expires_at=token.expires_at)
    return NewToken(token, secret)


def revoke_token(token_id: int, actor: User) -> ApiToken:
    """Revoke a token for good; revoking it again changes nothing and records nothing."""
    with transaction():
        token = db.session.get(ApiToken, token_id)
        if token is None:
            raise NotFound("no such token")
        if token.revoked_at is None:
            token.revoked_at = utcnow()
            record("api_token.revoke", actor, "api_token", token.id, system=token.system)
    return token


def tokens() -> list[ApiToken]:
    """Every token, newest first (revoked and expired ones too: the page says so)."""
    return list(db.session.scalars(select(ApiToken).order_by(ApiToken.id.desc())))


def _refuse(reason: str, token: ApiToken | None = None, **details: object) -> TokenRefused:
    record("api_token.failure", None, "api_token", token.id if token else None, reason=reason,
           **details)
    return TokenRefused(reason)


def authenticate(secret: str | None, now: datetime | None = None) -> ApiToken:
    """The usable token `secret` is; TokenRefused (audited) if it is none."""
    now = now or utcnow()
    if not secret:
        raise TokenRefused("missing")  # no attempt at all: nothing worth auditing
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash(secret)))
    if token is None:
        raise _refuse("unknown")
    if token.revoked_at is not None:
        raise _refuse("revoked", token)
    if now >= token.expires_at:
        raise _refuse("expired", token)
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_GRANULARITY:
        _mark_used(token, now)
    return token


def _mark_used(token: ApiToken, now: datetime) -> None:
    with transaction():
        db.session.execute(update(ApiToken).where(ApiToken.id == token.id)
                           .values(last_used_at=now))
    db.session.refresh(token)


def require_scope(token: ApiToken, scope: str) -> None:
    """TokenRefused (audited) unless `token` holds `scope`, a permission name."""
    if scope not in PERMISSIONS:
        raise ValueError(f"unknown permission {scope!r}")
    if scope not in token.scopes:
        raise _refuse("scope", token, needed=scope)
