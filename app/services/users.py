"""Accounts: creating and managing users, checking passwords, finding the account of a login."""

import secrets
from functools import cache

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash
from zxcvbn import zxcvbn

from app.services import NotFound, ServiceError
from app.services.audit import record
from models import Role, User, db, transaction

MIN_PASSWORD_LENGTH = 12
#: zxcvbn's score (0-4) a password must reach; its lists of common passwords,
#: words and keyboard patterns put a common password at 0 or 1.
MIN_PASSWORD_STRENGTH = 3


@cache
def _dummy_hash() -> str:
    """Checked against when the e-mail is unknown, so timing does not reveal accounts."""
    return generate_password_hash("not a real password")


class UserError(ServiceError):
    pass


class DuplicateEmail(UserError):
    pass


class OwnAccount(UserError):
    """An admin tried to change their own role, access or password through the admin pages."""


def normalize_email(email: str) -> str:
    return email.strip().lower()


def find_user(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == normalize_email(email)))


def get_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(f"no user {user_id}")
    return user


def _record(action: str, actor: User | None, user: User, **details: object) -> None:
    record(action, actor, "user", user.id, **details)


def _check_role(role: str) -> None:
    if role not in set(Role):
        raise UserError(f"unknown role {role!r}; choose one of {', '.join(Role)}")


def create_user(email: str, password: str, role: str, actor: User | None = None) -> User:
    """A new account; `actor` None is the system (command line, demo data)."""
    email = normalize_email(email)
    _check_role(role)
    if "@" not in email or len(email) > 254:
        raise UserError(f"{email!r} is not an e-mail address")
    _check_password(password, email)
    try:
        with transaction():
            if find_user(email) is not None:
                raise DuplicateEmail(f"a user with e-mail {email} already exists")
            user = User(email=email, role=role)
            user.set_password(password)
            db.session.add(user)
            db.session.flush()
            _record("user.create", actor, user, role=role)
    except IntegrityError as error:  # created by someone else in the meantime
        raise DuplicateEmail(f"a user with e-mail {email} already exists") from error
    return user


def _refuse_own_account(actor: User, user: User) -> None:
    """No admin may demote, disable or reset themself here, so no one can lock themself out.

    A last admin who demoted or disabled themself would leave no one to undo it; and a
    reset skips the current password that the password-change page asks for.
    """
    if user.id == actor.id:
        raise OwnAccount("administrators cannot change their own account here")


def change_role(actor: User, user_id: int, role: str) -> User:
    _check_role(role)
    with transaction():
        user = get_user(user_id)
        _refuse_own_account(actor, user)
        if user.role != role:
            _record("user.role", actor, user, previous=user.role, role=role)
            user.role = role
    return user


def set_active(actor: User, user_id: int, active: bool) -> User:
    """Enable or disable an account; disabling ends every session it has."""
    with transaction():
        user = get_user(user_id)
        _refuse_own_account(actor, user)
        if user.active != active:
            user.active = active
            if not active:
                user.end_sessions()
            _record("user.enable" if active else "user.disable", actor, user)
    return user


def reset_password(actor: User, user_id: int, password: str) -> User:
    """Give someone a new password; every session they have ends."""
    with transaction():
        user = get_user(user_id)
        _refuse_own_account(actor, user)
        _check_password(password, user.email)
        user.set_password(password)
        user.end_sessions()
        _record("user.password_reset", actor, user)
    return user


def password_weakness(password: str, email: str = "") -> str | None:
    """Why a password is not good enough, or None when it is."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"the password must have at least {MIN_PASSWORD_LENGTH} characters"
    if zxcvbn(password, user_inputs=[email, *email.split("@")])["score"] < MIN_PASSWORD_STRENGTH:
        return "the password is too common or too easy to guess"
    return None


def _check_password(password: str, email: str) -> None:
    weakness = password_weakness(password, email)
    if weakness:
        raise UserError(weakness)


def change_password(user: User, current: str, new: str) -> None:
    """Replace the password; every other session of the user ends."""
    if not user.check_password(current):
        raise UserError("the current password is wrong")
    _check_password(new, user.email)
    with transaction():
        user.set_password(new)
        user.end_sessions()


def authenticate(email: str, password: str) -> User | None:
    """The active user with these credentials, or None."""
    user = find_user(email)
    # An unknown e-mail costs the same hash check, so timing does not reveal accounts.
    if not check_password_hash(user.password_hash if user else _dummy_hash(), password):
        return None
    return account_for_login(email)


def account_for_login(email: str, role_claim: str | None = None) -> User | None:
    """The active account of an e-mail address a login method has verified, or None.

    The seam for single sign-on. The password login calls it once the password has
    vouched for the e-mail. An OpenID Connect callback would verify the ID token, then
    call it with the token's verified ``email`` and a Vaka role mapped from its claims,
    and pass the account to `app.auth.access.log_in(user, "oidc")`, the same session
    rotation as the password login.

    With a role claim, an e-mail without an account gets one (provisioned with a random
    password nobody knows). An existing account keeps the role an admin gave it: roles
    are managed in Vaka. A disabled account stays locked out either way.
    """
    user = find_user(email)
    if user is None and role_claim is not None:
        user = create_user(email, secrets.token_urlsafe(32), role_claim)
    if user is None or not user.active:
        return None
    return user


def end_sessions(user: User) -> None:
    """Log the user out everywhere: every cookie issued so far stops working."""
    with transaction():
        user.end_sessions()
