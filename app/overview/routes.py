from flask import Blueprint, render_template

from app.auth.access import permission_required
from app.charts import Chart, Sparkline, bar_chart, line_chart, sparkline
from app.guards import reject_unknown_args
from app.services.overview import TRIAGE_DAYS, Overview, build_overview
from trends import spikes

bp = Blueprint("overview", __name__)


@bp.get("/overview")
@permission_required("triage")
def index():
    reject_unknown_args(set())
    overview = build_overview()
    return render_template("overview/index.html", overview=overview, charts=_charts(overview),
                           min_count=spikes.MIN_COUNT, alpha=spikes.ALPHA, triage_days=TRIAGE_DAYS)


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
