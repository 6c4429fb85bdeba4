"""URL converters: what the variable parts of Vaka's routes may be."""

from flask import Flask
from werkzeug.routing import IntegerConverter

from models import MAX_ID


class IdConverter(IntegerConverter):
    """``<int:...>`` for ids: a number larger than any row's matches no route (404)
    instead of reaching the database, where SQLite cannot even bind it (a 500)."""

    def __init__(self, url_map, *args, **kwargs) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)


def init_app(app: Flask) -> None:
    """Before any route is added: every ``<int:...>`` is an id."""
    app.url_map.converters["int"] = IdConverter
