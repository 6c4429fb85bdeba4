"""Times as people read them: one zone on every page, the region's, and labelled.

The database stores times in UTC without tzinfo (models.utcnow); pages show them
in `TIME_ZONE` through the `localtime` filter, always with the zone's name, so
that no page mixes UTC and local times. A time a person typed as wall-clock time
(when an incident occurred) is already local: `localtime(moment, stored_utc=False)`
formats it without converting.
"""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import Flask, current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from models import utcnow

#: The zones' names as a page says them; another zone is named by its key.
ZONE_NAMES = {"Europe/Stockholm": _l("Swedish time")}


def zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIME_ZONE"])


def zone_name() -> str:
    key = current_app.config["TIME_ZONE"]
    return str(ZONE_NAMES.get(key, key))


def to_local(moment: datetime) -> datetime:
    """A stored UTC time (naive) in the configured zone."""
    return moment.replace(tzinfo=UTC).astimezone(zone())


def local_now() -> datetime:
    """The region's wall-clock time now (naive), whatever the server's own zone: what a
    reporter's "just now" and "earlier today" mean."""
    return to_local(utcnow()).replace(tzinfo=None)


def localtime(moment: datetime | None, stored_utc: bool = True, label: bool = True,
              seconds: bool = False) -> Markup:
    """A <time> element: "2026-03-02 kl. 14:05 (svensk tid)", its datetime attribute exact.

    `label` False leaves the zone's name out, for a column whose heading names it.
    """
    if moment is None:
        return Markup("–")
    local = to_local(moment) if stored_utc else moment.replace(tzinfo=zone())
    text = _("%(date)s at %(time)s", date=local.strftime("%Y-%m-%d"),
             time=local.strftime("%H:%M:%S" if seconds else "%H:%M"))
    if label:
        text = f"{text} ({zone_name()})"
    # Markup.format escapes both values: the element is the only markup.
    return Markup('<time datetime="{}">{}</time>').format(local.isoformat(), text)


def init_app(app: Flask) -> None:
    app.jinja_env.filters["localtime"] = localtime
    app.jinja_env.globals["zone_name"] = zone_name
