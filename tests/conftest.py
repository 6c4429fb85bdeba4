"""Fixtures: a fresh app and database per test, and small factories.

Tests run on SQLite in memory by default and on PostgreSQL when
TEST_DATABASE_URL is set (`make test` runs both when it is).
"""

import itertools
import secrets
from datetime import datetime

import pytest
from sqlalchemy import text

import ml
from app import create_app
from app.services.classification import activate_version
from app.services.drafts import ReportDraft, new_report
from config import TestingConfig
from models import ModelVersion, Unit, User, db, utcnow
from tests.helpers import PASSWORD, persist

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
        _empty_schema()
    yield app
    with app.app_context():
        db.session.remove()
        if db.engine.dialect.name != "postgresql":
            db.drop_all()  # PostgreSQL keeps its tables for the next test to empty
        db.engine.dispose()


def _empty_schema() -> None:
    """The models' tables, empty, with ids counting from 1 again.

    On PostgreSQL, deleting the previous test's few rows and restarting the id
    sequences costs about 10 ms where dropping and creating the tables costs
    0.3 to 0.5 s (TRUNCATE is no cheaper on tables this small). When the tables
    are not exactly the models' (the first test, or a migration test that left
    another revision behind), they are made anew.
    """
    if db.engine.dialect.name == "postgresql" and _tables_match_the_models():
        for table in reversed(db.metadata.sorted_tables):
            db.session.execute(table.delete())
        sequences = db.session.scalars(text(
            "SELECT sequence_name FROM information_schema.sequences"
            " WHERE sequence_schema = current_schema()")).all()
        for sequence in sequences:
            db.session.execute(text("SELECT setval(CAST(:name AS regclass), 1, false)"),
                               {"name": f'"{sequence}"'})
        db.session.commit()
        return
    db.drop_all()
    db.create_all()


def _tables_match_the_models() -> bool:
    """Whether the database's columns are exactly the models' (one catalogue query)."""
    expected = {(table.name, column.name) for table in db.metadata.sorted_tables
                for column in table.columns}
    found = {(table, column) for table, column in db.session.execute(text(
        "SELECT table_name, column_name FROM information_schema.columns"
        " WHERE table_schema = current_schema()")).tuples()
        if table in db.metadata.tables}  # alembic_version may be left by a migration test
    db.session.rollback()
    return found == expected


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
        with app.app_context():  # the hash method is the app's
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


@pytest.fixture(scope="session")
def classifier_artifact(classifier) -> bytes:
    """The session's classifier serialised, once: a version's artifact is these bytes."""
    return classifier.to_bytes()


@pytest.fixture
def active_model(app, classifier, classifier_artifact):
    """Store the session's classifier as the active model version; returns its id.

    The same as `store_version(classifier)`, without serialising it again.
    """
    version = persist(app, ModelVersion(
        algorithm=classifier.algorithm, params=classifier.params,
        training_summary=classifier.training_summary, metrics=classifier.metrics,
        artifact=classifier_artifact, active=False))
    with app.app_context():
        return activate_version(version.id).id


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
