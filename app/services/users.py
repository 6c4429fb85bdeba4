"""Accounts: creating users and checking passwords."""

from functools import cache

from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from app.services import ServiceError
from models import Role, User, db, transaction

MIN_PASSWORD_LENGTH = 12


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
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    with transaction():
        if find_user(email) is not None:
            raise UserError(f"a user with e-mail {email} already exists")
        user = User(email=email, role=role)
        user.set_password(password)
        db.session.add(user)
    return user


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
