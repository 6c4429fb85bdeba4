"""An alert in words, and where it is followed: for the pages and for the e-mails alike.

The words come from the alert's stored evidence only (counts, baseline, ratio),
never from report text.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask import current_app
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.routing import MapAdapter

from app.forms import AREA_NAMES, CATEGORY_NAMES
from models import Alert, AlertKind, Unit, db

#: A series' values by name: a unit is named by itself.
SERIES_VALUE_NAMES: dict[str, dict] = {"unit": {}, "area": AREA_NAMES,
                                       "category": CATEGORY_NAMES}
#: A series' period in words.
PERIOD_NAMES = {"day": _l("today"), "week": _l("the last 7 days")}


def value_name(dimension: str, value: str) -> str:
    """A series' value as it reads ("Printing" for "printing"; a unit by its name)."""
    return str(SERIES_VALUE_NAMES.get(dimension, {}).get(value, value))


@contextmanager
def install_language() -> Iterator[None]:
    """Words stored or e-mailed are in the install's language, not the visitor's."""
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        yield


def _ratio(value: float | None) -> str:
    return f"{value:.1f}" if value is not None else "–"


def evidence_in_words(alert: Alert) -> str:
    """What the test saw, as a sentence (p-values as words, not numbers)."""
    evidence = alert.evidence or {}
    if alert.kind == AlertKind.EMERGING:
        return _emerging_words(evidence)
    series = evidence.get("series", [])
    if "tested" in evidence:
        listed = ", ".join(f"{value_name(evidence.get('dimension'), s['value'])} "
                           f"({s['observed']})" for s in series)
        words = _("%(num)d of the %(tested)d series rose at once: %(series)s. One cause lifts "
                  "them all, so they are one alert.", num=len(series),
                  tested=evidence["tested"], series=listed)
        others = evidence.get("others", [])
        if others:
            words += " " + _("Rising with them: %(series)s.",
                             series=", ".join(_other_series(o) for o in others))
        return words
    if not series:
        return ""
    first = series[0]
    return series_in_words(evidence.get("period"), first["observed"], first["baseline_mean"],
                           first["baseline_periods"], spike=True)


def _other_series(series: dict[str, Any]) -> str:
    """"Akuten (12 today)": a series the broad rise took in, its count and period."""
    name = value_name(series["dimension"], series["value"])
    return f"{name} ({series['observed']} {PERIOD_NAMES[series['period']]})"


def _emerging_words(evidence: dict[str, Any]) -> str:
    observed, hours = evidence.get("observed", 0), evidence.get("window_hours", 0)
    units = len(evidence.get("units", []))
    if evidence.get("new_topic"):
        return ngettext(
            "A new topic: %(reports)d like reports in %(hours)d hours from %(num)d unit; "
            "nothing like them in the 28 days before.",
            "A new topic: %(reports)d like reports in %(hours)d hours from %(num)d units; "
            "nothing like them in the 28 days before.",
            units, reports=observed, hours=hours)
    return _("Far more than usual: %(num)d like reports in %(hours)d hours, %(ratio)s times "
             "what the 28 days before predict (%(expected)s); chance does not explain it.",
             num=observed, hours=hours, ratio=_ratio(evidence.get("ratio")),
             expected=_ratio(evidence.get("expected", 0.0)))


def series_in_words(period: str | None, observed: int, baseline_mean: float,
                    baseline_periods: int, spike: bool) -> str:
    """A spike test of a series in words: the count against its usual rate, and whether
    chance explains it (the test's p-value said in words; the rule is in the README)."""
    values = {"num": observed, "mean": f"{baseline_mean:.1f}", "periods": baseline_periods,
              "ratio": _ratio(observed / baseline_mean if baseline_mean else None)}
    day = period == "day"
    if not baseline_mean:
        if day:
            return _("%(num)d reports today where there were none a day over the %(periods)d "
                     "days before.", **values)
        return _("%(num)d reports in the last 7 days where there were none a week over the "
                 "%(periods)d weeks before.", **values)
    if spike and day:
        return _("Far more than usual: %(num)d reports today, %(ratio)s times the daily mean "
                 "(%(mean)s a day over the %(periods)d days before); chance does not explain "
                 "it.", **values)
    if spike:
        return _("Far more than usual: %(num)d reports in the last 7 days, %(ratio)s times the "
                 "weekly mean (%(mean)s a week over the %(periods)d weeks before); chance does "
                 "not explain it.", **values)
    if day:
        return _("Within what chance explains: %(num)d reports today, %(ratio)s times the "
                 "daily mean (%(mean)s a day over the %(periods)d days before).", **values)
    return _("Within what chance explains: %(num)d reports in the last 7 days, %(ratio)s "
             "times the weekly mean (%(mean)s a week over the %(periods)d weeks before).",
             **values)


@dataclass(frozen=True)
class AlertLink:
    """Where an alert's reports are listed: the queue filtered to them, or the page of the
    emerging issue they form."""

    label: str
    path: str


def alert_links(alert: Alert) -> list[AlertLink]:
    """Links to an alert's reports: a spike's series each to the queue filtered by its
    unit, area or category and its period's dates (every status), an emerging issue's
    alert to the issue's page (a theme's, to each of its issues'), a linked alert also to
    the queue filtered by its known issue."""
    urls = current_app.url_map.bind("localhost")
    evidence = alert.evidence or {}
    if alert.kind == AlertKind.EMERGING:
        groups = evidence.get("groups") or [alert.emerging_issue_id]
        links = [AlertLink(_("The emerging issue's reports") if len(groups) == 1
                           else _("Emerging issue %(id)d", id=group),
                           urls.build("emerging.detail", {"group_id": group}))
                 for group in groups if group is not None]
    else:
        links = _series_links(alert, evidence, urls)
    if alert.known_issue_id is not None:
        links.append(AlertLink(_("The known issue's reports in the queue"), urls.build(
            "triage.queue", {"known_issue": alert.known_issue_id, "status": ""})))
    return links


def _series_links(alert: Alert, evidence: dict[str, Any], urls: MapAdapter) -> list[AlertLink]:
    dimension, period = evidence.get("dimension"), evidence.get("period")
    if dimension not in SERIES_VALUE_NAMES or period not in ("day", "week"):
        return []
    unit_ids = dict(db.session.execute(select(Unit.name, Unit.id)).tuples().all())
    names = SERIES_VALUE_NAMES[dimension]
    links = []
    for series in evidence.get("series", []):
        path = series_queue_path(dimension, series["value"], period, alert.raised_at.date(),
                                 unit_ids)
        if path is not None:
            links.append(AlertLink(ngettext(
                "%(name)s: %(num)d report", "%(name)s: %(num)d reports", series["observed"],
                name=names.get(series["value"], series["value"])), path))
    return links


def series_queue_path(dimension: str, value: str, period: str, last: date,
                      unit_ids: dict[str, int]) -> str | None:
    """The queue filtered to the reports a spike test of a series counted: its unit, area
    or category, the period's submission dates up to `last`, every status. None for a unit
    renamed since (its old name finds no reports)."""
    chosen = unit_ids.get(value) if dimension == "unit" else value
    if chosen is None:
        return None
    first = last - timedelta(days=6 if period == "week" else 0)
    return current_app.url_map.bind("localhost").build("triage.queue", {
        dimension: chosen, "date_from": first.isoformat(), "date_to": last.isoformat(),
        "status": ""})


def alert_path(alert: Alert) -> str:
    """The page to follow an alert on: its emerging issue's, when that page exists, else the
    alerts page (built without a request, for e-mails too)."""
    urls = current_app.url_map.bind("localhost")
    if alert.kind == AlertKind.EMERGING and alert.emerging_issue_id is not None:
        return urls.build("emerging.detail", {"group_id": alert.emerging_issue_id})
    return urls.build("alerts.index", {}) + f"#alert-{alert.id}"
