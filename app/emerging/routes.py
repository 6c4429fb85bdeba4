"""Emerging issues: the list of undecided groups, each group's page, and the decisions.

Every decision posts here and goes back with a message; input the form or the
service refuses is flashed and changes nothing.
"""

from collections.abc import Callable

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from app.auth.access import permission_required
from app.emerging.forms import (
    EMERGING_STATUS_NAMES,
    ConfirmForm,
    DismissForm,
    MergeForm,
    MoveOutForm,
    PageForm,
    SplitForm,
)
from app.forms import flash_errors
from app.guards import reject_unknown_args
from app.services import NotFound, ServiceError
from app.services.grouping import (
    GROWTH_HOURS,
    AlreadyDecided,
    confirm,
    dismiss,
    figures,
    forming_count,
    get_emerging_issue,
    member_page,
    merge_into,
    move_out,
    open_page,
    split,
)
from app.services.known_issues import IssueResolved, other_open_issues

bp = Blueprint("emerging", __name__, url_prefix="/emerging-issues")

#: Members shown per page of an emerging issue.
MEMBERS_PER_PAGE = 50


def _page_number() -> int:
    form = PageForm(formdata=request.args)
    reject_unknown_args(set(form.data))
    return form.page.data or 1 if form.validate() else 1


@bp.get("/")
@permission_required("triage")
def index():
    page = open_page(_page_number(), per_page=current_app.config["QUEUE_PAGE_SIZE"])
    return render_template("emerging/index.html", page=page,
                           figures=figures(group.id for group in page.items),
                           growth_hours=GROWTH_HOURS, forming=forming_count())


@bp.get("/<int:group_id>")
@permission_required("triage")
def detail(group_id: int):
    group = get_emerging_issue(group_id)
    page = member_page(group_id, _page_number(), per_page=MEMBERS_PER_PAGE)
    return render_template(
        "emerging/detail.html", group=group, page=page, figures=figures([group_id])[group_id],
        growth_hours=GROWTH_HOURS, status_names=EMERGING_STATUS_NAMES,
        confirm_form=ConfirmForm(formdata=None, title=group.title),
        merge_form=MergeForm(other_open_issues(), formdata=None),
        split_form=SplitForm(formdata=None, prefix="split"), dismiss_form=DismissForm(),
        move_out_form=MoveOutForm(formdata=None))


def _decide(form: FlaskForm, decision: Callable[[], object], done: Callable[[object], str],
            group_id: int, after: Callable[[object], str] | None = None,
            refused: str | None = None) -> Response:
    """Make the decision if the form is valid, flash the outcome and go back (or `after`).

    `refused` is the message for input the service refuses.
    """
    back = url_for("emerging.detail", group_id=group_id)
    if not form.validate_on_submit():
        flash_errors(form)
        return redirect(back)
    try:
        outcome = decision()
    except AlreadyDecided:
        flash(_("Nothing was changed: the emerging issue is decided already."))
    except IssueResolved:
        flash(_("Nothing was changed: the known issue is resolved. Reopen it first."))
    except NotFound:
        flash(_("Nothing was changed: that known issue does not exist."))
    except ServiceError:
        flash(refused or _("Nothing was changed: the input was not valid."))
    else:
        flash(done(outcome))
        return redirect(after(outcome) if after else back)
    return redirect(back)


def _known_issue_page(issue) -> str:
    return url_for("known_issues.detail", issue_id=issue.id)


@bp.post("/<int:group_id>/confirm")
@permission_required("triage")
def confirm_group(group_id: int) -> Response:
    get_emerging_issue(group_id)  # or the 404 page
    form = ConfirmForm()
    return _decide(form, lambda: confirm(group_id, form.title.data, current_user),
                   lambda _issue: _("The emerging issue is a known issue now, with all its "
                                    "reports."), group_id, after=_known_issue_page)


@bp.post("/<int:group_id>/merge")
@permission_required("triage")
def merge_group(group_id: int) -> Response:
    get_emerging_issue(group_id)  # or the 404 page
    form = MergeForm([])
    return _decide(form, lambda: merge_into(group_id, form.target.data, current_user),
                   lambda moved: ngettext("The emerging issue is merged: %(num)d report moved "
                                          "into the known issue.",
                                          "The emerging issue is merged: %(num)d reports moved "
                                          "into the known issue.", moved),
                   group_id,
                   after=lambda _moved: url_for("known_issues.detail",
                                                issue_id=form.target.data))


@bp.post("/<int:group_id>/split")
@permission_required("triage")
def split_group(group_id: int) -> Response:
    get_emerging_issue(group_id)  # or the 404 page
    form = SplitForm(prefix="split")
    return _decide(form, lambda: split(group_id, form.report_ids.data, current_user),
                   lambda _new: _("The selected reports form an emerging issue of their own."),
                   group_id, after=lambda new: url_for("emerging.detail", group_id=new.id),
                   refused=_("Nothing was changed: tick reports of this emerging issue, and "
                             "leave at least one in it."))


@bp.post("/<int:group_id>/dismiss")
@permission_required("triage")
def dismiss_group(group_id: int) -> Response:
    get_emerging_issue(group_id)  # or the 404 page
    return _decide(DismissForm(), lambda: dismiss(group_id, current_user),
                   lambda _group: _("The emerging issue is dismissed."), group_id,
                   after=lambda _group: url_for("emerging.index"))


@bp.post("/<int:group_id>/move-out")
@permission_required("triage")
def move_out_report(group_id: int) -> Response:
    get_emerging_issue(group_id)  # or the 404 page
    form = MoveOutForm()
    return _decide(form, lambda: move_out(group_id, form.report_id.data, current_user),
                   lambda _group: _("The report is out of this emerging issue, and reports "
                                    "like it will not join it."), group_id,
                   refused=_("Nothing was changed: that report is not in this emerging "
                             "issue."))
