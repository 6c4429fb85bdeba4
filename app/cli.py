"""Command-line administration: every ``flask --app app`` command is registered here.

``users``, ``ml``, ``retention``, ``similarity``, ``grouping``, ``demo-data`` and
``permissions``
are defined below; ``export`` lives with the research export (app/export/cli.py).
"""

import sys

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext

from app.auth.access import permission_table
from app.export.cli import export_cli
from app.services import ServiceError
from app.services.classification import (
    activate_version,
    active_classifier,
    active_version,
    all_versions,
    reclassify_missing,
    train_candidate,
)
from app.services.demo import DemoError, load_demo_data
from app.services.grouping import group_reports, ungrouped_report_ids
from app.services.retention import RetentionOutcome, apply_retention
from app.services.similarity import count_reports, rebuild_index
from app.services.users import create_user
from ml.errors import ModelError
from models import ModelVersion, Role

users_cli = AppGroup("users", help="Manage user accounts.")
ml_cli = AppGroup("ml", help="Train and apply the report classifier.")
retention_cli = AppGroup("retention", help="Remove report text older than the retention rule.")
similarity_cli = AppGroup("similarity", help="Maintain the index of similar reports.")
grouping_cli = AppGroup("grouping", help="Group reports into emerging issues.")


@users_cli.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice([r.value for r in Role]), default=Role.STAFF.value,
              show_default=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create_user_command(email: str, role: str, password_stdin: bool) -> None:
    """Create a user with EMAIL and a role."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = create_user(email, password, role)
    except ServiceError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Created {user.email} ({user.role}).")


@ml_cli.command("train")
@click.option("--force", is_flag=True, help="Activate the new version even if it is worse.")
def train_command(force: bool) -> None:
    """Train on the corpus plus human labels; activate it unless it is worse than the active."""
    click.echo("Training the classifier...")
    try:
        outcome = train_candidate(force=force)
    except ValueError as error:
        raise click.ClickException(str(error)) from error
    _describe(outcome.version)
    click.echo(outcome.reason)


@ml_cli.command("ensure-model")
def ensure_model_command() -> None:
    """Train and activate a model unless a version is active and loads.

    An active version this code cannot load (an older artifact format) is replaced.
    """
    version = active_version()
    if version is None:
        click.echo("No active model: training one from the bundled corpus...")
        _describe(train_candidate().version)
        return
    try:
        active_classifier()
    except ModelError as error:
        click.echo(f"Model version {version.id} cannot be loaded ({error}): training a new one...")
        _describe(train_candidate(force=True).version)
        return
    click.echo(f"Model version {version.id} is active.")


@ml_cli.command("versions")
def versions_command() -> None:
    """List model versions with their cross-validated figures."""
    for version in all_versions():
        metrics = version.metrics
        recall = metrics["categories"]["safety"]["recall"]
        click.echo(f"{'*' if version.active else ' '} {version.id:>4}  "
                   f"{version.created_at:%Y-%m-%d %H:%M}  macro-F1 {metrics['macro_f1']:.3f}  "
                   f"safety recall {recall:.3f}  "
                   f"examples {version.training_summary['examples']}")


@ml_cli.command("activate")
@click.argument("version_id", type=int)
def activate_command(version_id: int) -> None:
    """Make VERSION_ID the active model (for example to roll back)."""
    try:
        version = activate_version(version_id)
    except ServiceError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Model version {version.id} is active.")


@ml_cli.command("reclassify")
def reclassify_command() -> None:
    """Classify every report that has no model prediction yet."""
    count = reclassify_missing()
    click.echo(f"Classified {count} report(s).")
    if active_version() is None:
        raise click.ClickException("no model version is active; run 'flask ml train' first")


def _describe(version: ModelVersion) -> None:
    metrics = version.metrics
    click.echo(f"Model version {version.id}: macro-F1 {metrics['macro_f1']:.3f} "
               f"({metrics['method']}) on {version.training_summary['examples']} examples.")


@retention_cli.command("apply")
@click.option("--dry-run", is_flag=True, help="Only count the reports; change nothing.")
def retention_apply_command(dry_run: bool) -> None:
    """Blank the free text of reports older than RETENTION_DAYS_INCIDENT / _FEEDBACK."""
    try:
        outcome = apply_retention(dry_run=dry_run)
    except ServiceError as error:
        raise click.ClickException(str(error)) from error
    _summarise(outcome)


def _summarise(outcome: RetentionOutcome) -> None:
    click.echo(f"Dry run on {outcome.today}, nothing changed:" if outcome.dry_run
               else f"Retention rule applied on {outcome.today}:")
    verb = "would remove" if outcome.dry_run else "removed"
    for item in outcome.kinds:
        if item.days is None:
            click.echo(f"  {item.kind}: text kept forever (no limit set)")
        else:
            click.echo(f"  {item.kind}: {verb} the text of {item.reports} report(s) submitted "
                       f"before {item.cutoff} (limit {item.days} days)")
    click.echo(f"  messages: {verb} the text of {outcome.messages} message(s) on reports "
               "whose text is removed")


@similarity_cli.command("rebuild")
def rebuild_command() -> None:
    """Index every report's text for similar reports and known-issue suggestions."""
    with click.progressbar(length=count_reports(), label="Indexing reports") as bar:
        count = rebuild_index(progress=bar.update)
    click.echo(f"{count} reports have terms in the similarity index.")


@grouping_cli.command("rebuild")
def grouping_rebuild_command() -> None:
    """Group every report in no emerging issue, in the order they arrived (after migration 0013)."""
    ids = ungrouped_report_ids()
    with click.progressbar(length=len(ids), label="Grouping reports") as bar:
        count = group_reports(ids, progress=bar.update)
    click.echo(f"{count} of {len(ids)} ungrouped reports are in an emerging issue "
               "or a known issue now.")


@click.command("demo-data")
@with_appcontext
@click.option("--reports", "report_count", default=300, show_default=True,
              type=click.IntRange(0, 100_000), help="How many demo reports to create.")
@click.option("--if-empty", is_flag=True,
              help="Quietly do nothing when the database already has data.")
@click.option("--accounts-file", type=click.Path(dir_okay=False),
              help="Where to write the demo accounts' passwords.")
def demo_data_command(report_count: int, if_empty: bool, accounts_file: str | None) -> None:
    """Fill an EMPTY database with demo units, accounts and reports (never in production)."""
    try:
        demo = load_demo_data(report_count)
    except DemoError as error:
        if if_empty:
            click.echo(f"Demo data not loaded: {error}.")
            return
        raise click.ClickException(str(error)) from error
    lines = [f"{account.role:<12} {account.email:<28} {account.password}"
             for account in demo.accounts]
    if accounts_file:
        with open(accounts_file, "w", encoding="utf-8") as handle:
            handle.write("\n".join(lines) + "\n")
    click.echo(f"Created {demo.units} units, {len(demo.accounts)} accounts and "
               f"{demo.reports} reports ({demo.classified} classified).")
    click.echo("\n".join(lines))


@click.command("permissions")
@with_appcontext
def permissions_command() -> None:
    """Print who may do what as a Markdown table (the README's)."""
    click.echo(permission_table())


def register_cli(app: Flask) -> None:
    """Add every command group and command of ``flask --app app`` (Flask-Migrate adds ``db``)."""
    for command in (users_cli, ml_cli, retention_cli, similarity_cli, export_cli,
                    demo_data_command, permissions_command, grouping_cli):
        app.cli.add_command(command)
