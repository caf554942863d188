"""The Cirrus 2 operation table and what the server makes of it.

``operations.json`` (next to this file) holds the facts of all 233
operations: the operationId, method, path, path aliases, alternative
methods, path and query parameters (type, default, enum, csv, wildcard,
max), request body fields and the response kind. The group modules bind
operations by operationId; :func:`resolve` turns their tables into
:class:`Operation` objects, and the router, the request parsing and
``swagger.json`` are all derived from those.

The operationId is the vendor's where its page gives one no other
operation has (``get_contract_object_item``), otherwise
``<method>_<resource>_<collection|item>`` in the vendor's style
(``post_account_collection``, ``get_account_item``, ``post_account_follow``).
``operation_id`` keeps what the vendor page printed, clashes included.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from polycrm.faces.cirrus import wire
from polycrm.faces.cirrus.errors import invalid
from polycrm.faces.cirrus.handlers import Binding
from polycrm.faces.cirrus.schemas import MODELS, VALUE_MODELS, table_type

TABLE: list[dict[str, Any]] = json.loads(Path(__file__).with_name("operations.json").read_text())
BY_NUMBER = {op["n"]: op for op in TABLE}
BY_ID = {op["operationId"]: op for op in TABLE}

# Path segments the vendor page lost; served under these names.
NAMESPACES = {"{ns}": "integrations"}


def canonical_path(op: dict[str, Any]) -> str:
    path = op["path"]
    for placeholder, name in NAMESPACES.items():
        path = path.replace("/" + placeholder, "/" + name)
    return path


def all_paths(op: dict[str, Any]) -> list[str]:
    paths = [canonical_path(op)]
    for alias in op.get("path_aliases", []):
        for placeholder, name in NAMESPACES.items():
            alias = alias.replace("/" + placeholder, "/" + name)
        if alias not in paths:
            paths.append(alias)
    return paths


def methods(op: dict[str, Any]) -> list[str]:
    return [op["method"], *[m for m in op.get("method_alternatives", []) if m != op["method"]]]


# -- query parameters --------------------------------------------------------
@dataclass(frozen=True)
class Param:
    """One query parameter as the server parses it."""

    spec: dict[str, Any]

    @property
    def name(self) -> str:
        # The doc's "businessareaid'" (stray apostrophe) is served as both spellings.
        return self.spec["name"].rstrip("'")

    @property
    def spellings(self) -> list[str]:
        names = [self.spec["name"], *self.spec.get("aliases", [])]
        if self.name not in names:
            names.append(self.name)
        return list(dict.fromkeys(names))

    @property
    def kind(self) -> str:
        s = self.spec
        if s["type"].startswith("array["):
            return "array_int" if s["type"] == "array[int]" else "array_str"
        if s.get("csv"):
            return "csv"
        if s.get("format") == "date":
            return "date"
        if s.get("format") == "date-time":
            return "datetime"
        if self.name == "nearto":
            return "point"
        if self.name == "distance":
            return "km"
        return "int" if s["type"] == "int" else "str"

    @property
    def required(self) -> bool:
        """Required and without a default (``sorting`` is required but defaulted)."""
        return bool(self.spec.get("required")) and self.spec.get("default") is None

    @property
    def maximum(self) -> int | None:
        if self.name == "per_page":
            return self.spec.get("max") or UNSTATED_PAGE_MAX
        return None

    def schema(self) -> dict[str, Any]:
        """The parameter's JSON Schema in swagger.json."""
        kind = self.kind
        s: dict[str, Any]
        if kind == "int":
            s = {"type": "integer", "format": "int32", "minimum": wire.INT_MIN, "maximum": wire.INT_MAX}
            if self.name in ("page", "per_page"):
                s["minimum"] = 1
            if self.maximum:
                s["maximum"] = self.maximum
        elif kind == "csv":
            s = {"type": "string", "pattern": r"^[0-9 ,]*$", "maxLength": MAX_CSV}
        elif kind == "date":
            s = {"type": "string", "format": "date"}
        elif kind == "datetime":
            s = {"type": "string", "format": "date-time"}
        elif kind == "point":
            s = {"type": "string", "pattern": POINT_PATTERN}
        elif kind == "km":
            s = {"type": "string", "pattern": r"^\s*[0-9]+(\.[0-9]+)?\s*$"}
        elif kind == "array_int":
            s = {"type": "array", "items": {"type": "integer", "format": "int32",
                                           "minimum": wire.INT_MIN, "maximum": wire.INT_MAX}}
        elif kind == "array_str":
            s = {"type": "array", "items": {"type": "string", "maxLength": MAX_QUERY_TEXT, **wire.without_nul()}}
        else:
            s = {"type": "string", "maxLength": MAX_QUERY_TEXT, **wire.without_nul()}
        if self.spec.get("enum"):
            s["enum"] = list(self.spec["enum"])
        if self.spec.get("default") is not None:
            s["default"] = self.spec["default"]
        return s

    def parse(self, raw: list[str]) -> Any:
        """The typed value of the raw query values; ValueError with the reason."""
        kind = self.kind
        if kind.startswith("array"):
            values = raw
        elif not raw:
            if self.required:
                raise ValueError("Missing required parameter in the query string")
            return self.spec.get("default")
        else:
            values = raw[-1:]
        if kind == "array_int":
            return [_int(v) for v in values]
        for value in values:
            problem = wire.text_problem(value, self.name)
            if problem:
                raise ValueError(problem)
        if kind == "array_str":
            return [_bounded(v, MAX_QUERY_TEXT) for v in values]
        text = _bounded(values[0], MAX_CSV if kind == "csv" else MAX_QUERY_TEXT)
        if kind == "str":
            value: Any = text
            if value == "" and self.name == "sorting":
                return self.spec.get("default")
        elif kind == "int":
            value = _int(text)
            if self.name in ("page", "per_page") and value < 1:
                raise ValueError(f"{value} is less than the minimum of 1")
            if self.maximum and value > self.maximum:
                raise ValueError(f"{value} is greater than the maximum of {self.maximum}")
        elif kind == "csv":
            # Commas or blanks separate the ids; ids beyond the integer range
            # cannot match anything: they are dropped, not refused.
            value = [n for n in (_int(part, bounded=False) for part in re.split(r"[,\s]+", text) if part)
                     if wire.INT_MIN <= n <= wire.INT_MAX]
        elif kind == "date":
            value = wire.parse_date(text)
            if value is None:
                raise ValueError(f"{text!r} is not a date (YYYY-MM-DD)")
        elif kind == "datetime":
            value = wire.parse_datetime(text) or wire.parse_date(text)
            if value is None:
                raise ValueError(f"{text!r} is not a date-time (ISO 8601)")
        elif kind == "point":
            value = parse_point(text)
        else:  # km
            try:
                value = float(text)
            except ValueError:
                raise ValueError(f"{text!r} is not a number of kilometres") from None
            if not 0 <= value < float("inf"):
                raise ValueError(f"{text!r} is not a distance in kilometres")
        enum = self.spec.get("enum")
        if enum and value not in enum:
            raise ValueError(f"The value {values[0]!r} is not a valid choice for '{self.name}'.")
        return value


UNSTATED_PAGE_MAX = 1000
# A body that is the JSON literal ``null``: not the same as no body at all
# (which reads as ``{}``), and refused where the operation expects an object.
SENT_NULL = object()
# Texts kept in Text columns or JSON.
LONG_TEXT = 65535
POINT_PATTERN = r"^\s*\{?\s*-?[0-9]+(\.[0-9]+)?\s*[,; ]\s*-?[0-9]+(\.[0-9]+)?\s*\}?\s*$"
_POINT = re.compile(POINT_PATTERN)


def parse_point(text: str) -> tuple[float, float]:
    """``lat,lng``, with or without braces (``{55.67, 12.56}``)."""
    if not _POINT.match(text):
        raise ValueError(f"{text!r} is not a location: send 'latitude,longitude'")
    lat, lng = (float(p) for p in re.findall(r"-?[0-9]+(?:\.[0-9]+)?", text))
    # Out-of-range values are kept: they only ever find fewer records.
    return lat, lng


MAX_QUERY_TEXT = 1000
MAX_CSV = 2000


def _bounded(text: str, limit: int) -> str:
    if len(text) > limit:
        raise ValueError(f"longer than {limit} characters")
    return text


def _int(text: str, *, bounded: bool = True) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        raise ValueError(f"invalid literal for int() with base 10: {text!r}") from None
    if bounded and not wire.INT_MIN <= value <= wire.INT_MAX:
        raise ValueError(f"{value} is out of range")
    return value


# -- operations ----------------------------------------------------------------
@dataclass
class Operation:
    """One served operation: the table's facts plus its binding."""

    op: dict[str, Any]
    binding: Binding

    @property
    def n(self) -> int:
        return self.op["n"]

    @property
    def operation_id(self) -> str:
        return self.op["operationId"]

    @cached_property
    def params(self) -> list[Param]:
        return [Param(p) for p in self.op.get("query", [])]

    @cached_property
    def inline(self) -> bool:
        """A GET of one record by its id (and nothing that writes)."""
        return self.binding.result == "object" and not self.binding.writes and self.op["method"] == "GET" \
            and bool(self.op.get("path_params"))

    @cached_property
    def path_params(self) -> list[str]:
        return [p["name"] for p in self.op.get("path_params", [])]

    def parse_query(self, multi: dict[str, list[str]]) -> dict[str, Any]:
        parsed: dict[str, Any] = {}
        errors: dict[str, str] = {}
        for param in self.params:
            raw: list[str] = []
            for spelling in param.spellings:
                raw += multi.get(spelling, [])
            try:
                parsed[param.name] = param.parse(raw)
            except ValueError as exc:
                errors[param.name] = str(exc)
        if errors:
            raise invalid(errors)
        return parsed

    @cached_property
    def body_schema(self) -> dict[str, Any] | None:
        """The request body schema from the table (nothing required on PUT)."""
        source = BY_ID[self.binding.body_from] if self.binding.body_from else self.op
        fields = source.get("body_fields")
        if not fields:
            return None
        props: dict[str, Any] = {}
        required = []
        for f in fields:
            t = table_type(f["type"])
            if f.get("format") == "date":
                t = "date"
            elif f.get("format") in ("date-time", "_DateTime"):
                t = "datetime"
            # A field the server refuses empty ("This field can not be empty") cannot be null either.
            nullable = not f.get("required") and not self.refuses_blank(f["name"])
            props[f["name"]] = input_schema(t, nullable=nullable)
            if t == "str":
                props[f["name"]]["maxLength"] = self.max_length(f["name"])
                if self.refuses_blank(f["name"]):
                    props[f["name"]]["pattern"] = r"\S"
            extra_schema = self.writer_schema(f["name"])
            if extra_schema:
                props[f["name"]] = {**props[f["name"]], **extra_schema}
            if (f.get("required") or self.required_on_create(f["name"])) and self.op["method"] == "POST":
                required.append(f["name"])
        schema: dict[str, Any] = {"type": "object", "properties": props}
        if required:
            schema["required"] = required
        return schema

    def writer_schema(self, name: str) -> dict[str, Any] | None:
        """Schema keywords a writer adds (a time pattern, say)."""
        entity = self.binding.entity
        return getattr(entity.writers.get(name), "schema", None) if entity else None

    def required_on_create(self, name: str) -> bool:
        entity = self.binding.entity
        return bool(entity and getattr(entity.writers.get(name), "create_required", False))

    def refuses_blank(self, name: str) -> bool:
        entity = self.binding.entity
        return bool(entity and getattr(entity.writers.get(name), "required", False))

    def max_length(self, name: str) -> int:
        """The longest text a body field's core column holds."""
        entity = self.binding.entity
        path = getattr(entity.writers.get(name), "path", None) if entity else None
        if path is None or "." in path:
            return wire.DEFAULT_MAX_LENGTH if path is None else LONG_TEXT
        column = entity.model.__table__.c.get(path)
        length = getattr(getattr(column, "type", None), "length", None)
        return length or LONG_TEXT

    def validate_body(self, body: Any) -> Any:
        """The body once it passes the schema; one without a schema is handed on
        whole, so no string in it may hold a NUL or a lone surrogate."""
        schema = self.body_schema
        if body is SENT_NULL:
            if schema is not None:
                raise invalid(wire.validate(schema, None, INPUT_DEFS) or {"": "None is not of type 'object'"})
            body = None
        if schema is None:
            errors = wire.text_errors(body)
            if errors:
                raise invalid(errors)
            return body
        if body is None:
            body = {}
        errors = wire.validate(schema, body, INPUT_DEFS)
        if errors:
            raise invalid(errors)
        return body


def resolve(bindings: Mapping[str, Binding]) -> list[Operation]:
    """The served operations, in table order, from ``{operationId: Binding}``.

    Every operation of the table is bound exactly once: a name the table does
    not know (a typo) or an operation left unbound is an error here, when the
    group tables are collected, not a route that silently goes missing.
    """
    unknown = sorted(set(bindings) - set(BY_ID))
    if unknown:
        raise ValueError(f"unknown operationIds bound: {unknown}")
    unbound = [op["operationId"] for op in TABLE if op["operationId"] not in bindings]
    if unbound:
        raise ValueError(f"operations without a binding: {unbound}")
    for name, binding in bindings.items():
        if binding.body_from is not None and binding.body_from not in BY_ID:
            raise ValueError(f"{name}: body_from names an unknown operationId {binding.body_from!r}")
    return [Operation(op, bindings[op["operationId"]]) for op in TABLE]


def input_schema(t: str, *, nullable: bool = True) -> dict[str, Any]:
    """The request schema of a wire type; nested models are referenced."""
    if wire.is_list(t):
        s: dict[str, Any] = {"type": "array", "items": input_schema(wire.item_type(t), nullable=False), "maxItems": 1000}
    else:
        s = wire.scalar_schema(t, for_input=True) or {"$ref": f"#/components/schemas/{t}In"}
    if nullable:
        s = {**s, "nullable": True} if "$ref" not in s else {"allOf": [s], "nullable": True}
    return s


def _input_model(name: str) -> dict[str, Any]:
    fields = MODELS[name]
    props = {f: input_schema(t) for f, t in fields.items()}
    schema: dict[str, Any] = {"type": "object", "properties": props}
    if "id" in fields and name not in VALUE_MODELS:
        # A nested model in a request body is a reference: it needs its id.
        schema["required"] = ["id"]
        props["id"] = input_schema("int", nullable=False)
    return schema


class _InputDefs(dict):
    """``{<Model>In: schema}``, built on first use."""

    def __missing__(self, key: str) -> dict[str, Any]:
        schema = wire.FREE_VALUE_SCHEMA if key == wire.FREE_VALUE else _input_model(key[:-2])
        self[key] = schema
        return schema


INPUT_DEFS: dict[str, dict[str, Any]] = _InputDefs()
