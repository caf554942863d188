"""Wire types of the Cirrus face: JSON Schema for them, validation, coercion.

A *type* is a short string: ``int``, ``str``, ``num``, ``bool``, ``date``,
``datetime``, ``coord`` (a coordinate or distance, a decimal number sent as
a string), ``any`` (a free object), the name of a model in
:data:`polycrm.faces.cirrus.schemas.MODELS`, or ``[T]`` for a list of ``T``.

The same schemas drive request validation and ``swagger.json``, so what the
document promises is what the server checks. Validation messages follow the
jsonschema wording Flask-RESTX passes through (``"'x' is not of type
'integer'"``, ``"'name' is a required property"``), keyed by the dotted
path of the offending field.

No string the server reads may hold a NUL character or a lone surrogate (the
core's rule, :func:`polycrm.core.limits.check_text`): validation refuses one
in every declared field and anywhere in a free object, keys included (unknown
fields are ignored, so not looked at); every input string schema carries
:func:`without_nul` so the document says so too.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from polycrm.core.errors import Invalid
from polycrm.core.limits import check_text

INT_MIN, INT_MAX = -(2**31), 2**31 - 1
# Money and measures are Numeric(18, 4) in the core.
NUM_LIMIT = 10**13
DEFAULT_MAX_LENGTH = 255
COORD_PATTERN = r"^\s*(-?[0-9]+(\.[0-9]+)?)?\s*$"
_COORD = re.compile(COORD_PATTERN)
# Every input string of swagger.json holds no NUL: "not" a match of this class (schemathesis
# then draws from the other characters; a pattern would replace a field's own, and drawing
# from it is slow).
NUL_CLASS = r"[\u0000]"
# A free object in a request: any JSON, but no string in it holds a NUL (an OpenAPI 3.0
# schema cannot constrain its keys; text_errors refuses those all the same).
FREE_VALUE = "FreeValueIn"
FREE_VALUE_SCHEMA: dict[str, Any] = {"anyOf": [
    {"type": "string", "not": {"pattern": NUL_CLASS}, "nullable": True},
    {"type": "number"},
    {"type": "boolean"},
    {"type": "array", "items": {"$ref": f"#/components/schemas/{FREE_VALUE}"}},
    {"type": "object", "additionalProperties": {"$ref": f"#/components/schemas/{FREE_VALUE}"}},
]}
_JSON_TYPES = {"integer": int, "number": (int, float), "string": str, "boolean": bool, "object": dict, "array": list}


def without_nul() -> dict[str, Any]:
    """The schema keyword saying a string holds no NUL (checked by :func:`text_problem`)."""
    return {"not": {"pattern": NUL_CLASS}}


def is_list(t: str) -> bool:
    return t.startswith("[") and t.endswith("]")


def item_type(t: str) -> str:
    return t[1:-1]


def scalar_schema(t: str, *, for_input: bool) -> dict[str, Any] | None:
    """JSON Schema of a scalar type, or None when ``t`` is a model."""
    if t == "int":
        s: dict[str, Any] = {"type": "integer", "format": "int32"}
        if for_input:
            s.update(minimum=INT_MIN, maximum=INT_MAX)
        return s
    if t == "str":
        s = {"type": "string"}
        if for_input:
            s.update(maxLength=DEFAULT_MAX_LENGTH, **without_nul())
        return s
    if t == "text":
        return {"type": "string", **without_nul()} if for_input else {"type": "string"}
    if t == "num":
        s = {"type": "number"}
        if for_input:
            s.update(minimum=-NUM_LIMIT, maximum=NUM_LIMIT)
        return s
    if t == "bool":
        return {"type": "boolean"}
    if t == "date":
        return {"type": "string", "format": "date"}
    if t == "datetime":
        return {"type": "string", "format": "date-time"}
    if t == "coord":
        s = {"type": "string"}
        if for_input:
            s.update(pattern=COORD_PATTERN, maxLength=40)
        return s
    if t == "any":
        if for_input:
            return {"type": "object", "additionalProperties": {"$ref": f"#/components/schemas/{FREE_VALUE}"}}
        return {"type": "object"}
    return None


# -- validation -------------------------------------------------------------
def validate(schema: dict[str, Any], data: Any, defs: dict[str, dict], path: str = "") -> dict[str, str]:
    """Errors of ``data`` against ``schema`` as ``{dotted path: message}``."""
    errors: dict[str, str] = {}
    _check(schema, data, defs, path, errors)
    return errors


def _key(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _check(schema: dict, data: Any, defs: dict, path: str, errors: dict) -> None:
    if data is None and schema.get("nullable"):
        return
    if "$ref" in schema:
        schema = {**defs[schema["$ref"].rsplit("/", 1)[-1]], **{k: v for k, v in schema.items() if k != "$ref"}}
    if "allOf" in schema:
        for sub in schema["allOf"]:
            _check(sub, data, defs, path, errors)
        rest = {k: v for k, v in schema.items() if k != "allOf"}
        if rest.keys() - {"nullable", "description"}:
            _check(rest, data, defs, path, errors)
        return
    if data is None:
        if not schema.get("nullable") and "type" in schema:
            errors[path] = f"None is not of type '{schema['type']}'"
        return
    expected = schema.get("type")
    if expected:
        py = _JSON_TYPES[expected]
        if isinstance(data, bool) and expected != "boolean" or not isinstance(data, py):
            errors[path] = f"{_repr(data)} is not of type '{expected}'"
            return
    if "enum" in schema and data not in schema["enum"]:
        errors[path] = f"{_repr(data)} is not one of {schema['enum']}"
        return
    if isinstance(data, str):
        problem = text_problem(data, path or "payload")
        if problem:
            errors[path or "payload"] = problem
        elif "maxLength" in schema and len(data) > schema["maxLength"]:
            errors[path] = f"{_repr(data)} is too long"
        elif "minLength" in schema and len(data) < schema["minLength"]:
            errors[path] = f"{_repr(data)} is too short"
        elif "pattern" in schema and not re.search(schema["pattern"], data):
            errors[path] = f"{_repr(data)} does not match {schema['pattern']!r}"
        elif schema.get("format") == "date" and parse_date(data) is None:
            errors[path] = f"{_repr(data)} is not a 'date'"
        elif schema.get("format") == "date-time" and parse_datetime(data) is None:
            errors[path] = f"{_repr(data)} is not a 'date-time'"
    elif isinstance(data, (int, float)):
        if "minimum" in schema and data < schema["minimum"]:
            errors[path] = f"{data} is less than the minimum of {schema['minimum']}"
        elif "maximum" in schema and data > schema["maximum"]:
            errors[path] = f"{data} is greater than the maximum of {schema['maximum']}"
    elif isinstance(data, dict):
        if "properties" not in schema:
            # A free object is handed on as it is: nothing in it may hold a NUL, keys included.
            _find_bad_text(data, path, errors)
        for name in schema.get("required", ()):
            if name not in data:
                errors[_key(path, name)] = f"'{name}' is a required property"
        for name, sub in schema.get("properties", {}).items():
            if name in data:
                _check(sub, data[name], defs, _key(path, name), errors)
    elif isinstance(data, list):
        if "maxItems" in schema and len(data) > schema["maxItems"]:
            errors[path] = f"{_repr(data)} is too long"
            return
        for i, item in enumerate(data):
            _check(schema.get("items", {}), item, defs, _key(path, str(i)), errors)


def _repr(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


# -- parsing and formatting -------------------------------------------------
def parse_date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text.strip()[:10]) if len(text.strip()) == 10 else None
    except ValueError:
        return None


def parse_datetime(text: str) -> dt.datetime | None:
    """An ISO 8601 date-time (``Z`` or an offset), as naive UTC."""
    value = text.strip()
    if len(value) < 16 or value[10] not in "Tt ":
        return None
    if value[-1] in "zZ":
        value = value[:-1] + "+00:00"
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is not None:
        try:
            parsed = parsed.astimezone(dt.UTC).replace(tzinfo=None)
        except OverflowError:
            # At the very ends of the calendar: keep the wall-clock time.
            parsed = parsed.replace(tzinfo=None)
    return parsed


def text_problem(value: str, field: str) -> str | None:
    """Why ``value`` cannot be stored (a NUL, a lone surrogate), in the core's words; None if it can."""
    try:
        check_text(value, field, limit=None)
    except Invalid as exc:
        return exc.message
    return None


def text_errors(data: Any, path: str = "") -> dict[str, str]:
    """``{dotted path: message}`` for every string of a decoded JSON value (a body
    without a schema, a free object) that holds a NUL or a lone surrogate; a bad
    key is named by its own path."""
    errors: dict[str, str] = {}
    _find_bad_text(data, path, errors)
    return errors


def _find_bad_text(data: Any, path: str, errors: dict[str, str]) -> None:
    if isinstance(data, str):
        problem = text_problem(data, path or "payload")
        if problem:
            errors[path or "payload"] = problem
    elif isinstance(data, dict):
        for key, value in data.items():
            # A lone surrogate cannot be written back in the error body: shown escaped.
            key_path = _key(path, key.encode("utf-8", "backslashreplace").decode("utf-8"))
            problem = text_problem(key, f"the key {key!r}")
            if problem:
                errors[key_path] = problem
                continue
            _find_bad_text(value, key_path, errors)
    elif isinstance(data, list):
        for i, item in enumerate(data):
            _find_bad_text(item, _key(path, str(i)), errors)


def coerce(t: str, value: Any) -> Any:
    """A core value as the wire type ``t`` says (output is strict)."""
    if value is None:
        return None
    if t == "int":
        if isinstance(value, bool):
            return int(value)
        try:
            return int(value)
        except (TypeError, ValueError):
            return None
    if t in ("str", "text"):
        if isinstance(value, dt.datetime):
            return format_datetime(value)
        if isinstance(value, dt.date):
            return value.isoformat()
        return str(value)
    if t == "num":
        try:
            return float(value) if not isinstance(value, bool) else float(int(value))
        except (TypeError, ValueError):
            return None
    if t == "bool":
        return bool(value)
    if t == "date":
        if isinstance(value, dt.datetime):
            return value.date().isoformat()
        if isinstance(value, dt.date):
            return value.isoformat()
        parsed = parse_date(str(value))
        return parsed.isoformat() if parsed else None
    if t == "datetime":
        if isinstance(value, dt.datetime):
            return format_datetime(value)
        if isinstance(value, dt.date):
            return format_datetime(dt.datetime.combine(value, dt.time()))
        parsed = parse_datetime(str(value))
        return format_datetime(parsed) if parsed else None
    if t == "coord":
        return format_coord(value)
    return value


def format_datetime(value: dt.datetime) -> str:
    return value.replace(microsecond=0).isoformat() + "Z"


def format_coord(value: Any) -> str | None:
    """A coordinate as a plain decimal string (no exponent, no trailing zeros)."""
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        return None
    if not number.is_finite():
        return None
    text = format(number.normalize(), "f")
    return "0" if text in ("-0", "") else text


def parse_coord(value: Any) -> float | None:
    """A coordinate string from a body ('' and None clear it)."""
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    if not _COORD.match(text):
        raise ValueError(f"{value!r} is not a number")
    return float(text)
