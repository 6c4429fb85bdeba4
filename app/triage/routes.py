from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.auth.access import roles_required
from app.guards import reject_unknown_args
from app.services import NotFound
from app.services.audit import record
from app.services.classification import explain_report
from app.services.triage import get_report, queue_page, review_report
from app.services.units import unit_choices
from app.triage.forms import QueueFilterForm, ReviewForm
from models import Role

bp = Blueprint("triage", __name__, url_prefix="/triage")


@bp.get("/")
@roles_required(Role.COORDINATOR)
def queue():
    form = QueueFilterForm(units=unit_choices(), formdata=request.args)
    reject_unknown_args(set(form.data))
    if not form.validate():
        return render_template("triage/queue.html", form=form, page=None), 400
    page = queue_page(form.to_filters(), page=form.page.data or 1,
                      per_page=current_app.config["QUEUE_PAGE_SIZE"],
                      review_first=form.review_first.data)
    return render_template("triage/queue.html", form=form, page=page)


@bp.route("/reports/<int:report_id>", methods=["GET", "POST"])
@roles_required(Role.COORDINATOR)
def detail(report_id: int):
    try:
        report = get_report(report_id)
    except NotFound:
        abort(404)
    form = ReviewForm(categories=report.categories, status=report.status)
    if form.validate_on_submit():
        review_report(report_id, current_user, set(form.categories.data), form.status.data)
        flash(_("Your decision on %(reference)s is saved.", reference=report.reference))
        return redirect(url_for("triage.detail", report_id=report_id))
    status_code = 400 if form.errors else 200
    record("report.view", current_user, "report", report_id)
    return render_template("triage/detail.html", report=report, form=form,
                           explanation=explain_report(report)), status_code
