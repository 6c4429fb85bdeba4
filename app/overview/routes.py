from flask import Blueprint, render_template

from app.auth.access import permission_required
from app.charts import HEAT_CLASSES, Chart, Sparkline, bar_chart, line_chart, sparkline
from app.guards import reject_unknown_args
from app.services.alert_text import alert_path, series_in_words, series_queue_path
from app.services.alerts import emerging_alerts, series_alerts
from app.services.overview import TRIAGE_DAYS, Overview, build_overview, unit_names
from trends import spikes

bp = Blueprint("overview", __name__)


@bp.get("/overview")
@permission_required("triage")
def index():
    reject_unknown_args(set())
    overview = build_overview()
    emerging = emerging_alerts()
    alone, storms = series_alerts(overview.tests)
    return render_template("overview/index.html", overview=overview, charts=_charts(overview),
                           min_count=spikes.MIN_COUNT, alpha=spikes.ALPHA, triage_days=TRIAGE_DAYS,
                           emerging=emerging,
                           emerging_links={a.id: alert_path(a) for a in emerging},
                           alone=alone, storms=storms, queue_links=_queue_links(overview),
                           words=_words(overview), heat_classes=HEAT_CLASSES)


def _queue_links(overview: Overview) -> dict[tuple[str, str, str], str | None]:
    """The queue filtered to the reports each spiking series counted."""
    ids = {name: unit_id for unit_id, name in unit_names().items()}
    links = {}
    for test in overview.tests:
        if test.test.spike:
            path = series_queue_path(test.dimension, test.value, test.period, overview.today, ids)
            links[(test.dimension, test.value, test.period)] = path
    return links


def _words(overview: Overview) -> dict[tuple[str, str, str], str]:
    """Each test made, in words."""
    return {(t.dimension, t.value, t.period): series_in_words(
        t.period, t.test.observed, t.test.baseline_mean, t.test.baseline_periods, t.test.spike)
        for t in overview.tests}


def _charts(overview: Overview) -> dict[str, Chart | dict[int, Sparkline]]:
    """The overview's charts, ready to draw: per day, per week, new against finished, and a
    sparkline per top known issue (by its id)."""
    return {
        "daily": line_chart(overview.daily, overview.day_labels, ticks=overview.day_ticks),
        "weekly": bar_chart(overview.weekly, overview.week_labels),
        "flow": bar_chart({"new": overview.new_per_week, "finished": overview.finished_per_week},
                          overview.week_labels),
        "sparklines": {issue.id: sparkline(issue.summary.weekly)
                       for issue in overview.known_issues},
    }
