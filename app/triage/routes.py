from dataclasses import dataclass

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm

from app.auth.access import permission_required
from app.forms import flash_errors
from app.guards import reject_unknown_args
from app.navigation import safe_next_url
from app.reports.forms import MessageForm
from app.services import NotFound, ServiceError
from app.services.audit import record
from app.services.classification import report_bands
from app.services.grouping import emerging_issue_title
from app.services.identifiers import redact_report
from app.services.known_issues import attach_reports, other_open_issues
from app.services.messages import message_reporter
from app.services.report_queries import get_report
from app.services.triage import (
    GroupKind,
    IssueGroup,
    Neighbours,
    decide_report,
    grouped_queue_page,
    known_issue_choices,
    label_reports,
    queue_counts,
    queue_neighbours,
    queue_page,
)
from app.services.units import unit_choices
from app.services.workflow import assign, coordinators, set_status
from app.triage.detail import decision_defaults, detail_context
from app.triage.forms import (
    BAND_NAMES,
    BY_ISSUE,
    GROUP_KIND_NAMES,
    BulkAction,
    BulkForm,
    DecisionForm,
    QueueFilterForm,
)
from models import MESSAGE_MAX, utcnow

bp = Blueprint("triage", __name__, url_prefix="/triage")


def _assignees() -> list[tuple[int, str]]:
    return [(user.id, user.email) for user in coordinators()]


def _open_issues() -> list[tuple[int, str]]:
    return [(issue.id, issue.title) for issue in other_open_issues()]


@bp.get("/")
@permission_required("triage")
def queue():
    form = _queue_form(request.args)
    reject_unknown_args(set(form.data))
    if not form.validate():
        return render_template("triage/queue.html", form=form, page=None,
                               counts=queue_counts(), chips=[]), 400
    pager = grouped_queue_page if form.group.data == BY_ISSUE else queue_page
    page = pager(form.to_filters(), form.order.data, form.after.data or None,
                 per_page=current_app.config["QUEUE_PAGE_SIZE"])
    bulk_form = BulkForm(_assignees(), _open_issues(), formdata=None, next=request.full_path)
    return render_template("triage/queue.html", form=form, page=page, bulk_form=bulk_form,
                           now=utcnow(), counts=queue_counts(), chips=_chips(form),
                           bands=report_bands(page.reports), band_names=BAND_NAMES,
                           queue_args=request.args.to_dict(),
                           group_kind_names=GROUP_KIND_NAMES,
                           group_urls={report_id: _group_url(group)
                                       for report_id, group in page.groups.items()})


def _group_url(group: IssueGroup) -> str:
    """The queue as it is, but ungrouped and showing only this group's reports."""
    args = {name: value for name, value in request.args.items()
            if name not in ("after", "group", "known_issue", "emerging_issue")}
    parameter = "known_issue" if group.kind == GroupKind.KNOWN_ISSUE else "emerging_issue"
    return url_for("triage.queue", **args, **{parameter: group.id})


@dataclass(frozen=True)
class FilterChip:
    """One chosen filter, shown as a chip with a link to the queue without it."""

    label: str
    value: str
    remove_url: str


def _chips(form: QueueFilterForm) -> list[FilterChip]:
    args = {name: value for name, value in request.args.items() if name != "after"}
    return [FilterChip(label, _chip_value(parameter, value), url_for("triage.queue", **{
        name: value for name, value in args.items() if name != parameter}))
        for parameter, label, value in form.chosen()]


def _chip_value(parameter: str, value: str) -> str:
    """A chip's value as it reads: an emerging issue by its title, not its id."""
    if parameter == "emerging_issue":
        return emerging_issue_title(int(value)) or value
    return value


@bp.post("/bulk")
@permission_required("triage")
def bulk():
    """Apply one action to the reports ticked in the queue, then go back to it."""
    form = BulkForm(_assignees(), _open_issues())
    back = safe_next_url(form.next.data, "triage.queue")
    if not form.validate_on_submit():
        flash_errors(form, labelled=False)
        return redirect(back)
    try:
        changed = _apply_bulk(form, form.report_ids.data)
    except NotFound:
        flash(_("Some of the ticked reports no longer exist. Nothing was changed."))
    except ServiceError:
        flash(_("That action is not possible on these reports. Nothing was changed."))
    else:
        flash(ngettext("%(num)d report was updated.", "%(num)d reports were updated.", changed))
    return redirect(back)


def _apply_bulk(form: BulkForm, report_ids: list[int]) -> int:
    match form.action.data:
        case BulkAction.ASSIGN:
            return assign(report_ids, int(form.assignee.data) if form.assignee.data else None,
                          current_user)
        case BulkAction.STATUS:
            return set_status(report_ids, form.status.data, current_user)
        case BulkAction.CATEGORIES:
            return label_reports(report_ids, set(form.categories.data or []), current_user)
        case BulkAction.KNOWN_ISSUE:
            return attach_reports(int(form.known_issue.data), report_ids, current_user)
    raise ServiceError(f"unknown bulk action {form.action.data!r}")


def _queue_form(formdata: object = None) -> QueueFilterForm:
    return QueueFilterForm(unit_choices(include_inactive=True), _assignees(),
                           known_issue_choices(), formdata=formdata)


def carried_queue() -> tuple[QueueFilterForm, dict[str, str]]:
    """The queue a report was opened from: its filters as carried in the query string,
    checked by the queue's own form, and the arguments to carry on (all of them known
    and valid). Filters that do not validate are dropped for the default queue's."""
    form = _queue_form(request.args)
    if not form.validate():
        return _queue_form(), {}
    return form, {name: value for name, value in request.args.items() if name in form.data}


@bp.route("/reports/<int:report_id>", methods=["GET", "POST"])
@permission_required("triage")
def detail(report_id: int):
    """The report and the one form of a person's decision on it; "save and next" goes on
    to the next report of the queue it was opened from, keeping its filters."""
    report = get_report(report_id)
    queue_form, queue_args = carried_queue()
    neighbours = queue_neighbours(queue_form.to_filters(), queue_form.order.data, report)
    form = DecisionForm(coordinators(), **decision_defaults(report))
    if form.validate_on_submit():
        if decide_report(report_id, current_user, form.decision()):
            flash(_("Your decision on %(reference)s is saved.", reference=report.reference))
        else:
            flash(_("Nothing changed on %(reference)s: that decision was already saved.",
                    reference=report.reference))
        return redirect(_after_decision(report_id, neighbours, queue_args,
                                        form.save_next.data))
    record("report.view", current_user, "report", report_id)
    return render_template("triage/detail.html", **detail_context(
        report, form, neighbours, queue_args)), 400 if form.errors else 200


def _after_decision(report_id: int, neighbours: Neighbours, queue_args: dict[str, str],
                    go_on: bool) -> str:
    """Back to the report, or on to the next one; after the last, the queue itself."""
    if not go_on:
        return url_for("triage.detail", report_id=report_id, **queue_args)
    if neighbours.next is None:
        flash(_("That was the last report in this queue."))
        return url_for("triage.queue", **queue_args)
    return url_for("triage.detail", report_id=neighbours.next, **queue_args)


@bp.post("/reports/<int:report_id>/redact")
@permission_required("triage")
def redact(report_id: int):
    """Replace the personal identifiers in a report's text by placeholders, for good."""
    if FlaskForm().validate_on_submit():
        removed = redact_report(report_id, current_user)
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
        message_reporter(report_id, current_user, form.body.data)
        flash(_("Your message is sent. The reporter sees it when they follow the report."))
    return redirect(url_for("triage.detail", report_id=report_id, _anchor="messages"))
