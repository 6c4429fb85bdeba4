"""Open redirects: no `next` sends a browser to another site, a script or a crash.

tests/test_auth.py checks four hostile targets in the login form's field. Here
every place that redirects to a `next` (the login form, the login link an
attacker would send, the language switch) gets many more, and the Location is
judged as a browser reads it: tabs and newlines dropped, backslashes as slashes.
"""

import re
from urllib.parse import urljoin, urlsplit

import pytest

from tests.helpers import PASSWORD
from tests.security.helpers import parse_forms

HOSTILE = [
    "//evil.example", "///evil.example", "////evil.example", "https://evil.example",
    "http://evil.example/login", "https:evil.example", "http:/evil.example",
    "https://localhost.evil.example/", "https://evil.example#@localhost",
    "//evil.example@localhost", "/\\evil.example", "\\\\evil.example", "\\/evil.example",
    "/\\/evil.example", "/\t/evil.example", " //evil.example", "\x00//evil.example",
    "\u3000//evil.example", "javascript:alert(1)", "JaVaScRiPt:alert(1)",
    " javascript:alert(1)", "java\tscript:alert(1)", "data:text/html,<script>alert(1)</script>",
]
CRLF = ["/\r\nSet-Cookie: planted=1", "/\nLocation: https://evil.example"]
SAFE = ["/export/", "/export/?category=safety", "/status#follow", "/%2F%2Fevil.example"]


@pytest.fixture
def app_config():
    return {"PROPAGATE_EXCEPTIONS": False}  # a crash is answered 500, as in production


def login_form(client, world, target):
    return client.post("/login", data={"email": world.users["researcher"].email,
                                       "password": PASSWORD, "next": target})


def login_link(client, world, target):
    """The victim follows /login?next=... and logs in with the form as it is shown."""
    page = client.get("/login", query_string={"next": target})
    if page.status_code == 400:  # a control character in the link: no form to log in with
        return page
    form = next(f for f in parse_forms(page.get_data(as_text=True)) if f.action == "/login")
    return client.post("/login", data={"email": world.users["researcher"].email,
                                       "password": PASSWORD,
                                       "next": form.control("next").value})


def language_switch(client, world, target):
    return client.post("/language/en", data={"next": target})


SINKS = {"login form": login_form, "login link": login_link, "language switch": language_switch}


#: What the URL standard strips from both ends of an address: C0 controls and space.
C0_AND_SPACE = "".join(chr(code) for code in range(0x21))


def browser_destination(location: str) -> tuple[str, str]:
    """Scheme and host a browser goes to for this Location, read as the URL standard does."""
    cleaned = re.sub(r"[\t\n\r]", "", location.strip(C0_AND_SPACE)).replace("\\", "/")
    parts = urlsplit(urljoin("http://localhost/login", cleaned))
    return parts.scheme.lower(), (parts.hostname or "")


def assert_stays_on_the_site(app, world, sink: str, targets: list[str]) -> None:
    for target in targets:
        response = SINKS[sink](app.test_client(), world, target)
        if response.status_code == 400:  # a control character: refused, nowhere to go
            assert "\x00" in target or any(ord(char) < 32 for char in target), target
            continue
        assert response.status_code == 302, target
        assert browser_destination(response.headers["Location"]) == ("http", "localhost"), (
            target)


@pytest.mark.parametrize("sink", SINKS)
def test_a_hostile_next_stays_on_the_site(app, world, sink):
    assert_stays_on_the_site(app, world, sink, HOSTILE)


@pytest.mark.parametrize("target", CRLF)
@pytest.mark.parametrize("sink", SINKS)
def test_a_next_with_a_line_break_stays_on_the_site(app, world, sink, target):
    assert_stays_on_the_site(app, world, sink, [target])


@pytest.mark.parametrize("sink", SINKS)
def test_a_next_on_the_site_is_followed(app, world, sink):
    for target in SAFE:
        response = SINKS[sink](app.test_client(), world, target)
        assert response.status_code == 302, target
        assert response.headers["Location"] == target


def test_the_login_page_sends_a_visitor_back_where_they_were(client, world):
    response = client.get("/export/?category=safety")
    assert response.status_code == 302
    login_page = response.headers["Location"]
    form = next(f for f in parse_forms(client.get(login_page).get_data(as_text=True))
                if f.action == "/login")
    assert login_link(client, world, form.control("next").value).headers["Location"] == (
        "/export/?category=safety")
