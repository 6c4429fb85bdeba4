import secrets

from flask import Blueprint, render_template
from flask_babel import gettext as _
from flask_login import current_user

from app.reports.forms import ReceiptForm, ReportForm
from app.services import NotFound
from app.services.reports import ReportDraft, report_for_receipt, submit_report
from app.services.units import unit_choices
from app.throttle import receipt_per_address

bp = Blueprint("reports", __name__)


@bp.route("/", methods=["GET", "POST"])
def new():
    form = ReportForm(units=unit_choices())
    if not form.validate_on_submit():
        if not form.submission_token.data or form.submission_token.errors:
            # A new form, or one whose token was lost: the next send gets a fresh one.
            form.submission_token.data = secrets.token_urlsafe(24)
        return render_template("reports/form.html", form=form), 400 if form.errors else 200
    named = current_user.is_authenticated and form.identity.data == "named"
    submission = submit_report(
        ReportDraft(kind=form.kind.data, text=form.text.data, occurred_at=form.occurred_at.data,
                    unit_id=int(form.unit_id.data), area=form.area.data,
                    impact=form.impact.data, suggestion=form.suggestion.data,
                    submission_token=form.submission_token.data),
        reporter=current_user if named else None,
    )
    # Rendered on the POST itself: a retried submit shows the same page, receipt included.
    return render_template("reports/submitted.html", report=submission.report,
                           receipt=submission.receipt_code)


@bp.route("/status", methods=["GET", "POST"])
@receipt_per_address
def status():
    form = ReceiptForm()
    report = None
    if form.validate_on_submit():
        try:
            report = report_for_receipt(form.receipt.data)
        except NotFound:
            form.receipt.errors.append(_("No report matches that receipt code."))
    status_code = 400 if form.errors else 200
    return render_template("reports/status.html", form=form, report=report), status_code
