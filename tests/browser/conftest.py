"""Fixtures for browser tests: the app served over HTTP and Debian's Chromium.

The app runs in a background thread of this process, so the test can still use
the factories of tests/conftest.py on the same database. That database must be a
file (or PostgreSQL): an in-memory SQLite database cannot be shared safely with
the server's threads.
"""

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, sync_playwright
from werkzeug.serving import make_server

from tests.helpers import closing_responses

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",  # the tests run as root
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture
def app_config(tmp_path: Path) -> dict:
    """A file database the server threads can share, unless PostgreSQL is configured."""
    if os.environ.get("TEST_DATABASE_URL"):
        return {}
    return {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/browser.sqlite"}


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """Serve the app on a free local port; yields the base URL without a trailing slash."""
    server = make_server("127.0.0.1", 0, closing_responses(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        reason = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh page in its own context; English, as TestingConfig's default locale is too."""
    context = browser.new_context(locale="en-US")
    try:
        yield context.new_page()
    finally:
        context.close()
