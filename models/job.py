"""What the background jobs keep in the database beside the reports' `processed` flag.

The queue (app/jobs) delivers messages; these rows are what must outlive it: jobs that
failed for good, for an admin to see and retry, and the last period each periodic job
was claimed for, so that two workers never run one period twice.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import db


class FailedJob(db.Model):
    """A job that failed on its last retry. Its time is kept to the hour only: a report's
    job fails minutes after the report came in, and an anonymous report keeps no finer
    time than that."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    args: Mapped[list[Any]] = mapped_column(JSON, default=list)
    error: Mapped[str] = mapped_column(Text)
    failed_hour: Mapped[datetime]


class PeriodicRun(db.Model):
    """The period (for example ``2026-12-03T15:07``) a periodic job last ran for."""

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    period: Mapped[str] = mapped_column(String(20))
