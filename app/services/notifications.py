"""E-mail to the coordinators who opted in, when an alert is raised.

The message holds the alert's title, its counts and units, and a link (under
PUBLIC_URL); never report text (an emerging issue's title is made by the grouping
from de-identified text). It is sent after the alert is committed. An alert counts
as notified once every recipient's message was handed to the SMTP server; a failed
send is logged and leaves `notified_at` empty, so the next evaluation tries again.
Without MAIL_SERVER nothing is sent (logged once per process).

Standard library only: smtplib and email.message.
"""

import logging
import smtplib
from contextlib import nullcontext
from email.message import EmailMessage

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from app.jobs import enqueue, job
from app.services.alert_text import alert_path, evidence_in_words, install_language
from app.services.audit import record
from models import Alert, AlertState, Role, User, db, transaction, utcnow

log = logging.getLogger(__name__)
_unconfigured_logged = False


def recipients() -> list[str]:
    """The e-mail addresses of the active coordinators who opted in."""
    return list(db.session.scalars(
        select(User.email).where(User.role == Role.COORDINATOR, User.active.is_(True),
                                 User.notify_alerts.is_(True)).order_by(User.email)))


def pending_alerts() -> list[Alert]:
    """New, uncleared alerts whose e-mail has not gone out yet, oldest first."""
    return list(db.session.scalars(
        select(Alert).where(Alert.notified_at.is_(None), Alert.cleared_at.is_(None),
                            Alert.state == AlertState.NEW).order_by(Alert.id)))


def notify_pending() -> int:
    """E-mail the opted-in coordinators about every pending alert; how many were notified."""
    alerts = pending_alerts()
    if not alerts or not _configured():
        return 0
    to = recipients()
    notified = 0
    try:
        with _connect() if to else nullcontext() as smtp:
            for alert in alerts:
                for address in to:
                    with install_language():
                        mail = message(alert, address)
                    smtp.send_message(mail)
                _mark_notified(alert.id)
                notified += 1
    except (OSError, smtplib.SMTPException) as error:
        log.warning("alert e-mail not sent (%s); %d alert(s) left to retry",
                    error, len(alerts) - notified)
    return notified


class AlertMailNotSent(RuntimeError):
    """Some pending alert's e-mail did not go out: the job is retried."""


@job()
def send_alert_emails() -> None:
    """The job: e-mail every pending alert; raises to be retried when some are left."""
    notify_pending()
    if _configured() and recipients() and pending_alerts():
        raise AlertMailNotSent("alert e-mail left unsent; see the log")


def notify_later() -> None:
    """Enqueue the e-mail job (after the alerts are committed)."""
    enqueue(send_alert_emails)


def _configured() -> bool:
    global _unconfigured_logged
    if current_app.config.get("MAIL_SERVER"):
        return True
    if not _unconfigured_logged:
        log.info("MAIL_SERVER is not set: alerts are not e-mailed")
        _unconfigured_logged = True
    return False


def _connect() -> smtplib.SMTP:
    config = current_app.config
    smtp = smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"],
                        timeout=config["MAIL_TIMEOUT_S"])
    try:
        if config["MAIL_USE_STARTTLS"]:
            smtp.starttls()
        if config["MAIL_USERNAME"]:
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
    except BaseException:
        smtp.close()
        raise
    return smtp


def message(alert: Alert, address: str) -> EmailMessage:
    """The e-mail about `alert` to one coordinator: title, evidence in words and a link."""
    mail = EmailMessage()
    mail["Subject"] = _("Vaka alert: %(title)s", title=alert.title)
    mail["From"] = current_app.config["MAIL_FROM"]
    mail["To"] = address
    evidence = alert.evidence or {}
    lines = [alert.title, "", evidence_in_words(alert), ""]
    if evidence.get("units"):
        lines.append(_("Units: %(units)s", units=", ".join(evidence["units"])))
    lines.append(_("Reports: %(num)d", num=len(evidence.get("report_ids", []))))
    lines.append(_("Raised at %(moment)s (UTC).",
                   moment=alert.raised_at.isoformat(sep=" ", timespec="minutes")))
    lines += ["", current_app.config["PUBLIC_URL"].rstrip("/") + alert_path(alert)]
    mail.set_content("\n".join(lines) + "\n")
    return mail


def _mark_notified(alert_id: int) -> None:
    with transaction():
        db.session.get(Alert, alert_id).notified_at = utcnow()


def set_alert_emails(user: User, enabled: bool) -> None:
    """A coordinator opts in to (or out of) the alert e-mails."""
    with transaction():
        db.session.get(User, user.id).notify_alerts = enabled
        record("user.notify_alerts", user, "user", user.id, enabled=enabled)
