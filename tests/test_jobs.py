"""Background jobs with a real worker: `flask jobs worker` as a subprocess on loopback.

The queue is a temporary SQLite file or Redis database 5 (TEST_JOBS_REDIS_URL); the
database is a SQLite file (or TEST_DATABASE_URL's PostgreSQL) that the test and the
worker share. Each test that starts a worker waits for it to load the model, about
2 s; every wait polls with a deadline.
"""

import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from app.jobs import claim_period, queue, queue_depth, storage_for
from app.jobs.tasks import process_report_job, sweep
from app.services.classification import activate_version
from app.services.drafts import ReportDraft
from app.services.reports import submit_report
from models import FailedJob, Label, ModelVersion, Report, db
from tests.helpers import persist

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("TEST_JOBS_REDIS_URL", "redis://127.0.0.1:6379/5")
PG_URL = os.environ.get("TEST_DATABASE_URL")
DEADLINE_S = 20
#: A worker imports the app and loads the model: seconds on a busy machine.
START_DEADLINE_S = 90


@pytest.fixture(params=["sqlite", "redis"])
def storage(request, tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'jobs.sqlite'}" if request.param == "sqlite" else REDIS_URL


@pytest.fixture
def database_url(tmp_path) -> str:
    return PG_URL or f"sqlite:///{tmp_path / 'vaka.sqlite'}"


@pytest.fixture
def app_config(storage, database_url) -> dict:
    from config import database_url as sqlalchemy_url

    return {"SQLALCHEMY_DATABASE_URI": sqlalchemy_url(database_url), "JOBS_IMMEDIATE": False,
            "JOBS_URL": storage, "JOBS_RETRIES": 2, "JOBS_RETRY_DELAY_S": 0.2}


@pytest.fixture
def empty_queue(app) -> None:
    queue.flush()  # Redis database 5 may hold an earlier run's messages


@pytest.fixture
def worker(app, empty_queue, storage, database_url, tmp_path) -> Iterator[Callable]:
    """Start (and stop) `flask jobs worker` processes; each returns once its model loaded."""
    env = {**os.environ, "DATABASE_URL": database_url, "JOBS_URL": storage,
           "SECRET_KEY": "testing-secret", "VAKA_INSTANCE_DIR": str(tmp_path),
           "JOBS_WORKERS": "2"}
    env.pop("REDIS_URL", None)
    started: list[subprocess.Popen] = []

    def start() -> subprocess.Popen:
        log = tmp_path / f"worker{len(started)}.log"
        with log.open("w") as output:
            process = subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "jobs",
                                        "worker"], cwd=ROOT, env=env, stdout=output,
                                       stderr=subprocess.STDOUT)
        started.append(process)
        wait_for(lambda: "Jobs worker on" in log.read_text() or process.poll() is not None,
                 START_DEADLINE_S)
        assert process.poll() is None, log.read_text()
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_for(condition: Callable[[], object], deadline_s: float = DEADLINE_S) -> None:
    end = time.monotonic() + deadline_s
    while not condition():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.05)


def submit(app, unit_id: int, text_: str = "Skrivaren på avdelningen skriver inte ut "
                                          "etiketterna till proverna.") -> int:
    draft = ReportDraft(kind="incident", text=text_, occurred_at=datetime(2026, 3, 1, 8),
                        unit_id=unit_id, area="printing", impact="none", suggestion=None,
                        submission_token=secrets.token_urlsafe(24))
    with app.test_request_context():
        return submit_report(draft, None).report.id


def processed(app, report_ids: list[int]) -> bool:
    with app.app_context():
        return all(db.session.scalars(select(Report.processed)
                                      .where(Report.id.in_(report_ids))))


def model_labels(app, report_id: int) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Label)
                                 .where(Label.report_id == report_id, Label.source == "model"))


def test_reports_wait_while_the_worker_is_stopped_and_drain_when_it_starts(
        app, active_model, make_unit, worker, coordinator, client):
    unit = make_unit().id
    ids = [submit(app, unit) for _ in range(3)]
    with app.app_context():
        assert queue_depth() == 3
    assert not processed(app, ids)
    page = client.get(f"/triage/reports/{ids[0]}").get_data(as_text=True)
    assert "Being classified" in page

    worker()
    wait_for(lambda: processed(app, ids))
    with app.app_context():
        report = db.session.get(Report, ids[0])
        assert report.is_classified and report.model_version_id == active_model
    assert [model_labels(app, report_id) for report_id in ids] == [3, 3, 3]
    page = client.get(f"/triage/reports/{ids[0]}").get_data(as_text=True)
    assert "Being classified" not in page


@contextmanager
def report_row_held(app, report_id: int) -> Iterator[None]:
    """Block writers to the report (SQLite: the write lock; PostgreSQL: its row)."""
    with app.app_context(), db.engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            connection.execution_options(vaka_write=True).begin()
        else:
            connection.begin()
            connection.execute(text("SELECT id FROM report WHERE id = :id FOR UPDATE"),
                               {"id": report_id})
        yield
        connection.rollback()


def test_a_report_whose_worker_was_killed_mid_job_is_swept_and_processed_once(
        app, active_model, make_unit, worker):
    report_id = submit(app, make_unit().id)
    queue.flush()  # its message is sent again below, once the worker cannot finish it
    process = worker()  # (on SQLite it could not start while the lock is held)
    with report_row_held(app, report_id), app.app_context():
        process_report_job(report_id)
        wait_for(lambda: queue_depth() == 0)  # taken: the job waits for the lock
        process.send_signal(signal.SIGKILL)
        process.wait()
    with app.app_context():
        assert queue_depth() == 0  # the message died with the worker
        assert not db.session.get(Report, report_id).processed
        # Seen unprocessed by two sweeps (the worker's own, at a minute's turn, may be one).
        assert (sweep() or sweep()) == [report_id]
        assert queue_depth() == 1

    worker()
    wait_for(lambda: processed(app, [report_id]))
    assert model_labels(app, report_id) == 3


@pytest.mark.parametrize("storage", ["sqlite"], indirect=True)
def test_a_failing_job_retries_then_is_listed_and_an_admin_retries_it(
        app, active_model, make_unit, make_user, login, worker, client):
    broken = persist(app, ModelVersion(algorithm="broken", artifact=b"not a model"))
    with app.app_context():
        activate_version(broken.id)
    worker()
    report_id = submit(app, make_unit().id)

    def failed() -> list[FailedJob]:
        with app.app_context():
            return db.session.scalars(select(FailedJob)).all()

    wait_for(failed)  # two retries, 0.2 s then 0.4 s after the first failure
    [job] = failed()
    assert job.name == "process_report_job" and job.args == [report_id]
    assert "ReportNotClassified" in job.error
    assert not processed(app, [report_id])

    login(make_user("admin"))
    page = client.get("/admin/jobs").get_data(as_text=True)
    assert "process_report_job" in page and "ReportNotClassified" in page
    with app.app_context():
        activate_version(active_model)
    response = client.post(f"/admin/jobs/{job.id}/retry")
    assert response.status_code == 302
    wait_for(lambda: processed(app, [report_id]))
    assert failed() == []
    assert model_labels(app, report_id) == 3


@pytest.mark.parametrize("storage", ["sqlite"], indirect=True)
def test_a_periodic_job_runs_once_per_period_however_many_workers_claim_it(app):
    with app.app_context():
        assert claim_period("sweep_job", "2026-12-03T15:07")
        assert not claim_period("sweep_job", "2026-12-03T15:07")
        assert claim_period("sweep_job", "2026-12-03T15:08")
        assert claim_period("alerts_job", "2026-12-03T15:08")


@pytest.mark.parametrize("storage", ["sqlite"], indirect=True)
def test_a_failed_enqueue_keeps_the_report_for_the_sweep(app, make_unit, caplog):
    queue.storage = storage_for("redis://127.0.0.1:1/0")  # nothing listens there
    report_id = submit(app, make_unit().id)
    assert "left to the sweep" in caplog.text
    with app.app_context():
        assert db.session.get(Report, report_id).processed is False


@pytest.mark.parametrize("storage", ["sqlite"], indirect=True)
def test_jobs_status_and_sweep_on_the_command_line(app, make_unit, runner, empty_queue):
    report_id = submit(app, make_unit().id)
    status = runner.invoke(args=["jobs", "status"])
    assert status.exit_code == 0, status.output
    assert "Reports waiting for their job: 1" in status.output
    assert "Messages in the queue: 1" in status.output
    assert "Enqueued again: 0" in runner.invoke(args=["jobs", "sweep"]).output
    assert "Enqueued again: 1" in runner.invoke(args=["jobs", "sweep"]).output
    with app.app_context():
        assert queue_depth() == 2 and not db.session.get(Report, report_id).processed
