"""Single sign-on in Chromium: the login page offers it first, and the button goes through
the loopback provider (tests/oidc_provider.py) and back, logged in."""

import pytest
from playwright.sync_api import Page, expect

from tests.oidc_provider import CLIENT_ID, CLIENT_SECRET, Provider


@pytest.fixture(scope="module")
def provider():
    provider = Provider().start()
    yield provider
    provider.stop()


@pytest.fixture
def app_config(app_config: dict, provider: Provider) -> dict:
    return {**app_config, "OIDC_METADATA_URL": provider.metadata_url,
            "OIDC_CLIENT_ID": CLIENT_ID, "OIDC_CLIENT_SECRET": CLIENT_SECRET,
            "OIDC_ROLE_MAP": "vaka-staff=staff", "PASSWORD_LOGIN": True}


def test_sso_comes_first_and_logs_in(page: Page, live_server: str) -> None:
    page.goto(f"{live_server}/login")
    button = page.locator("#sso-login")
    expect(button).to_be_visible()
    assert button.bounding_box()["y"] < page.locator("input[type=password]").bounding_box()["y"]
    button.click()
    page.wait_for_url(f"{live_server}/")
    expect(page.locator("form[action='/logout']")).to_be_visible()
