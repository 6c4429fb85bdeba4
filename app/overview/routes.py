from flask import Blueprint, render_template, url_for

from app.auth.access import permission_required
from app.charts import Chart, Sparkline, bar_chart, line_chart, sparkline
from app.guards import reject_unknown_args
from app.services.alert_text import alert_path
from app.services.alerts import emerging_alerts, series_alerts
from app.services.overview import TRIAGE_DAYS, Alert, Overview, build_overview, unit_names
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
                           alone=alone, storms=storms, queue_links=_queue_links(overview.tests))


def _queue_links(tests: list[Alert]) -> dict[tuple[str, str], str]:
    """The queue filtered to each series' reports (by unit, area or category)."""
    ids = {name: unit_id for unit_id, name in unit_names().items()}
    arguments = {"unit": lambda value: {"unit": ids[value]}, "area": lambda value: {"area": value},
                 "category": lambda value: {"category": value}}
    return {(test.dimension, test.value): url_for("triage.queue",
                                                  **arguments[test.dimension](test.value))
            for test in tests if test.test.spike}


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
