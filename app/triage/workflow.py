"""The detail page's workflow forms: assignment, status, risk, hand-offs, internal comments.

Each posts here and comes back to the report's page with a message; input the
form refuses is flashed and changes nothing.
"""

from collections.abc import Callable

from flask import flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from app.auth.access import permission_required
from app.forms import flash_errors
from app.services import ServiceError
from app.services.report_queries import get_report
from app.services.workflow import (
    add_comment,
    assess_risk,
    assign,
    coordinators,
    set_handoffs,
    set_status,
)
from app.triage.forms import AssignForm, CommentForm, HandoffForm, RiskForm, StatusForm
from app.triage.routes import bp


def _apply(report_id: int, form: FlaskForm, change: Callable[[], object], done: str,
           anchor: str = "workflow") -> Response:
    """Make the change if the form is valid, flash the outcome, go back to the report."""
    get_report(report_id)  # or the 404 page
    if not form.validate_on_submit():
        flash_errors(form)
    else:
        try:
            change()
        except ServiceError:
            flash(_("Nothing was changed: the input was not valid."))
        else:
            flash(done)
    return redirect(url_for("triage.detail", report_id=report_id, _anchor=anchor))


@bp.post("/reports/<int:report_id>/assign")
@permission_required("triage")
def assign_report(report_id: int) -> Response:
    form = AssignForm(coordinators())
    return _apply(report_id, form,
                  lambda: assign([report_id], form.assignee_id, current_user),
                  _("The assignment is saved."))


@bp.post("/reports/<int:report_id>/status")
@permission_required("triage")
def change_status(report_id: int) -> Response:
    form = StatusForm()
    return _apply(report_id, form, lambda: set_status([report_id], form.status.data, current_user),
                  _("The status is saved."))


@bp.post("/reports/<int:report_id>/risk")
@permission_required("triage")
def assess(report_id: int) -> Response:
    form = RiskForm()
    return _apply(report_id, form,
                  lambda: assess_risk(report_id, int(form.consequence.data),
                                      int(form.likelihood.data), current_user),
                  _("The risk assessment is saved; the due time follows it."))


@bp.post("/reports/<int:report_id>/handoffs")
@permission_required("triage")
def handoffs(report_id: int) -> Response:
    form = HandoffForm()
    return _apply(report_id, form,
                  lambda: set_handoffs(report_id, current_user, form.lex_maria.data,
                                       form.medical_products_agency.data,
                                       form.data_protection_authority.data,
                                       form.vendor_ticket.data, form.deviation_id.data),
                  _("The hand-offs are saved."))


@bp.post("/reports/<int:report_id>/comments")
@permission_required("triage")
def comment(report_id: int) -> Response:
    form = CommentForm()
    return _apply(report_id, form, lambda: add_comment(report_id, current_user, form.body.data),
                  _("Your comment is saved. Only the coordination group sees it."),
                  anchor="comments")
