"""``swagger.json``: an OpenAPI 3.0 document of exactly the served operations.

Generated from the same operation table, bindings and wire models that
drive the handlers: paths and methods (aliases included), path and query
parameters with their types, defaults and enums, the request body schema
the server validates against, and the response schema the renderer
produces. Every response field may be null (the renderer emits null for
what a record lacks); lists are always lists.
"""

from __future__ import annotations

import re
from typing import Any

from polycrm.faces.cirrus import wire
from polycrm.faces.cirrus.schemas import MODELS
from polycrm.faces.cirrus.operations import INPUT_DEFS, Operation, all_paths, methods
from polycrm.faces.cirrus.endpoint import MAX_MASK

TITLE = "RESTful API for Cirrus 2 (polycrm)"
VERSION = "0.3.73"
# X-Fields masks the document promises to accept: flat field lists. Nested
# masks work too (see docs/cirrus2.md) but cannot be described by a pattern.
_NAME = r"[\w:*-]+"
_FLAT = rf"(?:{_NAME}(?:\s*,?\s*{_NAME})*\s*,?)?"
MASK_PATTERN = rf"^\s*(?:\{{\s*{_FLAT}\s*\}}|{_FLAT})\s*$"

MESSAGE = {"type": "object", "properties": {"message": {"type": "string"}}, "required": ["message"]}
ERRORS = {
    "type": "object",
    "properties": {
        "message": {"type": "string"},
        "errors": {"type": "object", "additionalProperties": {"type": "string"}},
    },
    "required": ["message"],
}


def output_schema(t: str) -> dict[str, Any]:
    if wire.is_list(t):
        return {"type": "array", "items": output_schema(wire.item_type(t)), "nullable": True}
    scalar = wire.scalar_schema(t, for_input=False)
    if scalar is not None:
        return {**scalar, "nullable": True}
    return {"allOf": [{"$ref": f"#/components/schemas/{t}"}], "nullable": True}


def _model_schema(name: str) -> dict[str, Any]:
    return {"type": "object", "properties": {f: output_schema(t) for f, t in MODELS[name].items()}}


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _is_input(name: str) -> bool:
    """Whether a schema name is a request model (``AccountIn``, the free value)."""
    return name == wire.FREE_VALUE or name.endswith("In") and name[:-2] in MODELS


def _used_models(schema: Any, found: set[str]) -> None:
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str):
            name = ref.rsplit("/", 1)[-1]
            if name not in found:
                found.add(name)
                if _is_input(name):
                    _used_models(INPUT_DEFS[name], found)
                elif name in MODELS:
                    _used_models(_model_schema(name), found)
        for value in schema.values():
            _used_models(value, found)
    elif isinstance(schema, list):
        for value in schema:
            _used_models(value, found)


def operation_id(operation: Operation, method: str) -> str:
    op = operation.op
    base = op.get("operation_id") or re.sub(r"[^a-z0-9]+", "_", op["summary"].lower()).strip("_")[:60]
    suffix = "" if method == op["method"] else f"_{method.lower()}"
    return f"{base}_{op['n']}{suffix}"


def _response(operation: Operation) -> dict[str, Any]:
    binding = operation.binding
    item = _ref(binding.view.schema) if binding.view else {"type": "object"}
    if binding.result == "page":
        extra = {name: {"type": "integer"} for name in ("page", "pages", "per_page", "total")}
        # Nothing is required: an X-Fields mask may leave any field out.
        return {"type": "object", "properties": {**extra, "items": {"type": "array", "items": item}}}
    if binding.result == "list":
        return {"type": "array", "items": item}
    if binding.result == "object":
        return item
    return {"type": "object"}


def _parameters(operation: Operation) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = []
    for name in operation.path_params:
        schema: dict[str, Any] = {"type": "integer", "format": "int32", "minimum": 0, "maximum": wire.INT_MAX}
        if name.endswith("_type"):
            schema = {"type": "string", "pattern": "^[a-z_]+$", "maxLength": 40}
        elif name == "month":
            schema.update(minimum=1, maximum=12)
        elif name == "year":
            schema.update(minimum=1900, maximum=9999)
        params.append({"name": name, "in": "path", "required": True, "schema": schema})
    for param in operation.params:
        entry: dict[str, Any] = {"name": param.name, "in": "query", "required": param.required,
                                 "schema": param.schema()}
        if param.kind.startswith("array"):
            entry.update(style="form", explode=True)
        params.append(entry)
    if operation.op.get("x_fields"):
        params.append({"name": "X-Fields", "in": "header", "required": False,
                       "description": "An optional fields mask",
                       "schema": {"type": "string", "pattern": MASK_PATTERN, "maxLength": MAX_MASK}})
    return params


# polycrm's transport limits (docs/limits.md) answer every operation the
# same way, so each one documents them.
LIMIT_RESPONSES: dict[str, Any] = {
    status: {"description": text, "content": {"application/json": {"schema": MESSAGE}}}
    for status, text in (("413", "Request body too large"), ("414", "Request URL too long"),
                         ("429", "Too many requests"), ("431", "Request headers too large"))
}


def document(operations: list[Operation], prefix: str) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for operation in sorted(operations, key=lambda o: o.n):
        op = operation.op
        for path in all_paths(op):
            for method in methods(op):
                entry: dict[str, Any] = {
                    "operationId": operation_id(operation, method) + ("" if path == all_paths(op)[0]
                                                                      else f"_alias{all_paths(op).index(path)}"),
                    "summary": op["summary"],
                    "tags": [op["group"]],
                    "parameters": _parameters(operation),
                    "responses": {
                        "200": {"description": "Success",
                                "content": {"application/json": {"schema": _response(operation)}}},
                        "400": {"description": "Validation error",
                                "content": {"application/json": {"schema": ERRORS}}},
                        "401": {"description": "Missing or invalid credentials",
                                "content": {"application/json": {"schema": MESSAGE}}},
                        "404": {"description": "Not found",
                                "content": {"application/json": {"schema": ERRORS}}},
                        "409": {"description": "Conflicts with the current state",
                                "content": {"application/json": {"schema": MESSAGE}}},
                        **LIMIT_RESPONSES,
                    },
                }
                if op.get("deprecated"):
                    entry["deprecated"] = True
                body = operation.body_schema
                if body is not None and method in ("POST", "PUT"):
                    entry["requestBody"] = {
                        "required": bool(body.get("required")),
                        "content": {"application/json": {"schema": body}},
                    }
                paths.setdefault(path, {})[method.lower()] = entry
    used: set[str] = set()
    _used_models(paths, used)
    schemas: dict[str, Any] = {}
    for name in sorted(used):
        schemas[name] = INPUT_DEFS[name] if _is_input(name) else _model_schema(name)
    return {
        "openapi": "3.0.3",
        "info": {"title": TITLE, "version": VERSION,
                 "description": "A Cirrus 2 compatible REST API served by polycrm."},
        "servers": [{"url": prefix or "/"}],
        "security": [{"X-Token": []}, {"OAuth2": []}],
        "components": {
            "securitySchemes": {
                "X-Token": {"type": "apiKey", "in": "header", "name": "X-Token"},
                "OAuth2": {"type": "oauth2", "flows": {"clientCredentials": {"tokenUrl": "/oauth/token", "scopes": {}}}},
            },
            "schemas": schemas,
        },
        "paths": dict(sorted(paths.items())),
    }
