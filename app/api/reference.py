"""The API reference page's content, read from the OpenAPI document.

The page is rendered by the app itself (templates/api/reference.html), in its own
layout: every operation with its parameters, body and answers, every kind of
problem under the anchor its `type` URI names (`problems.TYPE_BASE`), and the
objects the operations send and answer with. An enum is written out where it is
used; an object is linked to its own section.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass

from app.api.problems import KIND_BY_STATUS, TITLES
from app.api.schemas import ErrorKind

SCHEMA_PREFIX = "#/components/schemas/"
#: spectree suffixes each schema name with a hash of the code ("AlertList.f179fd8").
_HASH_PART = re.compile(r"^[0-9a-f]{7}$")


@dataclass(frozen=True)
class Text:
    """A piece of text, shown as code or not, linked to an anchor of the page or not."""

    text: str
    code: bool = False
    anchor: str | None = None


@dataclass(frozen=True)
class Field:
    name: str
    required: bool
    type: list[Text]
    description: str
    #: Limits and default, in words ("at most 200 characters", "default: other").
    notes: list[str]
    #: Where a parameter goes ("query", "path"); None for an object's field.
    place: str | None = None


@dataclass(frozen=True)
class Answer:
    status: str
    description: str
    media_types: list[str]
    type: list[Text]


@dataclass(frozen=True)
class Operation:
    anchor: str
    method: str
    path: str
    summary: str
    #: The description's paragraphs, each as pieces (`code` in backticks).
    paragraphs: list[list[Text]]
    parameters: list[Field]
    body: list[Text] | None
    answers: list[Answer]
    #: Statuses answered with a problem (see the problem types).
    problems: list[str]


@dataclass(frozen=True)
class Problem:
    anchor: str
    type_uri: str
    title: str
    statuses: list[int]


@dataclass(frozen=True)
class Schema:
    anchor: str
    name: str
    description: str
    fields: list[Field]


@dataclass(frozen=True)
class Reference:
    title: str
    version: str
    introduction: list[list[Text]]
    operations: list[Operation]
    problems: list[Problem]
    schemas: list[Schema]


def reference(document: dict, type_base: str) -> Reference:
    """What the reference page shows of an OpenAPI document; problem anchors follow
    `type_base` (the `type` URIs' common start, up to the anchor's name)."""
    schemas = document.get("components", {}).get("schemas", {})
    operations = [_operation(path, method, described, schemas)
                  for path, methods in sorted(document["paths"].items())
                  for method, described in methods.items()]
    linked = sorted(_linked_objects(document, schemas), key=_display_name)
    return Reference(
        title=document["info"]["title"], version=document["info"]["version"],
        introduction=_paragraphs(document["info"].get("description", "")),
        operations=operations, problems=_problems(type_base),
        schemas=[_schema(name, schemas) for name in linked])


def schema_anchor(name: str) -> str:
    """The page anchor of a schema: its name without spectree's hash, dots as dashes."""
    return "schema-" + _display_name(name).replace(".", "-")


def _display_name(name: str) -> str:
    """A schema's name without spectree's hash: "AlertList.AlertOut" for
    "AlertList.f179fd8.AlertOut" (two models may both hold a "ReportOut")."""
    return ".".join(part for part in name.split(".") if not _HASH_PART.match(part))


def _operation(path: str, method: str, described: dict, schemas: dict) -> Operation:
    answers, problems = [], []
    for status, answer in sorted(described.get("responses", {}).items()):
        if int(status) >= 400:
            problems.append(status)
            continue
        content = answer.get("content", {})
        first = next(iter(content.values()), {})
        answers.append(Answer(status, answer.get("description", ""), list(content),
                              type_text(first["schema"], schemas) if "schema" in first else []))
    body = described.get("requestBody", {}).get("content", {}).get("application/json")
    return Operation(
        anchor=described.get("operationId", f"{method}-{path}"), method=method.upper(),
        path=path, summary=described.get("summary", ""),
        paragraphs=_paragraphs(described.get("description", "")),
        parameters=[_field(p["name"], p["schema"], p.get("required", False), schemas,
                           p.get("description", ""), place=p["in"])
                    for p in described.get("parameters", [])],
        body=type_text(body["schema"], schemas) if body else None,
        answers=answers, problems=problems)


def _problems(type_base: str) -> list[Problem]:
    anchor_start = type_base.split("#", 1)[1] if "#" in type_base else ""
    statuses = {kind: sorted(s for s, k in KIND_BY_STATUS.items() if k == kind)
                for kind in ErrorKind}
    statuses[ErrorKind.SERVER] = statuses[ErrorKind.SERVER] or [500]
    return [Problem(anchor_start + kind, type_base + kind, TITLES[kind], statuses[kind])
            for kind in ErrorKind]


def _schema(name: str, schemas: dict) -> Schema:
    schema = schemas[name]
    required = set(schema.get("required", []))
    return Schema(schema_anchor(name), _display_name(name), schema.get("description", ""),
                  [_field(field, described, field in required, schemas,
                          described.get("description", ""))
                   for field, described in schema.get("properties", {}).items()])


def _field(name: str, schema: dict, required: bool, schemas: dict, description: str,
           place: str | None = None) -> Field:
    return Field(name, required, type_text(schema, schemas),
                 description or schema.get("description", ""), _notes(schema), place)


def type_text(schema: dict, schemas: dict) -> list[Text]:
    """A schema's type in words: "string", "array of ReportOut" (linked), "one of: a, b"."""
    if "$ref" in schema:
        name = schema["$ref"].removeprefix(SCHEMA_PREFIX)
        target = schemas.get(name, {})
        if "enum" in target:
            return _enum(target["enum"])
        return [Text(_display_name(name), code=True, anchor=schema_anchor(name))]
    if "anyOf" in schema:
        pieces: list[Text] = []
        for index, option in enumerate(schema["anyOf"]):
            if index:
                pieces.append(Text(" or "))
            pieces += type_text(option, schemas)
        return pieces
    if "const" in schema:
        return [Text(str(schema["const"]), code=True)]
    if "enum" in schema:
        return _enum(schema["enum"])
    if schema.get("type") == "array":
        return [Text("array of "), *type_text(schema.get("items", {}), schemas)]
    kind = schema.get("type", "any")
    return [Text(f"{kind} ({schema['format']})" if "format" in schema else kind)]


def _enum(values: list) -> list[Text]:
    pieces = [Text("one of ")]
    for index, value in enumerate(values):
        if index:
            pieces.append(Text(", "))
        pieces.append(Text(str(value), code=True))
    return pieces


def _notes(schema: dict) -> list[str]:
    """A schema's limits and default, read from it and from the options of an anyOf."""
    notes = []
    for part in [schema, *schema.get("anyOf", [])]:
        if "minLength" in part or "maxLength" in part:
            notes.append(f"{part.get('minLength', 0)} to {part['maxLength']} characters"
                         if "maxLength" in part else f"at least {part['minLength']} characters")
        if "minimum" in part or "maximum" in part:
            notes.append(f"from {part.get('minimum', '-∞')} to {part.get('maximum', '∞')}")
        if "pattern" in part:
            notes.append(f"matches {part['pattern']}")
    if schema.get("default") is not None:
        notes.append(f"default: {schema['default']}")
    return notes


def _paragraphs(text: str) -> list[list[Text]]:
    """Paragraphs (split at blank lines), each as pieces: `code` in backticks or plain."""
    return [[Text(piece, code=bool(index % 2)) for index, piece in
             enumerate(paragraph.replace("\n", " ").split("`")) if piece]
            for paragraph in text.split("\n\n") if paragraph.strip()]


def _linked_objects(document: dict, schemas: dict) -> set[str]:
    """The object schemas that bodies and answers (problems too) use, and the objects
    those use; not the query schemas, which the parameters spell out."""
    found: set[str] = set()
    pending = [ref for methods in document["paths"].values() for described in methods.values()
               for ref in _refs([described.get("requestBody", {}),
                                 described.get("responses", {})])]
    while pending:
        name = pending.pop()
        if name in found or name not in schemas or "properties" not in schemas[name]:
            continue
        found.add(name)
        pending += list(_refs(schemas[name]))
    return found


def _refs(value: object) -> Iterator[str]:
    """Every schema name a part of the document refers to."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "$ref" and isinstance(item, str) and item.startswith(SCHEMA_PREFIX):
                yield item.removeprefix(SCHEMA_PREFIX)
            else:
                yield from _refs(item)
    elif isinstance(value, list):
        for item in value:
            yield from _refs(item)
