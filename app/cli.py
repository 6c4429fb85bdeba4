"""Command-line administration: every ``flask --app app`` command is registered here.

``users``, ``ml``, ``retention``, ``similarity``, ``grouping``, ``alerts``, ``jobs``,
``demo-data`` and ``permissions`` are defined below; ``export`` lives with the research export
(app/export/cli.py), ``reports`` (import) with the reports (app/reports/cli.py),
``backup`` with operations (app/ops/cli.py).
"""

import json
import logging
import sys
from datetime import UTC, datetime

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from huey.api import TaskWrapper
from huey.exceptions import HueyException, TaskException

from app.auth.access import permission_table
from app.export.cli import export_cli
from app.jobs import MAX_POLL_DELAY_S, queue, queue_depth, scheduled_count
from app.jobs.tasks import check_alerts, reclassify_job, retrain_job, sweep
from app.ops.cli import backup_cli
from app.reports.cli import reports_cli
from app.services import ServiceError
from app.services.alerts import alert_report_ids, open_alerts
from app.services.classification import (
    NoActiveModel,
    activate_version,
    active_classifier,
    active_version,
    all_versions,
    count_unclassified,
    load_active_classifier,
    reclassify_missing,
    train_candidate,
)
from app.services.demo import DemoError, load_demo_data
from app.services.grouping import group_reports, ungrouped_report_ids
from app.services.jobs import backlog, failed_jobs
from app.services.retention import RetentionOutcome, apply_retention
from app.services.similarity import count_reports, rebuild_index
from app.services.users import create_user
from app.warm_up import warm_up
from ml.errors import ModelError
from models import Alert, ModelVersion, Role

users_cli = AppGroup("users", help="Manage user accounts.")
ml_cli = AppGroup("ml", help="Train and apply the report classifier.")
retention_cli = AppGroup("retention", help="Remove report text older than the retention rule.")
similarity_cli = AppGroup("similarity", help="Maintain the index of similar reports.")
alerts_cli = AppGroup("alerts", help="Evaluate and list the alerts.")
grouping_cli = AppGroup("grouping", help="Group reports into emerging issues.")
jobs_cli = AppGroup("jobs", help="Run and inspect the background jobs.")


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
    """Classify every report that has no model prediction yet.

    Exits non-zero when no model loads or reports are left unclassified, so a
    scheduled run never reports success for work it did not do.
    """
    try:
        load_active_classifier()
    except NoActiveModel as error:
        raise click.ClickException(
            "no model version is active; run 'flask ml train' first") from error
    except ModelError as error:
        raise click.ClickException(f"the active model cannot be loaded ({error}); "
                                   "nothing was classified") from error
    click.echo(f"Classified {reclassify_missing()} report(s).")
    left = count_unclassified()
    if left:
        raise click.ClickException(f"{left} report(s) are still unclassified; see the log")


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


class Moment(click.ParamType):
    """An ISO 8601 date and time, as naive UTC (one with an offset is converted)."""

    name = "ISO8601"

    def convert(self, value, param, ctx) -> datetime:
        if isinstance(value, datetime):
            return value
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            self.fail(f"{value!r} is not an ISO 8601 date and time "
                      "(for example 2026-05-04T12:00 or 2026-05-04T12:00:00+00:00)", param, ctx)
        return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


@alerts_cli.command("check")
@click.option("--as-of", "as_of", type=Moment(),
              help="Evaluate at this moment (UTC unless an offset is given); default now. "
                   "Reports submitted after it do not count.")
@click.option("--json", "as_json", is_flag=True, help="One JSON line per open alert.")
@click.option("--no-notify", is_flag=True, help="Store new alerts but send no e-mail.")
def alerts_check_command(as_of: datetime | None, as_json: bool, no_notify: bool) -> None:
    """Evaluate the alerts as the schedule does, then print every open alert.

    Groups no report joined for a while fade first, so their alerts clear.
    """
    as_of = check_alerts(as_of, notify=not no_notify)
    for alert in open_alerts():
        click.echo(json.dumps(alert_json(alert, as_of), ensure_ascii=False) if as_json
                   else f"{alert.id:>5}  {alert.kind:<8}  {alert.raised_at:%Y-%m-%d %H:%M}  "
                        f"{alert.title}")


def alert_json(alert: Alert, as_of: datetime) -> dict:
    """An alert as `alerts check --json` prints it (a stable interface: see README)."""
    evidence = alert.evidence or {}
    return {"id": alert.id, "kind": alert.kind, "title": alert.title,
            "raised_at": alert.raised_at.isoformat(), "units": evidence.get("units", []),
            "categories": evidence.get("categories", []),
            "report_ids": alert_report_ids(alert, as_of), "evidence": evidence}


@jobs_cli.command("worker")
@click.option("--workers", type=click.IntRange(1, 32),
              help="Worker threads (default JOBS_WORKERS).")
def jobs_worker_command(workers: int | None) -> None:
    """Run the jobs as they arrive, and the periodic ones on their schedule, until stopped.

    SIGINT (Ctrl-C) lets running jobs finish; SIGTERM stops at once (the sweep
    enqueues again what was cut short).
    """
    config = current_app.config
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: "
                                                   "%(message)s")
    if config["JOBS_IMMEDIATE"]:
        raise click.ClickException("JOBS_IMMEDIATE is set: jobs run where they are enqueued")
    warm_up(current_app._get_current_object())  # the first report must not wait for it
    consumer = queue.create_consumer(workers=workers or config["JOBS_WORKERS"],
                                     worker_type="thread", periodic=True,
                                     max_delay=MAX_POLL_DELAY_S)
    click.echo(f"Jobs worker on {queue.storage.__class__.__name__}, "
               f"{consumer.workers} thread(s).")
    consumer.run()


@jobs_cli.command("status")
def jobs_status_command() -> None:
    """Print the backlog, the queue and the failed jobs (as the admin page shows them)."""
    click.echo(f"Reports waiting for their job: {backlog()}")
    click.echo(f"Messages in the queue: {queue_depth()} (and {scheduled_count()} retries "
               "waiting for their back-off)")
    for failed in failed_jobs():
        click.echo(f"failed {failed.id:>5}  {failed.failed_hour:%Y-%m-%d %H}h  {failed.name}"
                   f"{tuple(failed.args)}  {failed.error}")


@jobs_cli.command("sweep")
def jobs_sweep_command() -> None:
    """Run the sweep once now (the worker runs it every minute)."""
    click.echo(f"Enqueued again: {len(sweep())} report(s).")


def _run_job(wrapper: TaskWrapper, args: tuple, wait: bool, timeout: float) -> None:
    result = wrapper(*args)
    if not wait:
        click.echo(f"Enqueued {wrapper.name}; a worker runs it.")
        return
    try:
        click.echo(result.get(blocking=True, timeout=timeout))
    except TaskException as error:
        raise click.ClickException(f"{wrapper.name} failed: {error.metadata.get('error')}") \
            from error
    except HueyException as error:
        raise click.ClickException(f"{wrapper.name} did not finish within {timeout:g} s "
                                   "(is a worker running?)") from error


@jobs_cli.command("retrain")
@click.option("--force", is_flag=True, help="Activate the new version even if it is worse.")
@click.option("--wait", is_flag=True, help="Wait for a worker to finish it; print the outcome.")
@click.option("--timeout", default=3600.0, show_default=True, help="Seconds to wait.")
def jobs_retrain_command(force: bool, wait: bool, timeout: float) -> None:
    """Retrain the classifier in the background (`ml train` trains in this process)."""
    _run_job(retrain_job, (force,), wait, timeout)


@jobs_cli.command("reclassify")
@click.option("--wait", is_flag=True, help="Wait for a worker to finish it; print the count.")
@click.option("--timeout", default=3600.0, show_default=True, help="Seconds to wait.")
def jobs_reclassify_command(wait: bool, timeout: float) -> None:
    """Classify every unclassified report in the background (`ml reclassify`: here)."""
    _run_job(reclassify_job, (), wait, timeout)


def register_cli(app: Flask) -> None:
    """Add every command group and command of ``flask --app app`` (Flask-Migrate adds ``db``)."""
    for command in (users_cli, ml_cli, retention_cli, similarity_cli, export_cli,
                    demo_data_command, permissions_command, grouping_cli, alerts_cli,
                    reports_cli, jobs_cli, backup_cli):
        app.cli.add_command(command)
