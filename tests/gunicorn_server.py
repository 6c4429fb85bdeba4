"""A real gunicorn, started on a loopback port with gunicorn.conf.py, for the operations
tests (tests/test_ops.py, tests/test_logging.py).

It serves the test's database: TEST_DATABASE_URL when set (the `app` fixture has
made the schema there), else a SQLite file made here. Its stdout (the access
log) and stderr (gunicorn's and the app's records) are kept in files to read.
"""

import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.error import HTTPError
from urllib.request import Request, urlopen

from app import create_app
from config import TestingConfig
from config import database_url as config_url
from models import db

ROOT = Path(__file__).resolve().parent.parent
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Server:
    process: subprocess.Popen
    port: int
    stdout: Path
    stderr: Path

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def get(self, path: str, headers: dict | None = None):
        """(status, headers, body) of a GET; an HTTP error status is returned too."""
        try:
            with urlopen(Request(self.url(path), headers=headers or {}), timeout=30) as answer:
                return answer.status, answer.headers, answer.read()
        except HTTPError as error:
            return error.code, error.headers, error.read()

    def stop(self) -> int:
        """SIGTERM, as a service manager stops it; its exit status."""
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise

    def access_lines(self) -> list[str]:
        return self.stdout.read_text().splitlines()

    def error_lines(self) -> list[str]:
        return self.stderr.read_text().splitlines()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def database_url(tmp_path: Path) -> str:
    """The test's database for the server, with the models' tables (a new SQLite file
    unless TEST_DATABASE_URL is set)."""
    url = os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_path / 'vaka.sqlite'}"
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=config_url(url))
    with app.app_context():
        db.create_all()
        db.engine.dispose()
    return url


def start(tmp_path: Path, workers: int = 1, **env: str) -> Server:
    """`gunicorn -c gunicorn.conf.py 'app:create_app()'` on a free loopback port, ready."""
    port = free_port()
    environment = {name: value for name, value in os.environ.items()
                   if name != "PROMETHEUS_MULTIPROC_DIR"}
    environment.update({"SECRET_KEY": "operations-test", "SESSION_COOKIE_SECURE": "0",
                        "VAKA_INSTANCE_DIR": str(tmp_path),
                        "DATABASE_URL": database_url(tmp_path), **env})
    stdout, stderr = tmp_path / "stdout.log", tmp_path / "stderr.log"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "-w", str(workers),
             "-b", f"127.0.0.1:{port}", "--no-control-socket", "app:create_app()"],
            cwd=ROOT, env=environment, stdout=out, stderr=err)
    server = Server(process, port, stdout, stderr)
    _wait_until_ready(server, workers)
    return server


def _wait_until_ready(server: Server, workers: int) -> None:
    """Until every worker has booted (warmed up) and the port answers, at most 60 s."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError("gunicorn exited:\n" + server.stderr.read_text())
        booted = server.stderr.read_text().count("Booting worker")
        warmed = server.stderr.read_text().count("no model loaded at start") + \
            server.stderr.read_text().count("model version")
        if booted >= workers and warmed >= workers:
            try:
                socket.create_connection(("127.0.0.1", server.port), timeout=1).close()
                return
            except OSError:
                pass
        time.sleep(0.1)
    server.process.kill()
    raise RuntimeError("gunicorn did not start:\n" + server.stderr.read_text())
