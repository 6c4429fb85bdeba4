"""Structured logs: one JSON object per line, with the request's id.

`JsonFormatter` writes the app's log records and gunicorn's (error and access
lines alike) as JSON. `JsonLogger` is gunicorn's logger with that formatter; its
access line holds the request id, method, URL rule, path without the query
string (a search may hold words of a report), status, size and duration: never
a form field, a report's text, a receipt code, a user agent or a referrer.
gunicorn.conf.py keeps the anonymous pages out of it (app/anonymity.py).

The request id is the proxy's ``X-Request-ID`` when it looks like one (nginx:
``proxy_set_header X-Request-ID $request_id;``), else a new random one; the
response echoes it, and every record logged while the request runs carries it.
"""

import json
import logging
import re
import uuid
from datetime import UTC, datetime

from flask import g, has_request_context, request
from flask.typing import ResponseReturnValue
from gunicorn.glogging import Logger

REQUEST_ID_HEADER = "X-Request-ID"
#: What a request id from the proxy may look like (nginx's are 32 hex digits).
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,128}")
#: Where the app leaves the request id and URL rule for gunicorn's access line.
ENVIRON_REQUEST_ID = "vaka.request_id"
ENVIRON_ROUTE = "vaka.route"


class JsonFormatter(logging.Formatter):
    """A record as one line of JSON: time (UTC), level, logger, message, request id,
    the `fields` a caller passed in ``extra``, and a traceback if there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": datetime.fromtimestamp(record.created, UTC).isoformat(
                     timespec="milliseconds"),
                 "level": record.levelname, "logger": record.name,
                 "message": record.getMessage()}
        request_id = getattr(record, "request_id", None) or _current_request_id()
        if request_id:
            entry["request_id"] = request_id
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def _current_request_id() -> str | None:
    return g.get("request_id") if has_request_context() else None


def start_request() -> None:
    """Take the proxy's request id or make one (a `before_request` hook)."""
    sent = request.headers.get(REQUEST_ID_HEADER, "")
    g.request_id = sent if SANE_REQUEST_ID.fullmatch(sent) else uuid.uuid4().hex
    request.environ[ENVIRON_REQUEST_ID] = g.request_id


def finish_request(response: ResponseReturnValue):
    """Echo the request id and leave the URL rule for the access line."""
    request_id = g.get("request_id") or uuid.uuid4().hex  # a hook before ours aborted
    response.headers[REQUEST_ID_HEADER] = request_id
    request.environ[ENVIRON_REQUEST_ID] = request_id
    request.environ[ENVIRON_ROUTE] = route()
    return response


def route() -> str | None:
    """The URL rule that matched this request, None when none did."""
    return request.url_rule.rule if request.url_rule is not None else None


class JsonLogger(Logger):
    """Gunicorn's logger writing JSON lines; the app's own records join its error log."""

    def setup(self, cfg) -> None:
        """Gunicorn's handlers with the JSON formatter, and one like its error log's on
        the root logger, so the app's records reach the same stream as JSON."""
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.setFormatter(JsonFormatter())
        root = logging.getLogger()
        for handler in [h for h in root.handlers if getattr(h, "_gunicorn", False)]:
            root.removeHandler(handler)  # from a previous setup (a configuration reload)
        for handler in self.error_log.handlers:
            root.addHandler(handler)
        root.setLevel(self.loglevel)

    def access(self, resp, req, environ, request_time) -> None:
        if not self.access_log_enabled:
            return
        fields = {"method": environ.get("REQUEST_METHOD"),
                  "route": environ.get(ENVIRON_ROUTE),
                  "path": environ.get("PATH_INFO"),
                  "status": resp.status_code,
                  "bytes": getattr(resp, "sent", None),
                  "duration_ms": round(request_time.total_seconds() * 1000, 1),
                  "remote": environ.get("REMOTE_ADDR")}
        self.access_log.info("%s %s %s", fields["method"], fields["path"], fields["status"],
                             extra={"fields": fields,
                                    "request_id": environ.get(ENVIRON_REQUEST_ID)})
