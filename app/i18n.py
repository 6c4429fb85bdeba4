"""Language choice: the visitor's switch wins, then the browser's Accept-Language."""

from flask import Blueprint, Flask, current_app, has_request_context, redirect, request, session
from flask_babel import get_locale

from app.extensions import babel
from app.navigation import safe_next_url

bp = Blueprint("i18n", __name__)


def select_locale() -> str:
    if not has_request_context():  # the command line: the install's language
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    languages = current_app.config["LANGUAGES"]
    chosen = session.get("language")
    if chosen in languages:
        return chosen
    return request.accept_languages.best_match(languages) or current_app.config[
        "BABEL_DEFAULT_LOCALE"]


@bp.post("/language/<code>")
def choose_language(code: str):
    if code in current_app.config["LANGUAGES"]:
        session["language"] = code
    return redirect(safe_next_url(request.form.get("next")))


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale)
    app.register_blueprint(bp)
    app.jinja_env.globals["get_locale"] = get_locale
