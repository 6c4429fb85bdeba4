"""Accounts: creating users and checking passwords."""

from functools import cache

from sqlalchemy import func, select
from werkzeug.security import generate_password_hash
from zxcvbn import zxcvbn

from app.services import ServiceError
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


def normalize_email(email: str) -> str:
    return email.strip().lower()


def find_user(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == normalize_email(email)))


def create_user(email: str, password: str, role: str) -> User:
    email = normalize_email(email)
    if role not in set(Role):
        raise UserError(f"unknown role {role!r}; choose one of {', '.join(Role)}")
    if "@" not in email or len(email) > 254:
        raise UserError(f"{email!r} is not an e-mail address")
    _check_password(password, email)
    with transaction():
        if find_user(email) is not None:
            raise UserError(f"a user with e-mail {email} already exists")
        user = User(email=email, role=role)
        user.set_password(password)
        db.session.add(user)
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
    if user is None:
        User(password_hash=_dummy_hash()).check_password(password)
        return None
    if not user.check_password(password) or not user.active:
        return None
    return user


def end_sessions(user: User) -> None:
    """Log the user out everywhere: every cookie issued so far stops working."""
    with transaction():
        user.end_sessions()
