"""``GET /api/v1/schema.json``: every centiaCRM method as JSON Schema, from the method table.

Generated from :data:`polycrm.faces.centia.table.METHODS` and their
:class:`~polycrm.faces.centia.wire.Param` specs, the ones
:func:`~polycrm.faces.centia.wire.parse` checks requests against. The
schemas say what the parser accepts (numbers may come as numeric text,
booleans as ``1``/``"yes"``, as docs/centiacrm.md describes); the output is
the centia envelope, ``success: true`` with a ``response`` object or
``success: false`` with an empty ``response`` and an ``error``.
"""

from __future__ import annotations

from typing import Any

from polycrm.faces.centia.table import METHODS, Method
from polycrm.faces.centia.wire import Param

DRAFT = "https://json-schema.org/draft/2020-12/schema"

SUCCESS = {"type": "object", "required": ["success", "response"], "additionalProperties": False,
           "properties": {"success": {"const": True}, "response": {"type": "object"}}}
FAILURE = {"type": "object", "required": ["success", "response", "error"], "additionalProperties": False,
           "properties": {"success": {"const": False}, "response": {"type": "array", "maxItems": 0},
                          "error": {"type": "string", "minLength": 1}}}
OUTPUT = {"oneOf": [SUCCESS, FAILURE]}

_SCALAR = {
    "int": {"type": ["integer", "string"]},
    "float": {"type": ["number", "string"]},
    "str": {"type": ["string", "number", "boolean"]},
    "bool": {"type": ["boolean", "integer", "string"]},
    "ids": {"type": ["array", "integer", "string"], "items": {"type": ["integer", "string"]}},
    "address": {"type": "object"},
}


def param_schema(p: Param) -> dict[str, Any]:
    if p.kind in _SCALAR:
        return dict(_SCALAR[p.kind])
    if p.kind == "enum":
        return {"type": "string", "enum": list(p.choices)}
    if p.kind == "date":
        return {"type": "string", "description": f"a date as {p.fmt}"}
    if p.kind in ("dates", "numbers"):
        bound = {"type": "string", "description": f"a date as {p.fmt}"} if p.kind == "dates" else {"type": ["number", "string"]}
        return {"type": "object", "properties": {"from": bound, "to": bound}}
    if p.kind == "object":
        return params_schema(p.children) if p.children else {"type": "object"}
    if p.kind == "list":
        return {"type": ["array", "object"], "items": params_schema(p.children)}
    raise AssertionError(f"unknown parameter kind {p.kind}")


def params_schema(params: tuple[Param, ...]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": [p.name for p in params if p.required],
        "properties": {p.name: param_schema(p) for p in params},
    }


def method_schema(method: Method) -> dict[str, Any]:
    return {
        "module": method.module,
        "auth": method.auth,
        "writes": method.writes,
        "input": {
            "type": "object",
            "required": ["method"],
            "properties": {"method": {"const": method.name}, "parameters": params_schema(method.params)},
        },
        "output": OUTPUT,
    }


def document() -> dict[str, Any]:
    return {
        "$schema": DRAFT,
        "title": "centiaCRM v1 API (polycrm)",
        "endpoint": "POST /api/v1/{module}",
        "methods": {f"{m.module}.{m.name}": method_schema(m) for m in METHODS},
    }
