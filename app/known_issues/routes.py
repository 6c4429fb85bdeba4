"""Known issues: the list, each issue's page, and the changes posted from it and from reports.

Every change posts here and goes back (to the issue, or to the report it was
made from) with a message; input the form or the service refuses is flashed
and changes nothing.
"""

from collections.abc import Callable

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from app.auth.access import permission_required
from app.charts import sparkline
from app.forms import flash_errors
from app.guards import reject_unknown_args
from app.known_issues.forms import (
    ISSUE_STATUS_NAMES,
    AttachForm,
    DetachForm,
    IssueFilterForm,
    KnownIssueForm,
    MergeForm,
    ReportPageForm,
    ResolveForm,
    SplitForm,
    UpdateForm,
)
from app.navigation import safe_next_url
from app.services import NotFound, ServiceError
from app.services.known_issues import (
    IssueResolved,
    attach_reports,
    create_known_issue,
    detach_report,
    edit_known_issue,
    get_known_issue,
    issue_page,
    issue_reports,
    issue_units,
    issue_updates,
    merge,
    other_open_issues,
    post_update,
    proposed_reports,
    reopen,
    resolve,
    split,
    suggest_known_issues,
    summaries,
)
from app.services.report_queries import get_report
from app.services.similarity import similar_reports
from models import Report

bp = Blueprint("known_issues", __name__, url_prefix="/known-issues")

#: Reports shown per page of a known issue (a line or two each).
REPORTS_PER_PAGE = 25
#: Reports proposed for a known issue on its page.
PROPOSALS = 10


def report_panels(report: Report) -> dict:
    """The context of the triage detail page's two partials, triage/_similar.html and
    triage/_known_issue.html, for `report`."""
    return {
        "similar": similar_reports(report.id),
        "known_issue_suggestions": ([] if report.known_issue_id else
                                    suggest_known_issues(report.id)),
        "open_known_issues": [] if report.known_issue_id else other_open_issues(),
    }


@bp.get("/")
@permission_required("triage")
def index():
    form = IssueFilterForm(formdata=request.args)
    reject_unknown_args(set(form.data))
    if not form.validate():
        return render_template("known_issues/index.html", form=form, page=None), 400
    page = issue_page(form.status.data or None, page=form.page.data or 1,
                      per_page=current_app.config["QUEUE_PAGE_SIZE"])
    issue_summaries = summaries(issue.id for issue in page.items)
    return render_template("known_issues/index.html", form=form, page=page,
                           summaries=issue_summaries,
                           sparklines={i: sparkline(s.weekly) for i, s in issue_summaries.items()},
                           issue_status_names=ISSUE_STATUS_NAMES)


def _report_or_404(report_id: str | None) -> Report | None:
    if not report_id:
        return None
    if not (report_id.isascii() and report_id.isdigit()):
        abort(404)
    return get_report(int(report_id))


@bp.route("/new", methods=["GET", "POST"])
@permission_required("triage")
def new():
    """A new known issue; with ?report=N (or the form's report) it starts with that report."""
    reject_unknown_args({"report"})
    form = KnownIssueForm(report_id=request.args.get("report", ""))
    report = _report_or_404(form.report_id.data)
    if form.validate_on_submit():
        issue = create_known_issue(form.title.data, form.description.data, current_user,
                                   [report.id] if report else [])
        flash(_("The known issue is created."))
        return redirect(url_for("known_issues.detail", issue_id=issue.id))
    return render_template("known_issues/new.html", form=form, report=report), (
        400 if form.errors else 200)


@bp.get("/<int:issue_id>")
@permission_required("triage")
def detail(issue_id: int):
    issue = get_known_issue(issue_id)
    page_form = ReportPageForm(formdata=request.args)
    reject_unknown_args(set(page_form.data))
    page = issue_reports(issue_id, page=page_form.page.data or 1 if page_form.validate() else 1,
                         per_page=REPORTS_PER_PAGE)
    summary = summaries([issue_id])[issue_id]
    return render_template(
        "known_issues/detail.html", issue=issue, page=page, page_form=page_form,
        summary=summary, weekly_line=sparkline(summary.weekly), units=issue_units(issue_id),
        proposals=proposed_reports(issue_id, PROPOSALS) if issue.is_open else [],
        edit_form=KnownIssueForm(formdata=None, obj=issue), resolve_form=ResolveForm(),
        merge_form=MergeForm(other_open_issues(issue_id), formdata=None),
        split_form=SplitForm(formdata=None, prefix="split"), reopen_form=FlaskForm(),
        update_form=UpdateForm(formdata=None), updates=issue_updates(issue_id),
        issue_status_names=ISSUE_STATUS_NAMES)


def _change(form: FlaskForm, change: Callable[[], object], done: Callable[[object], str],
            back: str) -> Response:
    """Make the change if the form is valid, flash the outcome, go to `back`."""
    if not form.validate_on_submit():
        flash_errors(form)
        return redirect(back)
    try:
        outcome = change()
    except IssueResolved:
        flash(_("Nothing was changed: the known issue is resolved. Reopen it first."))
    except NotFound:
        flash(_("Nothing was changed: that report or known issue does not exist, "
                "or the report is not in this known issue."))
    except ServiceError:
        flash(_("Nothing was changed: the input was not valid."))
    else:
        flash(done(outcome))
    return redirect(back)


def _issue_page(issue_id: int, anchor: str | None = None) -> str:
    return url_for("known_issues.detail", issue_id=issue_id, _anchor=anchor)


@bp.post("/<int:issue_id>/edit")
@permission_required("triage")
def edit(issue_id: int) -> Response:
    get_known_issue(issue_id)  # or the 404 page
    form = KnownIssueForm()
    return _change(form, lambda: edit_known_issue(issue_id, form.title.data,
                                                  form.description.data, current_user),
                   lambda _issue: _("The known issue is saved."), _issue_page(issue_id))


@bp.post("/<int:issue_id>/resolution")
@permission_required("triage")
def resolution(issue_id: int) -> Response:
    """Resolve with a note, or (the form's reopen button) open again."""
    get_known_issue(issue_id)  # or the 404 page
    if "reopen" in request.form:
        return _change(FlaskForm(), lambda: reopen(issue_id, current_user),
                       lambda _issue: _("The known issue is open again."),
                       _issue_page(issue_id))
    form = ResolveForm()
    return _change(form, lambda: resolve(issue_id, form.note.data, current_user),
                   lambda _issue: _("The known issue is resolved. Its reporters see the "
                                    "resolution note when they follow their report."),
                   _issue_page(issue_id))


@bp.post("/<int:issue_id>/updates")
@permission_required("triage")
def update(issue_id: int) -> Response:
    """Post news on an open known issue for its reporters."""
    get_known_issue(issue_id)  # or the 404 page
    form = UpdateForm()
    return _change(form, lambda: post_update(issue_id, form.body.data, current_user),
                   lambda _update: _("The update is posted. Every reporter of this known "
                                     "issue sees it with their report."),
                   _issue_page(issue_id, "updates"))


@bp.post("/<int:issue_id>/merge")
@permission_required("triage")
def merge_issue(issue_id: int) -> Response:
    get_known_issue(issue_id)  # or the 404 page
    form = MergeForm([])
    if form.validate_on_submit():
        target = form.target.data
        try:
            moved = merge(issue_id, target, current_user)
        except IssueResolved:
            flash(_("Nothing was changed: the known issue to merge into is resolved."))
        except ServiceError:
            flash(_("Nothing was changed: choose another open known issue to merge into."))
        else:
            flash(ngettext("The known issue is merged: %(num)d report moved.",
                           "The known issue is merged: %(num)d reports moved.", moved))
            return redirect(_issue_page(target))
    else:
        flash_errors(form)
    return redirect(_issue_page(issue_id))


@bp.post("/<int:issue_id>/split")
@permission_required("triage")
def split_issue(issue_id: int) -> Response:
    get_known_issue(issue_id)  # or the 404 page
    form = SplitForm(prefix="split")
    if not form.validate_on_submit():
        flash_errors(form)
        return redirect(_issue_page(issue_id, "reports"))
    try:
        issue = split(issue_id, form.report_ids.data, form.title.data, current_user)
    except ServiceError:
        flash(_("Nothing was changed: only reports of this known issue can be split off."))
        return redirect(_issue_page(issue_id, "reports"))
    flash(_("The new known issue holds the reports you split off."))
    return redirect(_issue_page(issue.id))


def _back(form: AttachForm | DetachForm, issue_id: int) -> str:
    """The page the form came from (a report's or a known issue's), on this site."""
    if form.next.data:
        return safe_next_url(form.next.data, "known_issues.index")
    return _issue_page(issue_id)


@bp.post("/<int:issue_id>/detach")
@permission_required("triage")
def detach(issue_id: int) -> Response:
    get_known_issue(issue_id)  # or the 404 page
    form = DetachForm()
    return _change(form, lambda: detach_report(issue_id, form.report_id.data, current_user),
                   lambda _none: _("The report is no longer in this known issue."),
                   _back(form, issue_id))


@bp.post("/attach")
@permission_required("triage")
def attach() -> Response:
    form = AttachForm()
    issue_id = form.issue.data if isinstance(form.issue.data, int) else None
    back = (safe_next_url(form.next.data, "known_issues.index") if form.next.data or not issue_id
            else _issue_page(issue_id))
    return _change(form, lambda: attach_reports(issue_id, form.report_ids.data, current_user),
                   lambda moved: ngettext("%(num)d report put in the known issue.",
                                          "%(num)d reports put in the known issue.", moved),
                   back)
