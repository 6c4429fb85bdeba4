"""Times on pages: stored in UTC, shown in the region's zone (TIME_ZONE), labelled."""

from datetime import datetime
from pathlib import Path

import pytest
from flask_babel import force_locale

from app.times import localtime


@pytest.mark.parametrize(("stored", "shown"), [
    (datetime(2026, 1, 15, 13, 5), "2026-01-15 kl. 14:05 (svensk tid)"),  # winter: UTC+1
    (datetime(2026, 7, 1, 12, 5), "2026-07-01 kl. 14:05 (svensk tid)"),  # summer: UTC+2
    (datetime(2026, 3, 28, 23, 30), "2026-03-29 kl. 00:30 (svensk tid)"),  # next day here
    (datetime(2026, 3, 29, 1, 30), "2026-03-29 kl. 03:30 (svensk tid)")])  # after the switch
def test_a_stored_utc_time_is_shown_in_swedish_time(app, stored, shown):
    with app.test_request_context(), force_locale("sv"):
        html = str(localtime(stored))
    assert html.endswith(f">{shown}</time>")
    assert f'datetime="{stored.isoformat()}' not in html  # the attribute is the local time too
    assert '+01:00"' in html or '+02:00"' in html


def test_english_labels_and_options(app):
    with app.test_request_context(), force_locale("en"):
        assert str(localtime(datetime(2026, 1, 15, 13, 5, 9), seconds=True)) == (
            '<time datetime="2026-01-15T14:05:09+01:00">2026-01-15 at 14:05:09 '
            '(Swedish time)</time>')
        assert str(localtime(datetime(2026, 1, 15, 13, 5), label=False)).endswith(
            ">2026-01-15 at 14:05</time>")
        # A wall-clock time a person typed is already local: not converted.
        assert ">2026-01-15 at 13:05 (Swedish time)<" in str(
            localtime(datetime(2026, 1, 15, 13, 5), stored_utc=False))
        assert str(localtime(None)) == "–"


def test_the_zone_is_a_setting(app):
    app.config["TIME_ZONE"] = "America/New_York"
    with app.test_request_context(), force_locale("en"):
        assert ">2026-01-15 at 08:05 (America/New_York)<" in str(
            localtime(datetime(2026, 1, 15, 13, 5)))


def test_every_template_shows_times_through_the_filter():
    """No template formats a stored time itself (dates alone may stay ISO dates)."""
    templates = Path(__file__).parent.parent / "app" / "templates"
    offenders = [f"{path.name}: {line.strip()}" for path in templates.rglob("*.html")
                 for line in path.read_text().splitlines() if "%H:%M" in line]
    assert offenders == []
