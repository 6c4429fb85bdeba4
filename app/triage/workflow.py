"""The report page's smaller forms, each its own act: hand-offs and internal comments.

(The decision itself, with categories, status, assignee and risk, is one form:
app/triage/routes.py `detail`.) Each posts here and comes back to the report's
page, with the queue's filters it was opened with, and a message; input the
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
from app.services.workflow import add_comment, set_handoffs
from app.triage.forms import CommentForm, HandoffForm
from app.triage.routes import bp, carried_queue


def _apply(report_id: int, form: FlaskForm, change: Callable[[], object], done: str,
           anchor: str = "handoffs") -> Response:
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
    queue_args = carried_queue()[1]
    return redirect(url_for("triage.detail", report_id=report_id, _anchor=anchor, **queue_args))


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
