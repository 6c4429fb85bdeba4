"""Guards applied to every request before a view sees it."""

from urllib.parse import unquote_to_bytes

from flask import Flask, abort, request
from flask_babel import gettext as _


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _urlencoded_is_utf8(raw: bytes) -> bool:
    """Whether every name and value in a query string or form body is valid UTF-8."""
    for pair in raw.split(b"&"):
        for piece in pair.split(b"=", 1):
            if not _is_utf8(unquote_to_bytes(piece.replace(b"+", b" "))):
                return False
    return True


def reject_invalid_utf8() -> None:
    """Werkzeug would silently replace bad bytes; refuse them instead of storing garbage."""
    if not _urlencoded_is_utf8(request.query_string):
        abort(400, _("The address contains text that is not valid UTF-8."))
    # The body is cached, so the form parser reads the same bytes afterwards.
    if (request.mimetype == "application/x-www-form-urlencoded"
            and not _urlencoded_is_utf8(request.get_data(cache=True))):
        abort(400, _("The form contains text that is not valid UTF-8."))


def reject_unknown_args(allowed: set[str]) -> None:
    """A query parameter the page does not know is a mistake worth telling about."""
    unknown = sorted(set(request.args) - allowed)
    if unknown:
        abort(400, _("Unknown parameter: %(names)s", names=", ".join(unknown)))


def init_app(app: Flask) -> None:
    app.before_request(reject_invalid_utf8)
