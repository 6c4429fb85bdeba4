"""Gunicorn server hooks for the metrics' multiprocess mode (called from gunicorn.conf.py).

Each worker writes its counters to files in PROMETHEUS_MULTIPROC_DIR, and the
worker answering a scrape sums them all. The master empties the directory when it
starts (counts of a previous run would be added otherwise) and forgets a worker's
live gauges when it exits. Without PROMETHEUS_MULTIPROC_DIR in the environment
the master makes a private directory; two masters on one host must not share one.

Nothing here may import prometheus_client before the variable is set: the client
picks its storage when it is first imported.
"""

import os
import tempfile
from pathlib import Path

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def on_starting(_server) -> None:
    """Set up an empty metrics directory before any worker starts."""
    directory = os.environ.get(MULTIPROC_ENV)
    if directory:
        Path(directory).mkdir(parents=True, exist_ok=True)
        for stale in Path(directory).glob("*.db"):
            stale.unlink()
    else:
        os.environ[MULTIPROC_ENV] = tempfile.mkdtemp(prefix="vaka-metrics-")


def child_exit(_server, worker) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
