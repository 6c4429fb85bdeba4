"""Logging in and out, and who may open what."""

from flask import Flask

from app.auth import sso
from app.auth.access import load_user
from app.auth.routes import bp
from app.extensions import login_manager


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "strong"
    login_manager.user_loader(load_user)
    sso.init_app(app)


__all__ = ["bp", "init_app"]
