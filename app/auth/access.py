"""Role checks for views, and loading the user behind a login cookie."""

from collections.abc import Callable
from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from models import Role, User, db


def load_user(cookie_id: str) -> User | None:
    """Find the user of a login cookie; an ended session's cookie finds no one."""
    user_id, _, token = cookie_id.partition(":")
    if not user_id.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or user.session_token != token:
        return None
    return user


def roles_required(*roles: Role) -> Callable:
    """Let a view be opened only by logged-in users with one of `roles`."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator
