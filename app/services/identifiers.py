"""Personal identifiers in report text: scrubbed copies for exports, warnings, redaction.

Scrubbing runs once, when text is written (submission, redaction, retention),
and its result is stored beside the text, so an export of a million reports
reads finished columns instead of scanning every text again.
"""

from collections import Counter
from dataclasses import dataclass

from app.services.audit import record
from app.services.report_queries import get_report
from app.services.similarity import index_reports
from ml.pii import Finding, scrub
from models import Report, User, transaction


@dataclass(frozen=True)
class Deidentified:
    text: str
    suggestion: str | None
    findings: list[Finding]


def deidentify(text: str, suggestion: str | None) -> Deidentified:
    """`text` and `suggestion` with every identifier replaced by its placeholder."""
    clean_text, in_text = scrub(text)
    clean_suggestion, in_suggestion = scrub(suggestion) if suggestion else (suggestion, [])
    return Deidentified(clean_text, clean_suggestion, in_text + in_suggestion)


def deidentified_columns(text: str, suggestion: str | None) -> dict[str, object]:
    """The Report columns that hold the scrubbed copies of `text` and `suggestion`."""
    result = deidentify(text, suggestion)
    return {"text_deidentified": result.text, "suggestion_deidentified": result.suggestion,
            "identifiers_found": len(result.findings)}


def identifier_kinds(report: Report) -> Counter[str]:
    """How many identifiers of each kind the report's text and suggestion hold."""
    if not report.identifiers_found:
        return Counter()
    return Counter(finding.kind for finding in deidentify(report.text, report.suggestion).findings)


def redact_report(report_id: int, actor: User) -> Counter[str]:
    """Replace the identifiers in a report's own text by placeholders, for good.

    The audit entry says how many of each kind were removed, never what they were.
    """
    with transaction():
        report = get_report(report_id)
        result = deidentify(report.text, report.suggestion)
        removed = Counter(finding.kind for finding in result.findings)
        if removed:
            report.text, report.suggestion = result.text, result.suggestion
            report.text_deidentified = result.text
            report.suggestion_deidentified = result.suggestion
            report.identifiers_found = 0
            index_reports([report_id])
            record("report.redact", actor, "report", report_id, **removed)
    return removed
