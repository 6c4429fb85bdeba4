"""Who may do what: the permission table, the checks that enforce it, and how a login starts
(or how a failed one is recorded).

Anyone, even without an account, may make an anonymous report and follow it with its
receipt code; everything else needs a permission from `PERMISSIONS`.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from flask import abort, session
from flask_login import current_user, login_required, login_user

from app.services.audit import record
from app.services.users import find_user
from models import AuditEvent, Role, User, db

STAFF, COORDINATOR, RESEARCHER, ADMIN = Role.STAFF, Role.COORDINATOR, Role.RESEARCHER, Role.ADMIN
#: What a failed login records instead of an e-mail address that has no account
#: (it may be a password typed into the wrong field).
UNKNOWN_ACCOUNT = "unknown account"


@dataclass(frozen=True)
class Permission:
    roles: frozenset[Role]
    #: What it allows, in English, for the README's table.
    description: str


def _grant(description: str, *roles: Role) -> Permission:
    return Permission(frozenset(roles), description)


#: The one table of who may do what. The README's table is printed from it
#: (`flask --app app permissions`); tests/security/test_permissions.py checks every
#: route against a table of its own.
PERMISSIONS: dict[str, Permission] = {
    "report.submit": _grant("send a report under one's own name", STAFF, COORDINATOR),
    "report.own.view": _grant("see and follow one's own named reports", STAFF, COORDINATOR),
    "triage": _grant("the triage queue, overview and known issues; every report: text, "
                     "review, workflow", COORDINATOR),
    "export.deidentified": _grant("download de-identified reports and their codebook",
                                  RESEARCHER, COORDINATOR),
    "export.aggregate": _grant("download weekly counts per unit and category, small ones "
                               "suppressed", RESEARCHER, COORDINATOR),
    "models.view": _grant("see the model versions and their figures", COORDINATOR, ADMIN),
    "admin.models": _grant("make a model version active (roll back)", ADMIN),
    "admin.users": _grant("create users, change roles, disable accounts, reset passwords",
                          ADMIN),
    "admin.units": _grant("add, rename, deactivate and reactivate units", ADMIN),
    "admin.audit": _grant("search the audit log", ADMIN),
    "admin.jobs": _grant("see the background jobs' backlog and failures; retry a failed job",
                         ADMIN),
    "admin.tokens": _grant("create and revoke the JSON API's tokens for other systems", ADMIN),
    #: No role holds it: only an API token can (see README "JSON API").
    "api.report_for_user": _grant("(API tokens only) send a report in the name of an active "
                                  "account, named by its e-mail"),
}


def _permission(name: str) -> Permission:
    try:
        return PERMISSIONS[name]
    except KeyError:
        # A misspelt name must fail loudly, not quietly deny (or allow) everyone.
        raise ValueError(f"unknown permission {name!r}") from None


def can(permission: str) -> bool:
    """Whether the current user holds `permission`; templates call it too: `can('triage')`."""
    roles = _permission(permission).roles  # looked up first: a misspelt name always fails
    return current_user.is_authenticated and current_user.role in roles


def permission_required(permission: str) -> Callable:
    """Let a view be opened only by logged-in users who hold `permission`.

    A visitor is sent to the login page; a user without the permission gets 403.
    """
    _permission(permission)  # an unknown name fails when the view is defined

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not can(permission):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def permission_table() -> str:
    """`PERMISSIONS` as a Markdown table, one column per role."""
    roles = list(Role)
    lines = ["| permission | " + " | ".join(roles) + " | what it allows |",
             "| --- |" + " :---: |" * len(roles) + " --- |"]
    for name, permission in PERMISSIONS.items():
        marks = " | ".join("✓" if role in permission.roles else " " for role in roles)
        lines.append(f"| `{name}` | {marks} | {permission.description} |")
    return "\n".join(lines)


def load_user(cookie_id: str) -> User | None:
    """Find the user of a login cookie; an ended session's cookie finds no one."""
    user_id, _, token = cookie_id.partition(":")
    if not user_id.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or user.session_token != token:
        return None
    return user


def log_in(user: User, method: str) -> None:
    """Start a fresh session for `user`, whichever login method vouched for them.

    Every way in ends here: the password form and the single sign-on callback
    (`app.auth.sso`, through `app.services.users.account_for_login`). The session is
    rotated: nothing from before the login survives but the chosen language, so a
    session planted by someone else is worthless afterwards.
    """
    language = session.get("language")
    session.clear()
    if language:
        session["language"] = language
    login_user(user)
    record("login.success", user, "user", user.id, method=method)


def record_failed_login(email: str | None, **why: str) -> AuditEvent:
    """A failed login, naming the account only when the e-mail belongs to one.

    `why` is what a single sign-on adds: its method and the reason it was refused.
    """
    user = find_user(email) if email else None
    if user is None:
        return record("login.failure", email=UNKNOWN_ACCOUNT, **why)
    return record("login.failure", object_type="user", object_id=user.id, email=user.email,
                  **why)
