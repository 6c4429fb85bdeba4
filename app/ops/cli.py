"""`flask --app app backup create PATH` and `flask --app app backup restore PATH [--force]`."""

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from app.ops.backup import BackupError, create_backup, restore_backup

backup_cli = AppGroup("backup", help="Back up the database, or restore it from a backup.")


def _database_url() -> str:
    return current_app.config["SQLALCHEMY_DATABASE_URI"]


@backup_cli.command("create")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def create_command(path: Path) -> None:
    """Write a consistent backup of the database to PATH (a new file), while the app runs."""
    try:
        create_backup(_database_url(), path)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Backed up the database to {path} ({path.stat().st_size} bytes).")


@backup_cli.command("restore")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace a database that already has tables.")
def restore_command(path: Path, force: bool) -> None:
    """Restore the database from the backup at PATH (stop the app first)."""
    try:
        restore_backup(_database_url(), path, force=force)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Restored the database from {path}. Run `flask --app app db upgrade` next "
               "if the backup is older than this version.")
