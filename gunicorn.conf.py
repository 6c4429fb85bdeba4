"""Gunicorn settings for Vaka: ``gunicorn -c gunicorn.conf.py 'app:create_app()'``.

Each worker loads the active model before it takes its first request, so the
first report after a start is classified as fast as the next ones.

Anonymity: the anonymous pages leave no access line (see app/anonymity.py);
the other lines (JSON, app/ops/logging.py) carry no user agent, no referrer and
no query string. Command-line options
(``--access-logfile FILE``, ``-w``, ``-b``) override these settings; the
filter stays.
"""

import os

from app.anonymity import unlogged
from app.ops.gunicorn_hooks import child_exit, on_starting  # noqa: F401  (metrics of all workers)
from app.ops.logging import JsonLogger


class AnonymityLogger(JsonLogger):
    """Gunicorn's logger (JSON lines), writing no access line for the anonymous pages."""

    def access(self, resp, req, environ, request_time) -> None:
        if unlogged(environ.get("PATH_INFO", "")):
            return
        super().access(resp, req, environ, request_time)


def post_worker_init(worker) -> None:
    """Warm the worker up (not the master: each process keeps its own model)."""
    from app.warm_up import warm_up

    warm_up(worker.wsgi)


logger_class = AnonymityLogger
accesslog = "-"

# Workers. Sync workers, always behind the buffering proxy (deploy/nginx.conf): nginx
# hands a worker only complete requests and takes its answer at once, so a slow client
# never holds one. Each worker holds its own model. On SQLite the workers' writes take
# turns (models/base.py): `make run` runs four.
worker_class = "sync"
workers = int(os.environ.get("WEB_CONCURRENCY", "1"))
#: Seconds a worker may go silent (one request) before the master replaces it.
timeout = int(os.environ.get("WEB_TIMEOUT", "60"))
#: Seconds a stopping instance (SIGTERM) gives its workers to finish the requests in flight.
graceful_timeout = int(os.environ.get("WEB_GRACEFUL_TIMEOUT", "30"))
#: No control socket (gunicornc is not used): by default every master on a host would
#: take the same path ($HOME/.gunicorn/gunicorn.ctl), and several instances run on one.
control_socket_disable = True
