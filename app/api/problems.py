"""Errors under /api/ as RFC 9457 problem details, never an HTML page.

Each kind of problem has a stable `type` URI (`ErrorKind`); the title is fixed per kind,
the detail says what went wrong this time.
"""

from flask import Response, jsonify, request
from werkzeug.exceptions import HTTPException

from app.api.schemas import ErrorKind, FieldError

PROBLEM_MEDIA_TYPE = "application/problem+json"
API_PREFIX = "/api/"
#: Where the `type` URIs point: the reference page's section on errors.
TYPE_BASE = "/api/v1/reference#problem-"

TITLES = {
    ErrorKind.VALIDATION: "The request's values are not valid",
    ErrorKind.MALFORMED: "The request could not be read",
    ErrorKind.UNAUTHENTICATED: "A valid bearer token is needed",
    ErrorKind.FORBIDDEN: "The token does not allow this",
    ErrorKind.NOT_FOUND: "Not found",
    ErrorKind.METHOD: "Method not allowed",
    ErrorKind.TOO_LARGE: "The request is too large",
    ErrorKind.MEDIA_TYPE: "The body is not JSON",
    ErrorKind.RATE_LIMITED: "Too many requests",
    ErrorKind.SERVER: "Something went wrong on the server",
}
KIND_BY_STATUS = {400: ErrorKind.MALFORMED, 401: ErrorKind.UNAUTHENTICATED,
                  403: ErrorKind.FORBIDDEN, 404: ErrorKind.NOT_FOUND, 405: ErrorKind.METHOD,
                  413: ErrorKind.TOO_LARGE, 415: ErrorKind.MEDIA_TYPE,
                  422: ErrorKind.VALIDATION,
                  429: ErrorKind.RATE_LIMITED}


class ApiProblem(Exception):
    """Raised by the API's views and hooks; app/errors.py turns it into a response."""

    def __init__(self, status: int, detail: str, kind: ErrorKind | None = None,
                 errors: list[FieldError] | None = None) -> None:
        super().__init__(detail)
        self.status, self.detail = status, detail
        self.kind = kind or KIND_BY_STATUS.get(status, ErrorKind.SERVER)
        self.errors = errors


def is_api_request() -> bool:
    return request.path.startswith(API_PREFIX)


def problem_response(problem: ApiProblem) -> Response:
    body = {"type": TYPE_BASE + problem.kind, "title": TITLES[problem.kind],
            "status": problem.status, "detail": problem.detail}
    if problem.errors is not None:
        body["errors"] = [error.model_dump() for error in problem.errors]
    response = jsonify(body)
    response.status_code = problem.status
    response.mimetype = PROBLEM_MEDIA_TYPE
    if problem.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="vaka"'
    return response


def from_http_exception(error: HTTPException) -> Response:
    """A werkzeug error (404, 405, 413, 429, a guard's 400) as a problem; its headers
    (Allow, Retry-After) are kept."""
    status = error.code or 500
    detail = error.description if status in (400, 429) and error.description else \
        TITLES[KIND_BY_STATUS.get(status, ErrorKind.SERVER)] + "."
    response = problem_response(ApiProblem(status, str(detail)))
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response

