from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SelectField, SelectMultipleField, StringField
from wtforms.validators import Length, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from app.forms import (
    CATEGORY_NAMES,
    KIND_NAMES,
    LANGUAGE_NAMES,
    STATUS_NAMES,
    DateRangeForm,
    choices,
)
from app.services.export import CODEBOOK_LANGUAGES, PROJECT_NAME, ExportOptions, Format
from app.services.report_queries import ReportFilters

FORMAT_NAMES = {Format.CSV: _l("CSV (UTF-8)"), Format.JSONL: _l("JSON lines")}


def _checkboxes(label: str, names: dict) -> SelectMultipleField:
    """A multiple choice shown as checkboxes; none ticked means no filter."""
    return SelectMultipleField(label, choices=choices(names), widget=ListWidget(prefix_label=False),
                               option_widget=CheckboxInput(), validators=[Optional()])


class ExportForm(DateRangeForm):
    """What to export and how: filters, then format and pseudonyms."""

    unit = _checkboxes(_l("Units"), {})
    category = _checkboxes(_l("Categories"), CATEGORY_NAMES)
    status = _checkboxes(_l("Status"), STATUS_NAMES)
    kind = SelectField(_l("Type"), choices=choices(KIND_NAMES, blank=_l("All")), default="")
    language = SelectField(_l("Language"), choices=choices(LANGUAGE_NAMES, blank=_l("All")),
                           default="")
    format = SelectField(_l("Format"), choices=choices(FORMAT_NAMES), default=Format.CSV)
    bom = BooleanField(_l("For spreadsheets"),
                       description=_l("Starts the CSV file with a byte-order mark so that Excel "
                                      "reads it as UTF-8."))
    project = StringField(
        _l("Pseudonyms for project"),
        validators=[Optional(), Length(max=64),
                    Regexp(PROJECT_NAME.pattern + "$",
                           message=_l("Letters, digits, dots, dashes and underscores only."))],
        description=_l("Give a project name to get keyed pseudonyms instead of report references "
                       "and unit names. They stay the same for every export of that project."))

    codebook_language = SelectField(_l("Language of the codebook"),
                                    choices=choices(CODEBOOK_LANGUAGES))

    def __init__(self, units: list[tuple[int, str]], language: str, *args, **kwargs):
        """`language`: the codebook's language unless one is chosen (the page's)."""
        super().__init__(*args, **kwargs)
        self.unit.choices = choices({str(i): name for i, name in units})
        if not self.codebook_language.raw_data:
            self.codebook_language.data = language

    def to_filters(self) -> ReportFilters:
        return ReportFilters(
            categories=frozenset(self.category.data or []),
            statuses=frozenset(self.status.data or []),
            unit_ids=frozenset(int(unit) for unit in self.unit.data or []),
            kind=self.kind.data or None, language=self.language.data or None,
            date_from=self.date_from.data, date_to=self.date_to.data)

    def to_options(self) -> ExportOptions:
        return ExportOptions(filters=self.to_filters(), format=Format(self.format.data),
                             bom=self.bom.data, project=self.project.data or None)
