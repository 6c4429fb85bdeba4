"""The JSON API, /api/v1/: a blueprint whose views spectree validates and describes.

spectree reads the pydantic models each view is decorated with (app/api/schemas.py)
to validate the request and to write the OpenAPI 3.1 document; `openapi_document`
adds what spectree cannot say by itself (problem responses' media type, the bearer
scheme, each operation's scope). An operation is one view in app/api/routes.py:
`@bp.<method>`, `operation(...)`, and for a token `@token_required(permission)`.
"""

import copy
import re
from collections.abc import Callable
from functools import wraps

from flask import Blueprint, Flask, request
from pydantic import ValidationError
from spectree import Response, SecurityScheme, SpecTree
from spectree.models import SecuritySchemeData

from app.api.problems import PROBLEM_MEDIA_TYPE, ApiProblem
from app.api.schemas import FieldError, Problem
from app.extensions import csrf

VERSION = "v1"
PREFIX = f"/api/{VERSION}"
#: Every operation may answer with these problems (the server's own included).
COMMON_PROBLEMS = (400, 404, 405, 413, 422, 429, 500)
TOKEN_PROBLEMS = (401, 403)

bp = Blueprint("api", __name__, url_prefix=PREFIX)
csrf.exempt(bp)  # no cookies: a bearer token, or nothing, vouches for a request


def _problem_hook(req, _resp, error: ValidationError | None, _instance, _adapter) -> None:
    """Turn spectree's validation errors into a 422 problem (a 400 for unreadable JSON)."""
    if error is None:
        return
    if req.method != "GET" and req.get_data() and req.get_json(silent=True) is None:
        raise ApiProblem(400, "The body is not JSON (send Content-Type: application/json).")
    errors = [FieldError(field=_field_name(e["loc"]), message=e["msg"])
              for e in error.errors(include_url=False)]
    raise ApiProblem(422, "Some values are missing or not valid: see errors.", errors=errors)


def _field_name(location: tuple) -> str:
    """"status" for pydantic's ("status", "literal['open']"): the union member is left out."""
    names = [str(part) for part in location if isinstance(part, int) or
             re.fullmatch(r"\w+", str(part))]
    return ".".join(names) or "body"


spec = SpecTree(
    "flask", mode="strict", title="Vaka API", version=VERSION,
    description="Reports in and out of Vaka for the systems around it. Errors are RFC 9457 "
                "problem details. See README, section JSON API.",
    before=_problem_hook, validation_error_model=Problem,
    security_schemes=[SecurityScheme(name="bearer", data=SecuritySchemeData(
        type="http", scheme="bearer",
        description="A token an admin made for your system on /admin/tokens."))],
)


def operation(ok: int, model: type | None, *, token: bool = True, **validated) -> Callable:
    """spectree's validation for an operation answering `ok` with `model` (None: a file),
    or with a problem for every status that can go wrong. A body must be JSON (spectree
    would skip validating a form's)."""
    problems = COMMON_PROBLEMS + (TOKEN_PROBLEMS if token else ())
    if "json" in validated:
        problems += (415,)
    responses = {f"HTTP_{status}": Problem for status in problems}
    responses[f"HTTP_{ok}"] = model
    validate = spec.validate(resp=Response(**responses), **validated)

    def decorator(view: Callable) -> Callable:
        checked = validate(view)
        if "json" not in validated:
            return checked

        @wraps(checked)
        def json_only(*args, **kwargs):
            if not request.is_json:
                raise ApiProblem(415, "Send the body as JSON (Content-Type: application/json).")
            return checked(*args, **kwargs)

        return json_only

    return decorator


#: Operations whose success is a file, not JSON: their path and its media type.
FILE_RESPONSES: dict[str, list[str]] = {}


def openapi_document(app: Flask) -> dict:
    """spectree's document with problem responses as application/problem+json, the
    bearer scheme on the operations that need a token, and their scope named."""
    document = copy.deepcopy(spec.spec)
    for path, operations in document["paths"].items():
        for method, described in operations.items():
            view = app.view_functions[_endpoint(app, path, method)]
            scope = getattr(view, "api_scope", None)
            if scope:
                described["security"] = [{"bearer": []}]
                described["description"] += f"\n\nNeeds a token with the scope `{scope}`."
                described["x-scope"] = scope
            else:
                described["security"] = [{}]
            for status, response in described["responses"].items():
                content = response.pop("content", None)
                if int(status) >= 400:
                    response["content"] = {PROBLEM_MEDIA_TYPE: content["application/json"]}
                elif path in FILE_RESPONSES:
                    response["content"] = {media_type: {"schema": _file_schema(media_type)}
                                           for media_type in FILE_RESPONSES[path]}
                elif content:
                    response["content"] = content
    return document


def _file_schema(media_type: str) -> dict:
    """A JSON file (FHIR's) is an object; any other file a string."""
    return {"type": "object" if media_type.endswith("+json") else "string"}


def _endpoint(app: Flask, path: str, method: str) -> str:
    """The endpoint of the rule the document calls `path` ("/api/v1/reports/{report_id}")."""
    return next(rule.endpoint for rule in app.url_map.iter_rules()
                if re.sub(r"<(?:[^:>]+:)?(\w+)>", r"{\1}", rule.rule) == path
                and method.upper() in rule.methods)


from app.api import routes  # noqa: E402,F401  (registers the operations on bp)
