"""Fixtures: a fresh app and database per test, and small factories.

Tests run on SQLite in memory by default and on PostgreSQL when
TEST_DATABASE_URL is set (`make test` runs both when it is).
"""

import itertools
import secrets
from datetime import datetime, timedelta

import pytest

import ml
from app import create_app
from app.services.classification import store_version
from app.services.reports import ReportDraft, new_report
from config import TestingConfig
from models import Report, Unit, User, db, utcnow

PASSWORD = "correct horse battery staple"
_emails = itertools.count(1)


@pytest.fixture(scope="session")
def classifier() -> ml.Classifier:
    """The bundled-corpus classifier, trained once for the whole run."""
    examples = ml.load_corpus()
    return ml.Classifier.train([e.text for e in examples], [e.labels for e in examples])


@pytest.fixture
def app_config() -> dict:
    """Override in a test module to change the app's configuration."""
    return {}


@pytest.fixture
def app(app_config):
    app = create_app(TestingConfig, **app_config)
    with app.app_context():
        db.drop_all()
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def ctx(app):
    """An application context, for tests that call services and models directly."""
    with app.app_context():
        yield


def persist(app, instance):
    """Commit a new model instance and return it detached, loaded, for use outside the app."""
    with app.app_context():
        db.session.add(instance)
        db.session.commit()
        db.session.refresh(instance)
        db.session.expunge(instance)
        return instance


@pytest.fixture
def make_unit(app):
    def make(name: str = "Avdelning 12") -> Unit:
        return persist(app, Unit(name=name))

    return make


@pytest.fixture
def make_user(app):
    def make(role: str = "staff", email: str | None = None, password: str = PASSWORD,
             active: bool = True) -> User:
        user = User(email=email or f"user{next(_emails)}@example.org", role=role, active=active)
        user.set_password(password)
        return persist(app, user)

    return make


@pytest.fixture
def make_report(app, make_unit):
    """Insert a report directly (no classification) and return its id."""
    units: dict[str, Unit] = {}

    def make(text: str = "Systemet hängde sig när jag skulle signera.", *,
             unit: str = "Avdelning 12", reporter: User | None = None,
             submitted: datetime | None = None, **fields) -> int:
        if unit not in units:
            units[unit] = make_unit(unit)
        draft = ReportDraft(
            kind=fields.pop("kind", "incident"), text=text,
            occurred_at=fields.pop("occurred_at", datetime(2026, 3, 1, 8, 30)),
            unit_id=units[unit].id, area=fields.pop("area", "other"),
            impact=fields.pop("impact", "none"), suggestion=fields.pop("suggestion", None),
            submission_token=secrets.token_urlsafe(24))
        with app.app_context():
            report = new_report(draft, reporter, submitted or utcnow())
            for name, value in fields.items():
                setattr(report, name, value)
            db.session.add(report)
            db.session.commit()
            return report.id

    return make


@pytest.fixture
def active_model(app, classifier):
    """Store the session's classifier as the active model version; returns its id."""
    with app.app_context():
        return store_version(classifier).id


@pytest.fixture
def login(client):
    def do_login(user: User, password: str = PASSWORD):
        response = client.post("/login", data={"email": user.email, "password": password})
        assert response.status_code == 302, response.data
        return response

    return do_login


@pytest.fixture
def coordinator(make_user, login):
    """A coordinator, logged in on `client`."""
    user = make_user("coordinator", email="samordnare@example.org")
    login(user)
    return user


def days_ago(days: int) -> datetime:
    return utcnow() - timedelta(days=days)


def fetch_report(app, report_id: int) -> Report:
    with app.app_context():
        report = db.session.get(Report, report_id)
        db.session.expunge(report)
        return report
