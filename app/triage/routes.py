from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm

from app.auth.access import permission_required
from app.guards import reject_unknown_args
from app.reports.forms import MessageForm
from app.services import NotFound
from app.services.audit import record
from app.services.classification import explain_report
from app.services.identifiers import identifier_kinds, redact_report
from app.services.messages import message_reporter, messages_for
from app.services.triage import get_report, queue_page, review_report
from app.services.units import unit_choices
from app.triage.forms import QueueFilterForm, ReviewForm
from models import MESSAGE_MAX

bp = Blueprint("triage", __name__, url_prefix="/triage")


@bp.get("/")
@permission_required("triage")
def queue():
    form = QueueFilterForm(units=unit_choices(include_inactive=True), formdata=request.args)
    reject_unknown_args(set(form.data))
    if not form.validate():
        return render_template("triage/queue.html", form=form, page=None), 400
    page = queue_page(form.to_filters(), page=form.page.data or 1,
                      per_page=current_app.config["QUEUE_PAGE_SIZE"],
                      review_first=form.review_first.data)
    return render_template("triage/queue.html", form=form, page=page)


@bp.route("/reports/<int:report_id>", methods=["GET", "POST"])
@permission_required("triage")
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
                           explanation=explain_report(report), messages=messages_for(report_id),
                           message_form=MessageForm(), identifiers=identifier_kinds(report),
                           redact_form=FlaskForm()), status_code


@bp.post("/reports/<int:report_id>/redact")
@permission_required("triage")
def redact(report_id: int):
    """Replace the personal identifiers in a report's text by placeholders, for good."""
    if FlaskForm().validate_on_submit():
        try:
            removed = redact_report(report_id, current_user)
        except NotFound:
            abort(404)
        flash(ngettext("%(num)d identifier was replaced by a placeholder.",
                       "%(num)d identifiers were replaced by placeholders.",
                       sum(removed.values())))
    return redirect(url_for("triage.detail", report_id=report_id))


@bp.post("/reports/<int:report_id>/messages")
@permission_required("triage")
def send_message(report_id: int):
    form = MessageForm()
    if not form.validate_on_submit():
        flash(_("The message is not sent: it must have between 1 and %(max)d characters.",
                max=MESSAGE_MAX))
    else:
        try:
            message_reporter(report_id, current_user, form.body.data)
        except NotFound:
            abort(404)
        flash(_("Your message is sent. The reporter sees it when they follow the report."))
    return redirect(url_for("triage.detail", report_id=report_id, _anchor="messages"))
