"""Error pages: a clear message in the visitor's language, never a stack trace."""

from flask import Flask, render_template
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, NotFound

from app import services
from app.api.problems import (
    ApiProblem,
    from_http_exception,
    is_api_request,
    problem_response,
)


def _render(error: HTTPException, message: str | None = None):
    description = message or (error.description if error.code == 400 else None)
    return render_template("errors/error.html", code=error.code,
                           title=_error_title(error.code), description=description), error.code


def _error_title(code: int | None) -> str:
    titles = {
        400: _("The request could not be understood"),
        403: _("You do not have access to this page"),
        404: _("Page not found"),
        405: _("That action is not allowed here"),
        413: _("What you sent is too large"),
        429: _("Too many attempts, please wait a moment"),
    }
    return titles.get(code, _("Something went wrong"))


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        return _render(error, _("The form had expired or was not sent from this site. "
                                "Please go back, reload the page and try again."))

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if is_api_request():
            return from_http_exception(error)
        return _render(error)

    @app.errorhandler(services.NotFound)
    def missing_object(error: services.NotFound):
        """A report, user, unit or known issue a route asked a service for does not exist."""
        return http_error(NotFound())

    @app.errorhandler(ApiProblem)
    def api_problem(problem: ApiProblem):
        return problem_response(problem)
