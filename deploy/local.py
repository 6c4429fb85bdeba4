"""The production topology on loopback: app instances from the Procfile's `web` line, nginx
in front (deploy/nginx.conf), one of each other Procfile process (a job worker), each with
its own port and log in one directory.

Used by tests/test_topology.py, tests/test_slow_clients.py and the benches. Every process
is started by this module and stopped by it, by its own pid.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path

from deploy import nginx

ROOT = Path(__file__).resolve().parent.parent
PROCFILE = ROOT / "Procfile"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
#: Seconds an instance may take to answer after its start (its workers warm up first;
#: on two busy shared cores that took over a minute).
START_TIMEOUT_S = 180.0


class StartError(RuntimeError):
    """A process of the topology did not come up; its log's tail is in the message."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def procfile_processes(procfile: Path = PROCFILE) -> dict[str, str]:
    """Every Procfile line: process name to command."""
    lines = (line.partition(":") for line in procfile.read_text(encoding="utf-8").splitlines()
             if line.strip() and not line.lstrip().startswith("#"))
    return {name.strip(): command.strip() for name, _, command in lines}


def procfile_command(process: str = "web", procfile: Path = PROCFILE) -> str:
    """The command of one Procfile line (`web: gunicorn ...`)."""
    try:
        return procfile_processes(procfile)[process]
    except KeyError:
        raise KeyError(f"{procfile} has no {process!r} line") from None


def nginx_available() -> bool:
    return Path(NGINX).is_file() and os.access(NGINX, os.X_OK)


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log)"


def wait_for_http(url: str, process: subprocess.Popen, log: Path,
                  timeout: float = START_TIMEOUT_S) -> None:
    """Until `url` answers (any status); fail early if `process` exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise StartError(f"{process.args!r} exited with {process.returncode}:\n"
                             f"{_tail(log)}")
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.1)
    raise StartError(f"{url} did not answer within {timeout:.0f} s:\n{_tail(log)}")


class Instance:
    """One app server (a gunicorn master and its workers) on its own port."""

    def __init__(self, name: str, command: str, env: Mapping[str, str], directory: Path,
                 probe_path: str = "/login") -> None:
        self.name, self.command, self.probe_path = name, command, probe_path
        self.port = free_port()
        self.env = {**env, "PORT": str(self.port)}
        #: Its standard output and error: gunicorn's access and error logs.
        self.log = directory / f"{name}.log"
        self.process: subprocess.Popen | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        self.launch()
        self.wait_until_serving()

    def launch(self) -> None:
        with self.log.open("ab") as log:
            # exec: the shell becomes the gunicorn master, so its pid is the master's.
            self.process = subprocess.Popen(
                ["/bin/sh", "-c", f"exec {self.command}"], cwd=ROOT, env=self.env,
                stdout=log, stderr=subprocess.STDOUT)

    def wait_until_serving(self) -> None:
        wait_for_http(f"http://{self.address}{self.probe_path}", self.process, self.log)

    def stop(self) -> None:
        self.terminate()
        self.wait_stopped()

    def terminate(self) -> None:
        """SIGTERM: gunicorn stops accepting and finishes the requests in flight."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def wait_stopped(self) -> None:
        if self.process:
            try:
                self.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def workers(self) -> list[int]:
        """The pids of the master's worker processes."""
        if not self.running:
            return []
        master, found = self.process.pid, []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # "pid (comm) state ppid ...": comm may hold spaces, so split after ")".
            if int(stat.rpartition(")")[2].split()[1]) == master:
                found.append(int(entry.name))
        return sorted(found)

    def kill_worker(self) -> int | None:
        """SIGKILL one worker (the master starts another); its pid, or None if none ran."""
        workers = self.workers()
        if not workers:
            return None
        os.kill(workers[0], signal.SIGKILL)
        return workers[0]


class Proxy:
    """nginx, rendered from deploy/nginx.conf, in front of the instances."""

    def __init__(self, directory: Path, upstreams: Sequence[str]) -> None:
        self.directory = directory / "nginx"
        self.directory.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.config = self.directory / "nginx.conf"
        self.config.write_text(nginx.render(f"127.0.0.1:{self.port}", upstreams))
        self.error_log = self.directory / "error.log"
        self.access_log = self.directory / "access.log"
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, probe_path: str = "/login") -> None:
        self.process = subprocess.Popen(
            [NGINX, "-c", str(self.config), "-p", str(self.directory), "-e",
             str(self.error_log), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        wait_for_http(self.url + probe_path, self.process, self.error_log)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)  # graceful: finish open requests
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


class Topology:
    """`count` app instances started with `command` (the Procfile's web line), nginx in front.

    Use it as a context manager; everything it started stops on the way out.
    """

    def __init__(self, directory: Path, env: Mapping[str, str], count: int = 2,
                 command: str | None = None, probe_path: str = "/login") -> None:
        venv_bin = str(Path(sys.executable).parent)
        env = {**env, "PATH": venv_bin + os.pathsep + env.get("PATH", os.defpath)}
        command = command or procfile_command()
        self.instances = [Instance(f"web-{n + 1}", command, env, directory, probe_path)
                          for n in range(count)]
        self.proxy = Proxy(directory, [instance.address for instance in self.instances])
        self.probe_path = probe_path
        #: One of each other Procfile process (a background-job worker, say), for the app;
        #: they serve no HTTP, so they are started, not waited for.
        self.others = [] if command != procfile_command() else [
            Instance(name, other, env, directory)
            for name, other in procfile_processes().items() if name != "web"]

    def __enter__(self) -> "Topology":
        try:
            for instance in self.instances + self.others:  # side by side: warm-ups take s
                instance.launch()
            for instance in self.instances:
                instance.wait_until_serving()
            self.proxy.start(self.probe_path)
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return self.proxy.url

    def stop(self) -> None:
        self.proxy.stop()
        for instance in self.instances + self.others:
            instance.terminate()
        for instance in self.instances + self.others:
            instance.wait_stopped()


def app_environment(database_url: str, redis_url: str | None, secret_key: str,
                    instance_dir: Path, workers: int = 2,
                    extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """What a production start reads (README, "Production topology"), for plain HTTP on
    loopback: the login cookie is not HTTPS-only there. Without `redis_url` each worker
    counts rate limits on its own."""
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": secret_key,
           "VAKA_INSTANCE_DIR": str(instance_dir), "WEB_CONCURRENCY": str(workers),
           "TRUSTED_PROXIES": "1", "SESSION_COOKIE_SECURE": "0", **(extra or {})}
    if redis_url:
        env["REDIS_URL"] = redis_url
    else:
        env.pop("REDIS_URL", None)
    return env


__all__ = ["Instance", "Proxy", "StartError", "Topology", "app_environment", "free_port",
           "nginx_available", "procfile_command"]
