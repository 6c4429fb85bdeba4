"""Guards applied to every request before a view sees it."""

import re
from urllib.parse import unquote_to_bytes

from flask import Flask, abort, request
from flask_babel import gettext as _

#: Control characters no one types into a form (tab and line breaks are fine). A NUL
#: cannot be stored by PostgreSQL and cuts a pattern short on SQLite.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def has_control_character(text: str) -> bool:
    """Whether `text` holds a control character no one types (see `_CONTROL`)."""
    return _CONTROL.search(text) is not None


def _urlencoded_problem(raw: bytes) -> str | None:
    """What is wrong with the names and values of a query string or form body, if anything."""
    for pair in raw.split(b"&"):
        for piece in pair.split(b"=", 1):
            try:
                text = unquote_to_bytes(piece.replace(b"+", b" ")).decode("utf-8")
            except UnicodeDecodeError:
                return "utf-8"
            if has_control_character(text):
                return "control"
    return None


def reject_unreadable_input() -> None:
    """Refuse text that is not valid UTF-8 or holds control characters.

    Werkzeug would silently replace bad bytes, and the database would choke on a
    NUL or store it: refuse both before any view sees them.
    """
    messages = {
        "utf-8": (_("The address contains text that is not valid UTF-8."),
                  _("The form contains text that is not valid UTF-8.")),
        "control": (_("The address contains a control character."),
                    _("The form contains a control character.")),
    }
    problem = _urlencoded_problem(request.query_string)
    if problem:
        abort(400, messages[problem][0])
    # The body is cached, so the form parser reads the same bytes afterwards.
    if request.mimetype == "application/x-www-form-urlencoded":
        problem = _urlencoded_problem(request.get_data(cache=True))
        if problem:
            abort(400, messages[problem][1])


def reject_unknown_args(allowed: set[str]) -> None:
    """A query parameter the page does not know is a mistake worth telling about."""
    unknown = sorted(set(request.args) - allowed)
    if unknown:
        abort(400, _("Unknown parameter: %(names)s", names=", ".join(unknown)))


def init_app(app: Flask) -> None:
    app.before_request(reject_unreadable_input)
