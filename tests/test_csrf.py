"""CSRF protection is on for every POST outside the other tests' convenience setting."""

import pytest


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": True}


@pytest.mark.parametrize("path", ["/", "/status", "/login", "/logout", "/language/en",
                                  "/triage/reports/1"])
def test_post_without_csrf_token_is_rejected(client, path):
    response = client.post(path, data={"text": "Systemet hängde sig hela morgonen"})
    assert response.status_code == 400
    assert "expired or was not sent from this site" in response.get_data(as_text=True)


def test_post_with_a_wrong_csrf_token_is_rejected(client):
    response = client.post("/", data={"csrf_token": "forged", "text": "Systemet hängde sig"})
    assert response.status_code == 400
