"""``flask --app app reports import FILE [--create-units]``: historical reports from a file.

A stable interface (issue 11): other tools and the replay evaluation call it.
Every bad line is written to standard error as ``line N: reason`` and nothing is
imported (exit code 1); otherwise one JSON line per imported report, in the
file's order: ``{"line": N, "id": ID, "reference": "V-..."}``.
"""

import json
from pathlib import Path

import click
from flask.cli import AppGroup

from app.reports.import_file import check_file, rows_in_time_order
from app.services.importer import create_missing_units, import_reports, unit_problems
from models import utcnow

reports_cli = AppGroup("reports", help="Import historical reports.")


@reports_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--create-units", is_flag=True,
              help="Create the units the file names that do not exist yet.")
def import_command(file: Path, create_units: bool) -> None:
    """Import FILE (one JSON report per line) as anonymous reports submitted at their time.

    Each is classified and indexed as if it had arrived then, in time order.
    """
    now = utcnow()
    checked = check_file(file, now)
    problems = unit_problems({entry.unit for entry in checked.entries}, create=create_units)
    for entry in checked.entries:
        if entry.unit in problems:
            checked.errors.setdefault(entry.line, []).append(problems[entry.unit])
    if checked.errors:
        for line in sorted(checked.errors):
            click.echo(f"line {line}: {'; '.join(checked.errors[line])}", err=True)
        click.echo(f"Nothing was imported: {len(checked.errors)} bad line(s).", err=True)
        raise SystemExit(1)
    if not checked.entries:
        click.echo(f"No reports in {file}: nothing was imported.", err=True)
        return
    if create_units:
        create_missing_units({entry.unit for entry in checked.entries})
    imported = import_reports(rows_in_time_order(file, checked.entries, now))
    for report in sorted(imported, key=lambda report: report.line):
        click.echo(json.dumps({"line": report.line, "id": report.id,
                               "reference": report.reference}))
