"""What the report detail page shows besides the report: its panels and the workflow forms."""

from flask_wtf import FlaskForm

from app.admin.forms import ACTION_NAMES
from app.known_issues import report_panels
from app.reports.forms import MessageForm
from app.services.classification import explain_report
from app.services.identifiers import identifier_kinds
from app.services.messages import messages_for
from app.services.workflow import comments_for, coordinators, history
from app.triage.forms import AssignForm, CommentForm, HandoffForm, ReviewForm, RiskForm, StatusForm
from models import Report, utcnow


def detail_context(report: Report, form: ReviewForm) -> dict:
    """The template context of triage/detail.html for `report`, with the review `form`.

    The workflow forms post elsewhere: they show the report's values, never this post's.
    """
    return dict(
        report=report, form=form,
        explanation=explain_report(report), messages=messages_for(report.id),
        message_form=MessageForm(), identifiers=identifier_kinds(report),
        redact_form=FlaskForm(), now=utcnow(), comments=comments_for(report.id),
        history=history(report.id), comment_form=CommentForm(formdata=None),
        assign_form=AssignForm(coordinators(), formdata=None,
                               assignee=str(report.assignee_id or "")),
        status_form=StatusForm(formdata=None, status=report.status),
        risk_form=RiskForm(formdata=None, consequence=str(report.consequence or ""),
                           likelihood=str(report.likelihood or "")),
        handoff_form=HandoffForm(formdata=None, obj=report),
        action_names=ACTION_NAMES, **report_panels(report))
