"""Vaka's web application: the factory wires configuration, extensions and blueprints."""

from pathlib import Path

from flask import Flask
from sqlalchemy.exc import OperationalError

from app import converters
from app.extensions import csrf, migrate
from config import DEFAULT_SECRET_KEY, INSTANCE_DIR, SECRET_KEY_FILE, Config
from models import db, is_search_object
from models.base import analyze_unanalyzed_tables, configure_sqlite

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


class ConfigurationError(RuntimeError):
    """The app would run unsafely with this configuration."""


def create_app(config_class: type = Config, **overrides: object) -> Flask:
    app = Flask(__name__, instance_path=str(INSTANCE_DIR))
    converters.init_app(app)
    app.config.from_object(config_class)
    app.config.update(overrides)
    _check_secret_key(app)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR), include_name=is_search_object)
    csrf.init_app(app)
    _init_sqlite(app)

    from app import (
        admin,
        alerts,
        anonymity,
        api,
        auth,
        emerging,
        errors,
        export,
        guards,
        i18n,
        known_issues,
        overview,
        reports,
        security,
        throttle,
        times,
        triage,
    )
    from app.cli import register_cli
    from app.jobs import init_app as init_jobs
    from app.jobs import tasks  # noqa: F401  (registers every job before a worker starts)
    from app.ops import instrument as ops_instrument
    from app.ops import routes as ops_routes

    for extension in (i18n, times, anonymity, auth, guards, errors, security, throttle,
                      ops_instrument):
        extension.init_app(app)
    for feature in (reports, triage, export, auth, admin, known_issues, overview, alerts,
                    emerging, ops_routes, api):
        app.register_blueprint(feature.bp)
    register_cli(app)
    init_jobs(app)
    app.context_processor(_display_names)
    if app.config["WARM_UP_MODEL"]:
        from app.warm_up import warm_up

        warm_up(app)
    return app


def _display_names() -> dict:
    """Translated names of stored values, for every template."""
    from app import forms
    from models import CATEGORIES

    return {"category_names": forms.CATEGORY_NAMES, "status_names": forms.STATUS_NAMES,
            "area_names": forms.AREA_NAMES, "impact_names": forms.IMPACT_NAMES,
            "kind_names": forms.KIND_NAMES, "identifier_names": forms.IDENTIFIER_NAMES,
            "categories": CATEGORIES}


def _check_secret_key(app: Flask) -> None:
    if app.debug or app.testing:
        return
    if not app.config.get("SECRET_KEY") or app.config["SECRET_KEY"] == DEFAULT_SECRET_KEY:
        raise ConfigurationError(
            "SECRET_KEY is missing or the placeholder: set it in the environment or write "
            f"a random key to {SECRET_KEY_FILE} (make run generates one there)."
        )


def _init_sqlite(app: Flask) -> None:
    """SQLite's connection settings, and planner statistics for tables that have none yet."""
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return
    with app.app_context():
        configure_sqlite(db.engine, app.config["SQLITE_BUSY_TIMEOUT_MS"],
                         app.config["SQLITE_OPTIMIZE_EVERY_S"])
        try:
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                analyze_unanalyzed_tables(c)
        except OperationalError as error:  # a busy database: the next start tries again
            app.logger.warning("planner statistics not gathered: %s", error)

