"""Reports as FHIR R4 AdverseEvent resources, one at a time or as a Bundle for a filter.

What a resource holds is what the research export gives (app/services/export.py),
in FHIR's words: the de-identified text only, never the raw text; no reporter,
for a named report neither (the export names none); times no finer than the
export's (when it happened as stored, to the hour for an anonymous report; the
day it was sent, never the time); the report's number, or a research project's
pseudonyms for the report and its unit. The mapping, element by element, is in
the README ("FHIR AdverseEvent").

Codes come from HL7's code systems where one fits (category, seriousness,
severity, outcome); Vaka's own concepts (its categories, affected areas, patient
impact and handling status) have Vaka code systems under `VAKA_FHIR`.
"""

import hashlib
import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from html import escape
from itertools import islice

from flask import current_app
from sqlalchemy.orm import joinedload

from app.services import NotFound
from app.services.audit import record
from app.services.export import check_project, pseudonym, pseudonym_key
from app.services.report_queries import ReportFilters, filtered_reports
from app.times import zone
from models import Impact, Report, User, db

#: Where Vaka's own code systems and extensions are named: the same in every installation.
VAKA_FHIR = "https://vaka.example/fhir"
HL7_TERMINOLOGY = "http://terminology.hl7.org/CodeSystem"

#: Vaka's categories in HL7's adverse-event-category, where one fits (safety has none).
HL7_CATEGORIES = {
    "functionality": ("product-problem", "Product Problem"),
    "training": ("product-use-error", "Product Use Error"),
}
#: Patient impact as HL7's adverse-event-seriousness ("unknown" says nothing about it).
SERIOUSNESS = {
    Impact.HARM: ("Serious", "Serious"),
    Impact.NEAR_MISS: ("Non-serious", "Non-serious"),
    Impact.NONE: ("Non-serious", "Non-serious"),
}
#: Patient impact as HL7's adverse-event-outcome: Vaka does not follow a harmed patient.
OUTCOMES = {
    Impact.HARM: ("unknown", "Unknown"),
    Impact.UNKNOWN: ("unknown", "Unknown"),
    Impact.NEAR_MISS: ("resolved", "Resolved"),
    Impact.NONE: ("resolved", "Resolved"),
}
#: A coordinator's consequence rating (1-4) as HL7's adverse-event-severity.
SEVERITIES = {1: ("mild", "Mild"), 2: ("moderate", "Moderate"), 3: ("severe", "Severe"),
              4: ("severe", "Severe")}
#: Impacts that do not rule out that the event reached and harmed a patient.
ACTUAL_IMPACTS = frozenset({Impact.HARM, Impact.UNKNOWN})
#: An AdverseEvent needs a subject; a report names no patient.
SUBJECT = {"display": "Patient not identified (Vaka reports name no patient)"}


def code_system(name: str) -> str:
    return f"{VAKA_FHIR}/CodeSystem/{name}"


def extension_url(name: str) -> str:
    return f"{VAKA_FHIR}/StructureDefinition/{name}"


@dataclass(frozen=True)
class Naming:
    """How resources name reports and units: by number and name, or by a research
    project's pseudonyms (the export's, so the two can be joined within a project)."""

    report_system: str
    known_issue_system: str
    key: bytes | None = None

    def report_id(self, report: Report) -> str:
        return pseudonym(self.key, "report", report.id) if self.key else str(report.id)

    def report_value(self, report: Report) -> str:
        return pseudonym(self.key, "report", report.id) if self.key else report.reference

    def unit_name(self, report: Report) -> str:
        return pseudonym(self.key, "unit", report.unit_id) if self.key else report.unit.name


def naming(project: str | None = None) -> Naming:
    """This installation's naming (identifiers under PUBLIC_URL), pseudonymous for `project`."""
    base = current_app.config["PUBLIC_URL"].rstrip("/")
    known_issues = f"{base}/known-issues"
    if project is None:
        return Naming(f"{base}/reports", known_issues)
    check_project(project)
    return Naming(f"{base}/export/{project}/reports", known_issues, pseudonym_key(project))


def _coding(system: str, code: str, display: str | None = None) -> dict:
    coding = {"system": system, "code": code}
    if display:
        coding["display"] = display
    return coding


def _concept(*codings: dict, text: str | None = None) -> dict:
    concept: dict = {"coding": list(codings)}
    if text:
        concept["text"] = text
    return concept


def _category(category: str) -> dict:
    codings = [_coding(code_system("category"), category, category.capitalize())]
    if category in HL7_CATEGORIES:
        codings.append(_coding(f"{HL7_TERMINOLOGY}/adverse-event-category",
                               *HL7_CATEGORIES[category]))
    return _concept(*codings, text=category)


#: Characters XML 1.0 does not allow (the narrative is XHTML); a text may hold them.
NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
REPLACEMENT = "\N{REPLACEMENT CHARACTER}"


def _narrative(report: Report) -> dict:
    """The de-identified text (and suggestion) as the resource's narrative, escaped."""
    if report.text_removed_on is not None:
        paragraphs = [f"Text removed on {report.text_removed_on.isoformat()} under the "
                      "retention rule."]
    else:
        paragraphs = [report.text_deidentified or "(no text)"]
        if report.suggestion_deidentified:
            paragraphs.append(f"Suggestion: {report.suggestion_deidentified}")
    body = "".join(f"<p>{escape(NOT_XML.sub(REPLACEMENT, paragraph))}</p>"
                   for paragraph in paragraphs)
    return {"status": "additional",
            "div": f'<div xmlns="http://www.w3.org/1999/xhtml">{body}</div>'}


def _occurred(moment: datetime) -> str:
    """When it happened, as typed (wall-clock time in TIME_ZONE), with its offset."""
    return moment.replace(tzinfo=zone()).isoformat()


def _extensions(report: Report, names: Naming) -> list[dict]:
    extensions = [
        {"url": extension_url("patient-impact"),
         "valueCoding": _coding(code_system("patient-impact"), report.impact)},
        {"url": extension_url("handling-status"),
         "valueCoding": _coding(code_system("status"), report.status)},
    ]
    if report.known_issue_id is not None:
        extensions.append({"url": extension_url("known-issue"), "valueReference": {
            "identifier": {"system": names.known_issue_system,
                           "value": str(report.known_issue_id)},
            "display": f"Known issue {report.known_issue_id}"}})
    return extensions


def adverse_event(report: Report, names: Naming | None = None) -> dict:
    """One report as a FHIR R4 AdverseEvent (JSON-ready), de-identified as the export is."""
    names = names or naming()
    resource: dict = {
        "resourceType": "AdverseEvent",
        "id": names.report_id(report),
        "text": _narrative(report),
        "contained": [{"resourceType": "Location", "id": "unit",
                       "name": names.unit_name(report), "mode": "instance"}],
        "extension": _extensions(report, names),
        "identifier": {"system": names.report_system, "value": names.report_value(report)},
        "actuality": "actual" if report.impact in ACTUAL_IMPACTS else "potential",
    }
    if report.categories:
        resource["category"] = [_category(category) for category in report.categories]
    resource["event"] = _concept(_coding(code_system("area"), report.area),
                                 text=f"{report.kind}: {report.area}")
    resource["subject"] = dict(SUBJECT)
    resource["date"] = _occurred(report.occurred_at)
    resource["recordedDate"] = report.submitted_on.isoformat()
    resource["location"] = {"reference": "#unit"}
    if report.impact in SERIOUSNESS:
        resource["seriousness"] = _concept(_coding(
            f"{HL7_TERMINOLOGY}/adverse-event-seriousness", *SERIOUSNESS[report.impact]))
    if report.risk_confirmed and report.consequence in SEVERITIES:
        resource["severity"] = _concept(_coding(
            f"{HL7_TERMINOLOGY}/adverse-event-severity", *SEVERITIES[report.consequence]))
    resource["outcome"] = _concept(_coding(f"{HL7_TERMINOLOGY}/adverse-event-outcome",
                                           *OUTCOMES[report.impact]))
    return resource


def report_resource(report_id: int, actor: User | str | None,
                    project: str | None = None) -> dict:
    """The AdverseEvent of report `report_id`, audited as an export; NotFound if none."""
    names = naming(project)
    report = db.session.get(Report, report_id)
    if report is None:
        raise NotFound(f"no report {report_id}")
    resource = adverse_event(report, names)
    record("export.fhir", actor, object_type="report", object_id=report_id, project=project,
           rows=1)
    return resource


def adverse_events(filters: ReportFilters, names: Naming | None = None,
                   batch_size: int | None = None) -> Iterator[dict]:
    """The AdverseEvents of the reports matching `filters`, oldest first, read from the
    database a batch at a time (the session holds no more of them than the caller keeps)."""
    names = names or naming()
    batch_size = batch_size or current_app.config["EXPORT_BATCH_SIZE"]
    query = (filtered_reports(filters).options(joinedload(Report.unit))
             .order_by(Report.id).execution_options(yield_per=batch_size))
    with db.session.scalars(query) as result:  # a server-side cursor on PostgreSQL
        for batch in result.partitions():
            yield from (adverse_event(report, names) for report in batch)


def _entry(resource: dict) -> dict:
    """A Bundle entry; its fullUrl a UUID derived from the resource's identifier."""
    identifier = resource["identifier"]
    name = uuid.uuid5(uuid.NAMESPACE_URL, f"{identifier['system']}|{identifier['value']}")
    return {"fullUrl": f"urn:uuid:{name}", "resource": resource}


def _bundle_head() -> dict:
    return {"resourceType": "Bundle", "type": "collection",
            "timestamp": datetime.now(zone()).isoformat(timespec="seconds")}


@dataclass
class Manifest:
    """What the audit log keeps of a FHIR export."""

    filters: dict
    project: str | None
    rows: int = 0
    sha256: str = ""
    complete: bool = False


def bundle(filters: ReportFilters, actor: User | str | None, project: str | None = None,
           batch_size: int | None = None) -> dict:
    """A collection Bundle of every matching report's AdverseEvent as one dict, audited
    (for a page of the API; `bundle_chunks` streams any number in constant memory)."""
    names = naming(project)
    entries = [_entry(resource) for resource in adverse_events(filters, names, batch_size)]
    record("export.fhir", actor, **asdict(Manifest(
        filters=asdict(filters), project=project, rows=len(entries), complete=True)))
    # FHIR allows no empty lists: a Bundle of no reports has no "entry".
    return {**_bundle_head(), **({"entry": entries} if entries else {})}


def bundle_chunks(filters: ReportFilters, actor: User | str | None, project: str | None = None,
                  batch_size: int | None = None) -> Iterator[bytes]:
    """The same Bundle as UTF-8 JSON, a batch of entries at a time; audited when it ends
    (as incomplete, with the entries sent so far, if it is broken off). A bad project
    name raises ServiceError here, before anything is sent."""
    names = naming(project)
    return _streamed(filters, names, Manifest(filters=asdict(filters), project=project),
                     actor, batch_size or current_app.config["EXPORT_BATCH_SIZE"])


def _streamed(filters: ReportFilters, names: Naming, manifest: Manifest, actor: User | str | None,
              batch_size: int) -> Iterator[bytes]:
    encode = json.JSONEncoder(ensure_ascii=False).encode
    resources = adverse_events(filters, names, batch_size)
    pieces = _bundle_pieces(encode(_bundle_head()),
                            (encode(_entry(resource)) for resource in resources), batch_size)
    digest = hashlib.sha256()
    try:
        for data, rows in pieces:
            digest.update(data)
            manifest.rows += rows
            yield data
        manifest.complete = True
    finally:
        pieces.close()
        resources.close()  # and with it the cursor, before the audit entry's transaction
        manifest.sha256 = digest.hexdigest()
        record("export.fhir", actor, **asdict(manifest))


def _bundle_pieces(head: str, entries: Iterator[str],
                   size: int) -> Iterator[tuple[bytes, int]]:
    """The Bundle's JSON text with how many entries each piece holds: the head, the
    entries `size` at a time (the list opened before the first, as FHIR allows no
    empty list) and the closing brackets."""
    yield head.removesuffix("}").encode(), 0
    separator = ', "entry": ['
    while chunk := list(islice(entries, size)):
        yield (separator + ", ".join(chunk)).encode(), len(chunk)
        separator = ", "
    yield (b"}\n" if separator != ", " else b"]}\n"), 0
