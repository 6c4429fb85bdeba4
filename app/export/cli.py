"""``flask --app app export reports|codebook|aggregates|fhir``: the research files from a
shell."""

import json
import sys
from datetime import datetime

import click
from flask import current_app
from flask.cli import AppGroup

from app.services import NotFound, ServiceError
from app.services.aggregates import aggregates_csv
from app.services.export import (
    CODEBOOK_LANGUAGES,
    ExportOptions,
    Format,
    codebook_csv,
    export_file,
    export_size,
    unit_ids,
)
from app.services.fhir import bundle_chunks, report_resource
from app.services.report_queries import ReportFilters
from models import CATEGORIES, Kind, Status

export_cli = AppGroup("export", help="Write the research files: reports, codebook, counts, "
                      "FHIR.")
_DATE = click.DateTime(formats=["%Y-%m-%d"])


def _filters(date_from: datetime | None, date_to: datetime | None, unit: tuple[str, ...],
             category: tuple[str, ...], status: tuple[str, ...], kind: str | None,
             language: str | None) -> ReportFilters:
    if date_from and date_to and date_to < date_from:
        raise click.BadParameter("the end date is before the start date", param_hint="--to")
    try:
        units = unit_ids(unit) if unit else frozenset()
    except ServiceError as error:
        raise click.BadParameter(str(error), param_hint="--unit") from error
    return ReportFilters(categories=frozenset(category), statuses=frozenset(status),
                         unit_ids=units, kind=kind, language=language,
                         date_from=date_from.date() if date_from else None,
                         date_to=date_to.date() if date_to else None)


def filter_options(command):
    """The filters every export command takes, as in the web form."""
    options = [
        click.option("--from", "date_from", type=_DATE, help="First submission date (YYYY-MM-DD)."),
        click.option("--to", "date_to", type=_DATE, help="Last submission date (YYYY-MM-DD)."),
        click.option("--unit", multiple=True, help="A unit's name (repeat for several)."),
        click.option("--category", multiple=True, type=click.Choice([*CATEGORIES, "other"]),
                     help="Reports in any of these categories (repeat for several)."),
        click.option("--status", multiple=True, type=click.Choice([s.value for s in Status])),
        click.option("--kind", type=click.Choice([k.value for k in Kind])),
        click.option("--language", type=click.Choice(["sv", "en"])),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@export_cli.command("reports")
@filter_options
@click.option("--format", "file_format", type=click.Choice([f.value for f in Format]),
              default=Format.CSV.value, show_default=True)
@click.option("--bom", is_flag=True, help="Start a CSV file with a byte-order mark (for Excel).")
@click.option("--project", help="Pseudonymise report numbers and units for this project.")
@click.option("--output", "-o", type=click.File("wb"), default="-", show_default=True,
              help="The file to write; - is standard output.")
def reports_command(file_format: str, bom: bool, project: str | None, output, **filters) -> None:
    """Write the de-identified reports, as the export page does; audited like it."""
    try:
        options = ExportOptions(filters=_filters(**filters), format=Format(file_format), bom=bom,
                                project=project)
    except ServiceError as error:
        raise click.BadParameter(str(error), param_hint="--project") from error
    if sys.stderr.isatty():
        with click.progressbar(length=export_size(options.filters), label="Exporting",
                               file=sys.stderr) as bar:
            _write(options, output, bar.update)
    else:
        _write(options, output, None)


def _write(options: ExportOptions, output, progress) -> None:
    for chunk in export_file(options, None, current_app.config["EXPORT_BATCH_SIZE"], progress):
        output.write(chunk)
    output.flush()


@export_cli.command("codebook")
@click.option("--pseudonymous", is_flag=True, help="Describe a pseudonymised export.")
@click.option("--language", type=click.Choice(sorted(CODEBOOK_LANGUAGES)), default="en",
              show_default=True, help="The codebook's language.")
def codebook_command(pseudonymous: bool, language: str) -> None:
    """Print the codebook: every column, its type, allowed values and sensitivity."""
    click.echo(codebook_csv(pseudonymous, language), nl=False)


@export_cli.command("aggregates")
@filter_options
@click.option("--min-cell", type=click.IntRange(min=1), help="Smallest count shown "
              "(default: the AGGREGATE_MIN_CELL setting).")
def aggregates_command(min_cell: int | None, **filters) -> None:
    """Print reports per category x unit x week, small counts suppressed."""
    min_cell = min_cell or current_app.config["AGGREGATE_MIN_CELL"]
    click.echo(aggregates_csv(_filters(**filters), min_cell, None), nl=False)


@export_cli.command("fhir")
@click.option("--report", "report_id", type=click.IntRange(min=1),
              help="One report's number (12 for V-000012): its AdverseEvent alone.")
@filter_options
@click.option("--project", help="Pseudonymise report numbers and units for this project.")
@click.option("--output", "-o", type=click.File("wb"), default="-", show_default=True,
              help="The file to write; - is standard output.")
def fhir_command(report_id: int | None, project: str | None, output, **filters) -> None:
    """Write FHIR R4 AdverseEvents: one report's, or a Bundle of the matching reports."""
    if report_id is None:
        _write_bundle(_filters(**filters), project, output)
    elif any(filters.values()):
        raise click.UsageError("--report takes no filters")
    else:
        _write_resource(report_id, project, output)


def _write_resource(report_id: int, project: str | None, output) -> None:
    try:
        resource = report_resource(report_id, None, project)
    except NotFound as error:
        raise click.BadParameter(str(error), param_hint="--report") from error
    except ServiceError as error:
        raise click.BadParameter(str(error), param_hint="--project") from error
    output.write((json.dumps(resource, ensure_ascii=False) + "\n").encode())


def _write_bundle(filters: ReportFilters, project: str | None, output) -> None:
    try:
        chunks = bundle_chunks(filters, None, project)
    except ServiceError as error:
        raise click.BadParameter(str(error), param_hint="--project") from error
    for chunk in chunks:
        output.write(chunk)
    output.flush()
