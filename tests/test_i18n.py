"""Every UI string has a Swedish translation, and the catalog is compiled from it."""

import re
from pathlib import Path

from babel.messages.pofile import read_po

CATALOG = Path(__file__).resolve().parent.parent / "app/translations/sv/LC_MESSAGES/messages.po"


def test_swedish_catalog_is_complete():
    with open(CATALOG, "rb") as handle:
        catalog = read_po(handle)
    messages = [m for m in catalog if m.id]
    strings = {m.id: m.string if isinstance(m.string, tuple) else (m.string,) for m in messages}
    assert len(messages) > 50
    assert [key for key, value in strings.items() if not all(value)] == []
    assert [m.id for m in messages if m.fuzzy] == []


def test_swedish_strings_have_the_placeholders_of_their_english():
    """A merge once glued another message's English onto a translation; its placeholders
    gave it away."""
    placeholder = re.compile(r"%\(\w+\)[sd]")
    with open(CATALOG, "rb") as handle:
        catalog = read_po(handle)
    wrong = [m.id for m in catalog if m.id and not isinstance(m.id, tuple)
             and set(placeholder.findall(m.id)) != set(placeholder.findall(m.string))]
    assert wrong == []


def test_pages_are_swedish_for_swedish_browsers(client):
    page = client.get("/", headers={"Accept-Language": "sv"}).get_data(as_text=True)
    assert 'lang="sv"' in page
    assert "Skicka rapport" in page and "Send report" not in page


def test_the_login_prompt_speaks_the_language_of_the_page(client):
    """Flask-Login's own prompt is English; Vaka's is translated per request."""
    for language, prompt in {"sv": "Logga in för att öppna sidan.",
                             "en": "Please log in to open this page."}.items():
        page = client.get("/triage/", headers={"Accept-Language": language},
                          follow_redirects=True).get_data(as_text=True)
        assert prompt in page and "Please log in to access this page." not in page


def test_swedish_calls_a_known_issue_one_thing_everywhere():
    """"Känt problem" (plural "kända problem"), in the menu, columns and filters alike; never
    "känt fel", which the catalog once used beside it."""
    with open(CATALOG, "rb") as handle:
        catalog = read_po(handle)
    off_term = []
    for message in catalog:
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        about_known_issues = any(re.search(r"known (issue|problem)", i, re.I) for i in ids if i)
        for string in strings:
            if re.search(r"kän(t|da) fel", string, re.I) or (
                    about_known_issues and not re.search(r"kän(t|da) problem", string, re.I)):
                off_term.append((ids[0], string))
    assert off_term == []
