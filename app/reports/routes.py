import secrets

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_number, ngettext
from flask_babel import gettext as _
from flask_login import current_user

from app.auth.access import can, permission_required
from app.guards import reject_unknown_args
from app.known_issues.forms import ISSUE_STATUS_NAMES
from app.reports.forms import (
    MATCH_TEXT_MAX,
    SUGGESTION_MAX,
    TEXT_MAX,
    TEXT_MIN,
    AnswerForm,
    MatchingIssuesForm,
    PageForm,
    ReceiptAnswerForm,
    ReceiptForm,
    ReportForm,
)
from app.services import NotFound
from app.services.audit import record
from app.services.drafts import ReportDraft, receipt_groups, report_for_receipt
from app.services.known_issues import issue_updates, matching_known_issues, news_for_reporter
from app.services.messages import (
    answer_by_receipt,
    answer_own_report,
    messages_for,
    own_report,
    own_reports_page,
)
from app.services.reports import submit_report
from app.services.units import unit_choices
from app.throttle import matching_per_address, receipt_per_address
from models import MESSAGE_MAX

bp = Blueprint("reports", __name__)
#: A number written the locale's way ("10 000" in Swedish), for the forms' limits.
bp.add_app_template_filter(format_number, "number")


@bp.route("/", methods=["GET", "POST"])
def new():
    form = ReportForm(units=unit_choices(), may_name=can("report.submit"))
    if not form.is_submitted():
        form.fill_from_link(request.args)
    if not form.validate_on_submit():
        if not form.submission_token.data or form.submission_token.errors:
            # A new form, or one whose token was lost: the next send gets a fresh one.
            form.submission_token.data = secrets.token_urlsafe(24)
        return render_template("reports/form.html", form=form, text_min=TEXT_MIN,
                               text_max=TEXT_MAX, suggestion_max=SUGGESTION_MAX,
                               match_max=MATCH_TEXT_MAX), 400 if form.errors else 200
    named = can("report.submit") and form.identity.data == "named"
    submission = submit_report(
        ReportDraft(kind=form.kind.data, text=form.text.data, occurred_at=form.occurrence,
                    unit_id=int(form.unit_id.data), area=form.area.data,
                    impact=form.impact.data, suggestion=form.suggestion.data,
                    submission_token=form.submission_token.data,
                    known_issue_id=form.known_issue_id.data),
        reporter=current_user if named else None,
    )
    # Rendered on the POST itself: a retried submit shows the same page, receipt included.
    return render_template("reports/submitted.html", report=submission.report,
                           receipt=submission.receipt_code,
                           receipt_parts=(receipt_groups(submission.receipt_code)
                                          if submission.receipt_code else []),
                           answer_time=answer_time(current_app.config["REPORT_ANSWER_DAYS"]))


def answer_time(days: int) -> str:
    """The coordination group's usual time to answer, in words: "within 5 days", "within
    a week" (whole weeks are said in weeks)."""
    if days % 7 == 0:
        return ngettext("within a week", "within %(num)d weeks", days // 7)
    return ngettext("within a day", "within %(num)d days", days)


@bp.get("/report/matching-issues")
@matching_per_address
def matching_issues():
    """Open known issues that the text typed so far looks like, for the report form.

    Only their titles and statuses, which coordinators wrote; no report's text.
    Like the form, the path leaves no access-log line (app/anonymity.py).
    """
    form = MatchingIssuesForm(formdata=request.args)
    reject_unknown_args(set(form.data))
    if not form.validate():
        abort(400, _("The text to match is too long."))
    text = form.text.data or ""
    issues = matching_known_issues(text) if len(text) >= TEXT_MIN else []
    return jsonify(issues=[{"id": issue.id, "title": issue.title,
                            "status": str(ISSUE_STATUS_NAMES[issue.status])}
                           for issue in issues])


@bp.route("/status", methods=["GET", "POST"])
@receipt_per_address
def status():
    """An anonymous reporter follows a report and answers its messages.

    Every post carries the receipt code (the answer form too), so every post is
    checked and throttled, and nothing is kept in the session. Nothing is logged
    or audited.
    """
    form, answer = ReceiptForm(), ReceiptAnswerForm()
    report, answered = None, False
    if form.validate_on_submit():
        try:
            if answer.send.data and answer.validate():
                report = answer_by_receipt(form.receipt.data, answer.body.data)
                answered, answer.body.data = True, ""
            else:
                report = report_for_receipt(form.receipt.data)
        except NotFound:
            form.receipt.errors.append(_("No report matches that receipt code."))
    status_code = 400 if form.errors or answer.errors else 200
    return render_template("reports/status.html", form=form, report=report, answer=answer,
                           answered=answered, message_max=MESSAGE_MAX,
                           messages=messages_for(report.id) if report else [],
                           updates=issue_updates(report.known_issue_id) if report else [],
                           issue_status_names=ISSUE_STATUS_NAMES), status_code


@bp.get("/report/mine")
@permission_required("report.own.view")
def mine():
    form = PageForm(formdata=request.args)
    reject_unknown_args(set(form.data))
    if not form.validate():
        abort(400, _("The page number is not valid."))
    own = own_reports_page(current_user, page=form.page.data or 1,
                           per_page=current_app.config["QUEUE_PAGE_SIZE"])
    return render_template("reports/mine.html", page=own.page, unread=own.unread,
                           news=news_for_reporter(current_user),
                           issue_status_names=ISSUE_STATUS_NAMES)


@bp.route("/report/mine/<int:report_id>", methods=["GET", "POST"])
@permission_required("report.own.view")
def own_detail(report_id: int):
    report = own_report(report_id, current_user)
    form = AnswerForm()
    if form.validate_on_submit():
        answer_own_report(report_id, current_user, form.body.data)
        flash(_("Your answer is sent."))
        return redirect(url_for("reports.own_detail", report_id=report_id, _anchor="messages"))
    record("report.view", current_user, "report", report_id)
    return render_template("reports/own_detail.html", report=report, form=form,
                           message_max=MESSAGE_MAX,
                           messages=messages_for(report_id),
                           updates=issue_updates(report.known_issue_id),
                           issue_status_names=ISSUE_STATUS_NAMES), 400 if form.errors else 200
