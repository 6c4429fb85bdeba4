"""Use cases: one plain function each, one transaction each.

Services raise `ServiceError` subclasses with a message for the person;
views turn them into form errors or flashed messages. A `NotFound` that a view
lets through becomes the 404 page (app/errors.py).
"""


class ServiceError(Exception):
    """A request that cannot be carried out, with a message fit to show."""


class NotFound(ServiceError):
    pass
