from flask import Blueprint, render_template

from app.auth.access import permission_required
from app.guards import reject_unknown_args
from app.services.overview import TRIAGE_DAYS, build_overview
from trends import spikes

bp = Blueprint("overview", __name__)


@bp.get("/overview")
@permission_required("triage")
def index():
    reject_unknown_args(set())
    return render_template("overview/index.html", overview=build_overview(),
                           min_count=spikes.MIN_COUNT, alpha=spikes.ALPHA, triage_days=TRIAGE_DAYS)
