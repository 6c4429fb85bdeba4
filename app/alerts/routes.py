from collections.abc import Callable

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug import Response

from app.alerts.forms import ALERT_STATE_NAMES, LinkForm, NotificationForm
from app.auth.access import permission_required
from app.forms import flash_errors
from app.guards import reject_unknown_args
from app.services import NotFound, ServiceError
from app.services.alert_text import alert_links, evidence_in_words
from app.services.alerts import dismiss, link, mark_seen, stored_alerts
from app.services.known_issues import other_open_issues
from app.services.notifications import set_alert_emails

bp = Blueprint("alerts", __name__, url_prefix="/alerts")


def _open_issues() -> list[tuple[int, str]]:
    return [(issue.id, issue.title) for issue in other_open_issues()]


@bp.get("")
@permission_required("triage")
def index():
    reject_unknown_args(set())
    alerts = stored_alerts()
    return render_template(
        "alerts/index.html", alerts=alerts,
        words={alert.id: evidence_in_words(alert) for alert in alerts},
        links={alert.id: alert_links(alert) for alert in alerts},
        action_form=FlaskForm(), link_form=LinkForm(_open_issues(), formdata=None),
        notification_form=NotificationForm(formdata=None,
                                           notify_alerts=current_user.notify_alerts),
        state_names=ALERT_STATE_NAMES)


def _change(form: FlaskForm, change: Callable[[], object], done: str, alert_id: int) -> Response:
    """Make the change if the form is valid, flash the outcome, go back to the alert."""
    if not form.validate_on_submit():
        flash_errors(form)
    else:
        try:
            change()
        except NotFound:
            flash(_("Nothing was changed: that alert does not exist."))
        except ServiceError as error:
            flash(_("Nothing was changed: %(reason)s", reason=error))
        else:
            flash(done)
    return redirect(url_for("alerts.index", _anchor=f"alert-{alert_id}"))


@bp.post("/<int:alert_id>/seen")
@permission_required("triage")
def seen(alert_id: int) -> Response:
    return _change(FlaskForm(), lambda: mark_seen(alert_id, current_user),
                   _("The alert is marked seen."), alert_id)


@bp.post("/<int:alert_id>/dismiss")
@permission_required("triage")
def dismissal(alert_id: int) -> Response:
    return _change(FlaskForm(), lambda: dismiss(alert_id, current_user),
                   _("The alert is dismissed."), alert_id)


@bp.post("/<int:alert_id>/link")
@permission_required("triage")
def linking(alert_id: int) -> Response:
    form = LinkForm(_open_issues())
    return _change(form, lambda: link(alert_id, int(form.known_issue.data), current_user),
                   _("The alert is linked to the known issue."), alert_id)


@bp.post("/notifications")
@permission_required("triage")
def notifications() -> Response:
    form = NotificationForm()
    if form.validate_on_submit():
        set_alert_emails(current_user, form.notify_alerts.data)
        flash(_("You will get an e-mail when an alert is raised.") if form.notify_alerts.data
              else _("You will get no alert e-mails."))
    else:
        flash_errors(form)
    return redirect(url_for("alerts.index"))
