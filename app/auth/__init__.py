"""Logging in and out, and who may open what."""

from flask import Flask
from flask_babel import lazy_gettext as _l

from app.auth import sso
from app.auth.access import load_user
from app.auth.routes import bp
from app.extensions import login_manager


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "strong"
    # Flask-Login flashes its own English text unless given one; str() translates the
    # lazy text in the language of the request that needs the login.
    login_manager.login_message = _l("Please log in to open this page.")
    login_manager.localize_callback = str
    login_manager.user_loader(load_user)
    sso.init_app(app)


__all__ = ["bp", "init_app"]
