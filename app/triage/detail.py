"""What the report page shows besides the report: its panels, the decision form's
starting values, the way through the queue and the smaller forms (hand-offs,
comments, messages, redaction), each its own act."""

from flask import url_for
from flask_wtf import FlaskForm

from app.admin.forms import ACTION_NAMES
from app.known_issues import report_panels
from app.reports.forms import MessageForm
from app.services.classification import explain_report
from app.services.identifiers import identifier_kinds
from app.services.messages import messages_for
from app.services.triage import Neighbours
from app.services.workflow import comments_for, history
from app.triage.forms import BAND_NAMES, CommentForm, DecisionForm, HandoffForm
from models import CATEGORIES, Report, utcnow


def decision_defaults(report: Report) -> dict:
    """The decision form's values before a person changes them: the report's own."""
    return dict(categories=report.categories, status=report.status,
                assignee=str(report.assignee_id or ""),
                consequence=str(report.consequence or ""),
                likelihood=str(report.likelihood or ""))


def _model_categories(report: Report) -> list[str]:
    """The categories of the model's last prediction (a person's decision may differ)."""
    latest = [label for label in report.labels if label.source == "model"][-len(CATEGORIES):]
    return [label.category for label in latest if label.value]


def _link(report_id: int | None, queue_args: dict[str, str]) -> str | None:
    return None if report_id is None else url_for("triage.detail", report_id=report_id,
                                                  **queue_args)


def detail_context(report: Report, form: DecisionForm, neighbours: Neighbours,
                   queue_args: dict[str, str]) -> dict:
    """The template context of triage/detail.html for `report`, with the decision `form`
    and the queue it was opened from (`queue_args`, checked by the queue's form).

    The small forms post elsewhere: they show the report's values, never this post's.
    """
    explanation = explain_report(report)
    return dict(
        report=report, form=form, explanation=explanation,
        bands=explanation.bands if explanation else [], band_names=BAND_NAMES,
        queue_args=queue_args,
        model_categories=_model_categories(report),
        messages=messages_for(report.id),
        message_form=MessageForm(), identifiers=identifier_kinds(report),
        redact_form=FlaskForm(), now=utcnow(), comments=comments_for(report.id),
        history=history(report.id), comment_form=CommentForm(formdata=None),
        handoff_form=HandoffForm(formdata=None, obj=report),
        queue_url=url_for("triage.queue", **queue_args),
        previous_url=_link(neighbours.previous, queue_args),
        next_url=_link(neighbours.next, queue_args),
        action_url=url_for("triage.detail", report_id=report.id, **queue_args),
        action_names=ACTION_NAMES, **report_panels(report))
