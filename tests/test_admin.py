"""The model versions page: figures, reliability plots and rolling back."""

import re

import pytest
from sqlalchemy import select

from app.services.classification import store_version
from models import ModelVersion, db


@pytest.fixture
def two_versions(app, classifier):
    with app.app_context():
        older = store_version(classifier).id
        newer = store_version(classifier).id
    return older, newer


def active_id(app) -> int:
    with app.app_context():
        return db.session.scalar(select(ModelVersion.id).where(ModelVersion.active))


def test_page_shows_each_version_with_figures_and_reliability(client, make_user, login,
                                                             two_versions, classifier):
    login(make_user("admin"))
    page = client.get("/admin/models").get_data(as_text=True)
    older, newer = two_versions
    assert f"Version {older}" in page and f"Version {newer}" in page
    recall = classifier.metrics["categories"]["safety"]["recall"]
    assert f"{recall:.3f}" in page
    circles = re.findall(r'<circle cx="([\d.]+)" cy="([\d.]+)"', page)
    assert circles, "reliability points are drawn"
    assert all(0 <= float(x) <= 248 and 0 <= float(y) <= 248 for x, y in circles)


def test_admin_can_roll_back_to_an_older_version(app, client, make_user, login, two_versions):
    older, newer = two_versions
    login(make_user("admin"))
    assert active_id(app) == newer
    response = client.post(f"/admin/models/{older}/activate")
    assert response.status_code == 302 and active_id(app) == older
    assert client.post("/admin/models/999/activate").status_code == 404


def test_a_coordinator_sees_versions_but_cannot_activate(app, client, make_user, login,
                                                          two_versions):
    older, newer = two_versions
    login(make_user("coordinator"))
    page = client.get("/admin/models").get_data(as_text=True)
    assert "Make this version active" not in page
    assert client.post(f"/admin/models/{older}/activate").status_code == 403
    assert active_id(app) == newer


def test_page_without_models_says_how_to_train(client, make_user, login):
    login(make_user("admin"))
    assert "ml train" in client.get("/admin/models").get_data(as_text=True)
