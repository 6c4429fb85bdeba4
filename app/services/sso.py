"""Single sign-on: from the verified claims of an ID token to a Vaka account.

`app.auth.sso` has checked the token (signature, issuer, audience, expiry, nonce) before
anything here runs; this decides who the claims are in Vaka. The provider's groups decide
whether someone may use Vaka at all (a claim value the role map does not know is refused,
and no account is made); for an account that exists, the role an admin gave it stays
(`account_for_login`), and a disabled account stays locked out.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app.services import ServiceError
from app.services.users import UserError, account_for_login
from models import Role, User


class SignOnRefused(ServiceError):
    """A single sign-on that must not log anyone in, with the reason the audit log records."""

    def __init__(self, reason: str, email: str | None = None, **details: str) -> None:
        super().__init__(reason)
        self.reason = reason
        #: The verified e-mail address, once the token's claims are known to be true.
        self.email = email
        self.details = details


@dataclass(frozen=True)
class ClaimSettings:
    #: The claim holding the e-mail address (OIDC_EMAIL_CLAIM).
    email_claim: str
    #: The claim whose values map to roles (OIDC_ROLE_CLAIM).
    role_claim: str
    #: Claim value -> Vaka role, the first one the person has winning (OIDC_ROLE_MAP).
    role_map: Mapping[str, str]


def parse_role_map(text: str) -> dict[str, str]:
    """OIDC_ROLE_MAP's "value=role,value=role" as a dict, in its order.

    Raises ValueError for an entry without "=" or a role Vaka does not have.
    """
    role_map: dict[str, str] = {}
    for entry in filter(None, (part.strip() for part in text.split(","))):
        value, sep, role = (part.strip() for part in entry.rpartition("="))
        if not sep or not value:
            raise ValueError(f"OIDC_ROLE_MAP entry {entry!r} is not 'claim value=role'")
        if role not in set(Role):
            raise ValueError(f"OIDC_ROLE_MAP entry {entry!r}: unknown role {role!r}; "
                             f"choose one of {', '.join(Role)}")
        role_map[value] = role
    return role_map


def role_from_claims(claims: Mapping[str, Any], settings: ClaimSettings) -> str | None:
    """The Vaka role of the first role-map value found in the role claim, or None."""
    values = claims.get(settings.role_claim)
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, list):
        return None
    return next((role for value, role in settings.role_map.items() if value in values), None)


def account_for_claims(claims: Mapping[str, Any], settings: ClaimSettings) -> User:
    """The active account the verified claims name, provisioned on a first login.

    Raises SignOnRefused: no usable e-mail, an e-mail the provider says is unverified,
    no role-map value in the role claim, or a disabled account.
    """
    email = claims.get(settings.email_claim)
    if not isinstance(email, str) or "@" not in email:
        raise SignOnRefused("no_email")
    if claims.get("email_verified") is False:
        raise SignOnRefused("email_unverified", email)
    role = role_from_claims(claims, settings)
    if role is None:
        raise SignOnRefused("unknown_role", email)
    try:
        user = account_for_login(email, role)
    except UserError as error:
        raise SignOnRefused("no_email", **{"error": str(error)}) from error
    if user is None:
        raise SignOnRefused("disabled_account", email)
    return user
