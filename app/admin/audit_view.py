"""The audit log's events as people read them: each recorded detail as a named field, with
its earlier value where the event kept one, values named in the visitor's language."""

from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l

from app.admin.forms import ROLE_NAMES
from app.forms import AREA_NAMES, CATEGORY_NAMES, IMPACT_NAMES, STATUS_NAMES
from app.services.audit import event_changes
from models import AuditEvent

#: Translated names of the details events record (a nested one by its last part).
FIELD_NAMES = {
    "role": _l("Role"), "status": _l("Status"), "statuses": _l("Status"),
    "name": _l("Name"), "email": _l("E-mail"), "method": _l("Login method"),
    "score": _l("Risk score"), "consequence": _l("Consequence"),
    "likelihood": _l("Likelihood"), "due_at": _l("Due"),
    "categories": _l("Categories"), "areas": _l("Affected area"),
    "impacts": _l("Patient impact"), "unit_ids": _l("Units"), "language": _l("Language"),
    "date_from": _l("From"), "date_to": _l("To"), "overdue": _l("Overdue only"),
    "search": _l("Search"), "kind": _l("Kind"),
    "assignee": _l("Assignee"), "assignee_id": _l("Assignee id"),
    "known_issue": _l("Known issue"), "emerging_issue": _l("Emerging issue"),
    "model_version": _l("Model version"), "into": _l("Into"), "split_from": _l("Split from"),
    "reports": _l("Reports"), "report": _l("Report"), "rows": _l("Rows"),
    "format": _l("Format"), "bom": _l("Byte order mark"), "project": _l("Project"),
    "sha256": _l("SHA-256"), "complete": _l("Complete"), "min_cell": _l("Smallest count shown"),
    "cells": _l("Cells"), "suppressed": _l("Suppressed"), "enabled": _l("Alert e-mails"),
    "message_id": _l("Message"), "comment_id": _l("Comment"), "update_id": _l("Update"),
    "lex_maria": _l("Lex Maria"), "medical_products_agency": _l("Medical Products Agency"),
    "data_protection_authority": _l("Data protection authority"),
    "vendor_ticket": _l("Vendor ticket"), "deviation_id": _l("Deviation id"),
    "messages": _l("Messages"), "automatic": _l("By the grouping"), "merged": _l("By a merge"),
}
#: The details whose values have translated names.
VALUE_NAMES: dict[str, dict] = {
    "role": ROLE_NAMES, "status": STATUS_NAMES, "statuses": STATUS_NAMES,
    "categories": CATEGORY_NAMES, "areas": AREA_NAMES, "impacts": IMPACT_NAMES,
    "method": {"password": _l("Password")},
}


@dataclass(frozen=True)
class ShownChange:
    field: str
    #: None: the event kept no earlier value.
    before: str | None
    after: str


def shown_changes(event: AuditEvent) -> list[ShownChange]:
    """An event's recorded details, named and written out for the audit page."""
    shown = []
    for change in event_changes(event):
        group, _dot, name = change.field.rpartition(".")
        label = str(FIELD_NAMES.get(name, name.replace("_", " ")))
        if group == "filters":
            label = str(_l("Filter: %(name)s", name=label))
        names = VALUE_NAMES.get(name, {})
        before = None if change.before is None else _value(change.before, names)
        shown.append(ShownChange(label, before, _value(change.after, names)))
    return shown


def _value(value: Any, names: dict) -> str:
    if isinstance(value, bool):
        return str(_l("Yes") if value else _l("No"))
    if isinstance(value, list):
        return ", ".join(_value(item, names) for item in value)
    return str(names.get(value, value))
