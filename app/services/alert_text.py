"""An alert in words, and where it is followed: for the pages and for the e-mails alike.

The words come from the alert's stored evidence only (counts, baseline, ratio),
never from report text.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import current_app
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _

from models import Alert, AlertKind


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
        listed = ", ".join(f"{s['value']} ({s['observed']})" for s in series)
        return _("%(num)d of the %(tested)d series rose at once: %(series)s. One cause lifts "
                 "them all, so they are one alert.", num=len(series),
                 tested=evidence["tested"], series=listed)
    return _series_words(series[0], evidence.get("period")) if series else ""


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


def _series_words(series: dict[str, Any], period: str | None) -> str:
    if series.get("ratio") is None:
        if period == "day":
            return _("%(num)d reports today where there were none a day before.",
                     num=series["observed"])
        return _("%(num)d reports in the last 7 days where there were none a week before.",
                 num=series["observed"])
    if period == "day":
        return _("Far more than usual: %(num)d reports today, %(ratio)s times the daily mean.",
                 num=series["observed"], ratio=_ratio(series["ratio"]))
    return _("Far more than usual: %(num)d reports in the last 7 days, %(ratio)s times the "
             "weekly mean.", num=series["observed"], ratio=_ratio(series["ratio"]))


def alert_path(alert: Alert) -> str:
    """The page to follow an alert on: its emerging issue's, when that page exists, else the
    alerts page (built without a request, for e-mails too)."""
    urls = current_app.url_map.bind("localhost")
    if alert.kind == AlertKind.EMERGING and alert.emerging_issue_id is not None:
        return urls.build("emerging.detail", {"group_id": alert.emerging_issue_id})
    return urls.build("alerts.index", {}) + f"#alert-{alert.id}"
