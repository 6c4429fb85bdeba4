"""Keeping anonymous reporters out of the server's logs.

No access-log line may tie an address, a browser or a time to an anonymous
report. Requests to the report form (a submission is a POST to it) and to the
receipt pages leave no line at all, and neither do the stylesheet and icon a
browser fetches right after showing such a page: their time would date the
submission just as well; nor does the form's look-up of matching known
issues while a reporter types. gunicorn.conf.py applies this to gunicorn's access
log; `init_app` applies it to the development server's (`flask run`).
"""

import logging
import re
from urllib.parse import urlsplit

from flask import Flask

#: The report form, where reports are written and sent (GET and POST).
FORM_PATH = "/"
#: The receipt pages and anything below them.
RECEIPT_PREFIX = "/status"
#: The form's look-up of matching known issues while a reporter types: its time and
#: its text would tie the reporter to the report.
MATCHING_PATH = "/report/matching-issues"
#: The API's report submission (anonymous ones too) and its receipt look-up; the queue,
#: at the same path as the submission, goes unlogged with it.
API_PATHS = ("/api/v1/reports", "/api/v1/receipt")
#: What a browser fetches by itself while showing any page, the anonymous ones included.
PAGE_RESOURCES = ("/static/", "/favicon.ico")
#: The request line inside a development-server log message.
_REQUEST_LINE = re.compile(r'"[A-Z]+ (\S+) HTTP/[0-9.]+"')


def unlogged(path: str) -> bool:
    """Whether a request for `path` (the WSGI PATH_INFO) leaves no access line."""
    path = re.sub("/+", "/", path) or "/"  # "//status" is redirected to "/status"
    receipt = path == RECEIPT_PREFIX or path.startswith(RECEIPT_PREFIX + "/")
    return (path in (FORM_PATH, MATCHING_PATH, *API_PATHS) or receipt
            or path.startswith(PAGE_RESOURCES))


class AnonymousRequestFilter(logging.Filter):
    """Drops the development server's access lines for the anonymous pages."""

    def filter(self, record: logging.LogRecord) -> bool:
        request = _REQUEST_LINE.search(record.getMessage())
        return not (request and unlogged(urlsplit(request.group(1)).path))


def init_app(_app: Flask) -> None:
    werkzeug_log = logging.getLogger("werkzeug")
    if not any(isinstance(f, AnonymousRequestFilter) for f in werkzeug_log.filters):
        werkzeug_log.addFilter(AnonymousRequestFilter())
