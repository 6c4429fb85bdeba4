"""Gunicorn settings for Vaka: ``gunicorn -c gunicorn.conf.py 'app:create_app()'``.

Each worker loads the active model before it takes its first request, so the
first report after a start is classified as fast as the next ones.

Anonymity: the anonymous pages leave no access line (see app/anonymity.py);
the other lines (JSON, app/ops/logging.py) carry no user agent, no referrer and
no query string. Command-line options
(``--access-logfile FILE``, ``-w``, ``-b``) override these settings; the
filter stays.
"""

from app.anonymity import unlogged
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

# Operations (app/ops): metrics summed over the workers, and a SIGTERM that lets the
# requests in flight finish (up to graceful_timeout seconds) before a worker stops.
from app.ops.gunicorn_hooks import child_exit, on_starting  # noqa: E402,F401

graceful_timeout = 30
