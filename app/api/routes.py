"""The API's operations: thin views over the same services as the pages.

Each view's decorators say everything the OpenAPI document tells about it: its path
and method, its request and response models (`operation`), and the scope its token
needs (`token_required`, a permission name of app/auth/access.py).
"""

import json
from datetime import datetime

from flask import Response, current_app, render_template, stream_with_context
from flask_babel import force_locale

from app.api import FILE_RESPONSES, PREFIX, bp, openapi_document, operation
from app.api.auth import calling_token, current_token, token_required
from app.api.problems import TYPE_BASE, ApiProblem
from app.api.reference import reference as api_reference
from app.api.schemas import (
    ID_MAX,
    AlertList,
    AlertOut,
    ExportQuery,
    FhirBundleQuery,
    FhirQuery,
    FieldError,
    IssueBrief,
    KnownIssueOut,
    KnownIssuePageOut,
    KnownIssueQuery,
    NewReport,
    QueuePageOut,
    QueueQuery,
    ReceiptQuery,
    ReceiptStatus,
    ReportFilter,
    ReportOut,
    SubmittedReport,
    UnitOut,
)
from app.auth.access import PERMISSIONS
from app.reports.forms import CLOCK_SKEW, EARLIEST
from app.services import NotFound, ServiceError
from app.services.alerts import open_alerts
from app.services.api_tokens import actor_label
from app.services.audit import record
from app.services.drafts import ReportDraft, report_for_receipt
from app.services.export import ExportOptions, Format, export_file
from app.services.fhir import bundle_chunks, report_resource
from app.services.known_issues import issue_page
from app.services.report_queries import ReportFilters, get_report, search_words
from app.services.reports import submit_report
from app.services.triage import queue_page
from app.services.units import unit_choices
from app.services.users import find_user
from app.throttle import api_auth_per_address, receipt_per_address
from app.triage.forms import OPEN
from models import OPEN_STATUSES, Report, User

#: The scope a token needs to send a report in someone's name.
REPORT_FOR_USER = "api.report_for_user"
KNOWN_ISSUES_PER_PAGE = 50
EXPORT_MEDIA_TYPES = {Format.JSONL: "application/jsonl", Format.CSV: "text/csv"}


def _invalid(field: str, message: str) -> ApiProblem:
    return ApiProblem(422, message, errors=[FieldError(field=field, message=message)])


# Reporting ----------------------------------------------------------------------------------

@bp.post("/reports")
@api_auth_per_address
@operation(201, SubmittedReport, json=NewReport)
def submit(json: NewReport):
    """Send a report

    Anonymous, like the report form without a login; or, with a token holding the scope
    `api.report_for_user`, in the name of the active account `reporter_email` names.
    The same checks as the form; the same `idempotency_key` gives the same report back.
    """
    named = json.reporter_email is not None
    token = calling_token(REPORT_FOR_USER if named else None, required=named)
    reporter = _named_reporter(json.reporter_email) if named else None
    submission = submit_report(_draft(json), reporter)
    if reporter is not None:
        record("report.submit_for_user", actor_label(token), "report", submission.report.id,
               reporter=reporter.email)
    return SubmittedReport(reference=submission.report.reference,
                           anonymous=reporter is None,
                           receipt_code=submission.receipt_code), 201


def _named_reporter(email: str) -> User:
    user = find_user(email)
    if user is None or not user.active or user.role not in PERMISSIONS["report.submit"].roles:
        raise _invalid("reporter_email", "No active account that may send named reports has "
                                         "this e-mail address.")
    return user


def _draft(report: NewReport) -> ReportDraft:
    if report.unit_id not in {unit_id for unit_id, _ in unit_choices()}:
        raise _invalid("unit_id", "No active unit has this id.")
    return ReportDraft(kind=report.kind, text=report.text, occurred_at=_occurrence(report),
                       unit_id=report.unit_id, area=report.area, impact=report.impact,
                       suggestion=report.suggestion, submission_token=report.idempotency_key,
                       known_issue_id=report.known_issue_id)


def _occurrence(report: NewReport) -> datetime:
    """When it happened in the server's local time, as the form's times are; checked as
    the form checks them."""
    now = datetime.now().replace(second=0, microsecond=0)
    if report.occurred_at is None:
        return now
    moment = report.occurred_at.astimezone().replace(tzinfo=None)
    if moment > now + CLOCK_SKEW:
        raise _invalid("occurred_at", "The time cannot be in the future.")
    if moment < EARLIEST:
        raise _invalid("occurred_at", "The date is too far back.")
    return moment


@bp.post("/receipt")
@receipt_per_address
@operation(200, ReceiptStatus, token=False, json=ReceiptQuery)
def receipt(json: ReceiptQuery):
    """Follow a report by its receipt code

    What the receipt page shows: reference, date, status and the known issue it is
    filed in. The code travels in the body, so it stays out of every access log.
    """
    try:
        report = report_for_receipt(json.receipt)
    except NotFound:
        raise ApiProblem(404, "No report matches that receipt code.") from None
    issue = report.known_issue
    return ReceiptStatus(reference=report.reference, submitted_on=report.submitted_on,
                         status=report.status,
                         known_issue=IssueBrief(title=issue.title, status=issue.status)
                         if issue else None)


# Coordinators' systems -----------------------------------------------------------------------

def _filters(query: ReportFilter) -> ReportFilters:
    status = query.status
    return ReportFilters(
        categories=frozenset([query.category] if query.category else []),
        statuses=frozenset(OPEN_STATUSES if status == OPEN else [status] if status else []),
        unit_ids=frozenset([query.unit] if query.unit else []),
        areas=frozenset([query.area] if query.area else []),
        impacts=frozenset([query.impact] if query.impact else []),
        language=query.language, date_from=query.date_from, date_to=query.date_to,
        assignee=query.assignee, known_issue=query.known_issue, overdue=query.overdue,
        search=search_words(query.q or ""))


def _report_out(report: Report) -> ReportOut:
    return ReportOut(
        id=report.id, reference=report.reference, kind=report.kind, text=report.text,
        suggestion=report.suggestion, unit=UnitOut(id=report.unit.id, name=report.unit.name),
        area=report.area, impact=report.impact, status=report.status,
        submitted_on=report.submitted_on, anonymous=report.is_anonymous,
        categories=report.categories, classified=report.is_classified,
        needs_review=report.needs_review, risk_score=report.risk_score, due_at=report.due_at,
        known_issue_id=report.known_issue_id, assignee_id=report.assignee_id)


@bp.get("/reports")
@api_auth_per_address
@token_required("triage")
@operation(200, QueuePageOut, query=QueueQuery)
def queue(query: QueueQuery):
    """The triage queue

    The queue page's filters and orders, a page of 25 at a time: pass `next_cursor`
    back as `after` for the next.
    """
    if query.q is not None and not search_words(query.q):
        raise _invalid("q", "Type at least one word to search for.")
    try:
        page = queue_page(_filters(query), query.order, query.after,
                          per_page=current_app.config["QUEUE_PAGE_SIZE"])
    except ServiceError:
        raise _invalid("after", "This page of the queue does not exist.") from None
    return QueuePageOut(reports=[_report_out(report) for report in page.reports],
                        next_cursor=page.next_cursor)


@bp.get(f"/reports/<int(min=1, max={ID_MAX}):report_id>")
@api_auth_per_address
@token_required("triage")
@operation(200, ReportOut)
def report(report_id: int):
    """One report

    Its text included, like the report page; the view is audited as the page's is.
    """
    found = get_report(report_id)
    record("report.view", actor_label(current_token()), "report", report_id)
    return _report_out(found)


@bp.get("/known-issues")
@api_auth_per_address
@token_required("triage")
@operation(200, KnownIssuePageOut, query=KnownIssueQuery)
def known_issues(query: KnownIssueQuery):
    """Known issues

    Newest first, 50 a page; `status` open or resolved (both if left out).
    """
    page = issue_page(query.status, query.page, KNOWN_ISSUES_PER_PAGE)
    return KnownIssuePageOut(
        known_issues=[KnownIssueOut(id=issue.id, title=issue.title,
                                    description=issue.description, status=issue.status,
                                    created_at=issue.created_at, resolved_at=issue.resolved_at)
                      for issue in page.items],
        page=query.page, pages=page.pages, total=page.total or 0)


@bp.get("/alerts")
@api_auth_per_address
@token_required("triage")
@operation(200, AlertList)
def alerts():
    """Open alerts

    The alerts still asking for attention (new or seen), emerging ones first.
    """
    return AlertList(alerts=[AlertOut(id=alert.id, kind=alert.kind, title=alert.title,
                                      state=alert.state, raised_at=alert.raised_at,
                                      known_issue_id=alert.known_issue_id)
                             for alert in open_alerts()])


@bp.get("/export")
@api_auth_per_address
@token_required("export.deidentified")
@operation(200, None, query=ExportQuery)
def export(query: ExportQuery):
    """The de-identified export

    The research export's file (JSON Lines by default, or CSV), with the queue's
    filters; audited with its manifest like a download from the export page.
    """
    try:
        options = ExportOptions(filters=_filters(query), format=Format(query.format),
                                project=query.project)
    except ServiceError as error:
        raise _invalid("project", str(error)) from None
    chunks = export_file(options, actor_label(current_token()))
    return Response(stream_with_context(chunks), mimetype=EXPORT_MEDIA_TYPES[options.format])


FILE_RESPONSES[f"{PREFIX}/export"] = sorted(EXPORT_MEDIA_TYPES.values())


# FHIR R4 (see README "FHIR AdverseEvent") ---------------------------------------------------

FHIR_MEDIA_TYPE = "application/fhir+json"


@bp.get(f"/fhir/AdverseEvent/<int(min=1, max={ID_MAX}):report_id>")
@api_auth_per_address
@token_required("export.deidentified")
@operation(200, None, query=FhirQuery)
def fhir_adverse_event(report_id: int, query: FhirQuery):
    """One report as a FHIR R4 AdverseEvent

    De-identified like the research export, and audited like it.
    """
    try:
        resource = report_resource(report_id, actor_label(current_token()), query.project)
    except NotFound:
        raise
    except ServiceError as error:
        raise _invalid("project", str(error)) from None
    return Response(json.dumps(resource, ensure_ascii=False), mimetype=FHIR_MEDIA_TYPE)


@bp.get("/fhir/AdverseEvent")
@api_auth_per_address
@token_required("export.deidentified")
@operation(200, None, query=FhirBundleQuery)
def fhir_bundle(query: FhirBundleQuery):
    """The reports matching the queue's filters as a FHIR R4 Bundle of AdverseEvents

    A collection Bundle, streamed; audited with its manifest like the export.
    """
    try:
        chunks = bundle_chunks(_filters(query), actor_label(current_token()), query.project)
    except ServiceError as error:
        raise _invalid("project", str(error)) from None
    return Response(stream_with_context(chunks), mimetype=FHIR_MEDIA_TYPE)


for _path in ("/fhir/AdverseEvent", "/fhir/AdverseEvent/{report_id}"):
    FILE_RESPONSES[PREFIX + _path] = [FHIR_MEDIA_TYPE]


# The description -----------------------------------------------------------------------------

@bp.get("/openapi.json")
def openapi():
    return openapi_document(current_app)


@bp.get("/reference")
def reference():
    """The OpenAPI document, readable, in English; the problem `type` URIs point into it."""
    with force_locale("en"):
        return render_template("api/reference.html", page=api_reference(
            openapi_document(current_app), TYPE_BASE))
