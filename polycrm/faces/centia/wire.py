"""The centiaCRM v1 wire: envelopes, errors and lenient parameter parsing.

Parameters are described by :class:`Param` specs; :func:`parse` checks a
request's ``parameters`` object against them and returns Python values
(ints, Decimals, dates, ...). Unknown parameters are ignored.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from polycrm.core import geo

DMY = "DD/MM/YY"
# HTTP status of token and login failures (some clients expect 200 everywhere).
AUTH_STATUS = int(os.environ.get("POLYCRM_CENTIA_AUTH_STATUS", "401"))
ISO = "YYYY-MM-DD"

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class ApiError(Exception):
    """An error answered with the centia error envelope and an HTTP status."""

    def __init__(self, message: str, status: int = 200, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.headers = headers


class EnvelopeError(ApiError):
    """The request itself is malformed: no usable method, module or body."""

    def __init__(self, message: str):
        super().__init__(message, 400)


class AuthError(ApiError):
    """Missing, invalid, expired or revoked token; wrong login."""

    def __init__(self, message: str = "missing or invalid token", status: int = AUTH_STATUS):
        super().__init__(message, status)


def success(response: Mapping[str, Any]) -> dict[str, Any]:
    return {"success": True, "response": dict(response)}


def failure(message: str) -> dict[str, Any]:
    return {"success": False, "response": [], "error": message}


def invalid(name: str, why: str) -> ApiError:
    return ApiError(f"invalid value for {name}: {why}")


# -- parameter specs -------------------------------------------------------------
@dataclass(frozen=True)
class Param:
    """One documented parameter.

    ``kind`` is one of ``int``, ``str``, ``float``, ``bool``, ``ids`` (array
    of ids), ``date`` (``fmt`` names the documented format), ``dates`` (a
    ``{from, to}`` date range), ``numbers`` (a ``{from, to}`` number range),
    ``enum`` (one of ``choices``), ``address``, ``object`` and ``list``.
    """

    name: str
    kind: str = "str"
    required: bool = False
    choices: tuple[str, ...] = ()
    fmt: str = DMY
    children: tuple["Param", ...] = field(default=())


def parse(raw: Mapping[str, Any], spec: Sequence[Param], prefix: str = "") -> dict[str, Any]:
    """Check and convert parameters; absent optional ones are left out."""
    out: dict[str, Any] = {}
    for p in spec:
        name = prefix + p.name
        value = raw.get(p.name)
        if _absent(value, p):
            if p.required:
                raise ApiError(f"missing required parameter: {name}")
            continue
        out[p.name] = convert(p, value, name)
    return out


def _absent(value: Any, p: Param) -> bool:
    if value is None:
        return True
    if isinstance(value, str) and value.strip() == "" and p.kind not in ("str",):
        return True
    if isinstance(value, str) and p.kind == "str" and p.required and value.strip() == "":
        return True
    return False


def convert(p: Param, value: Any, name: str) -> Any:
    kind = p.kind
    if kind == "int":
        return as_int(value, name)
    if kind == "float":
        return as_decimal(value, name)
    if kind == "str":
        if isinstance(value, (dict, list)):
            raise invalid(name, "must be a string")
        if isinstance(value, bool):
            return "1" if value else "0"
        return str(value)
    if kind == "bool":
        return as_bool(value, name)
    if kind == "enum":
        text = str(value).strip().casefold()
        if text not in p.choices:
            raise invalid(name, "must be one of " + ", ".join(f"'{c}'" for c in p.choices))
        return text
    if kind == "ids":
        return as_ids(value, name)
    if kind == "date":
        return as_date(value, name, p.fmt)
    if kind == "dates":
        bounds = _range(value, name)
        return tuple(as_date(bounds[k], f"{name}.{k}", p.fmt) if bounds.get(k) not in (None, "") else None for k in ("from", "to"))
    if kind == "numbers":
        bounds = _range(value, name)
        return tuple(as_decimal(bounds[k], f"{name}.{k}") if bounds.get(k) not in (None, "") else None for k in ("from", "to"))
    if kind == "address":
        return as_address(value, name)
    if kind == "object":
        if not isinstance(value, Mapping):
            raise invalid(name, "must be an object")
        return parse(value, p.children, name + ".") if p.children else dict(value)
    if kind == "list":
        if isinstance(value, Mapping):
            value = [value]
        if not isinstance(value, list):
            raise invalid(name, "must be an array")
        items = []
        for i, item in enumerate(value):
            if not isinstance(item, Mapping):
                raise invalid(f"{name}[{i}]", "must be an object")
            items.append(parse(item, p.children, f"{name}[{i}]."))
        return items
    raise AssertionError(f"unknown parameter kind {kind}")


MAX_INT = 2**31 - 1  # ids and counts are 32-bit integer columns
MAX_AMOUNT = Decimal(10) ** 14  # money columns hold 18 digits, 4 of them decimals


def as_int(value: Any, name: str) -> int:
    number: int | None = None
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and value.strip().lstrip("-").isdigit():
        number = int(value.strip())
    if number is None:
        raise invalid(name, "must be an integer")
    if abs(number) > MAX_INT:
        raise invalid(name, "out of range")
    return number


def as_decimal(value: Any, name: str) -> Decimal:
    if isinstance(value, bool) or isinstance(value, (dict, list)):
        raise invalid(name, "must be a number")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise invalid(name, "must be a number") from None
    if not number.is_finite():
        raise invalid(name, "must be a number")
    if abs(number) >= MAX_AMOUNT:
        raise invalid(name, "out of range")
    return number


def as_bool(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().casefold()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise invalid(name, "must be true or false")


def as_ids(value: Any, name: str) -> list[int]:
    """An array of ids; a single id or a comma-separated string is accepted too."""
    if isinstance(value, str):
        value = [v for v in value.split(",") if v.strip()]
    elif not isinstance(value, list):
        value = [value]
    return [as_int(v, f"{name}[{i}]") for i, v in enumerate(value)]


def as_date(value: Any, name: str, fmt: str = DMY) -> dt.date:
    """A date as ``DD/MM/YY``, ``DD/MM/YYYY`` or ``YYYY-MM-DD`` (whichever the field documents, and the others)."""
    text = str(value).strip()
    for pattern in ("%d/%m/%y", "%d/%m/%Y", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise invalid(name, f"expected a date in the format {fmt}")


def _range(value: Any, name: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise invalid(name, "must be an object with from and to")
    return value


ADDRESS_REQUIRED = ("country", "state", "street", "number", "zip", "city")
ADDRESS_OPTIONAL = ("interior_number", "suburb", "latitude", "longitude")


def as_address(value: Any, name: str) -> dict[str, Any]:
    """An address object; its country (and, where known, state) codes are checked."""
    if not isinstance(value, Mapping):
        raise invalid(name, "must be an object")
    address: dict[str, Any] = {}
    for part in ADDRESS_REQUIRED:
        text = value.get(part)
        if text is None or str(text).strip() == "":
            raise ApiError(f"missing required parameter: {name}.{part}")
        address[part] = str(text).strip()
    for part in ADDRESS_OPTIONAL:
        text = value.get(part)
        if text is not None and str(text).strip() != "":
            address[part] = str(text).strip()
    country = geo.country(address["country"])
    if country is None:
        raise invalid(f"{name}.country", f"unknown country code {address['country']!r}")
    address["country"] = country["code"]
    known = geo.states(country["code"])
    if known:
        wanted = address["state"].casefold()
        state = next((s for s in known if wanted in (s["code"].casefold(), s["name"].casefold())), None)
        if state is None:
            raise invalid(f"{name}.state", f"unknown state {address['state']!r} of {country['code']}")
        address["state"] = state["code"]
    for part in ("latitude", "longitude"):
        if part in address:
            try:
                address[part] = float(address[part])
            except ValueError:
                raise invalid(f"{name}.{part}", "must be a number") from None
    return address


# -- output ----------------------------------------------------------------------
def out_datetime(value: dt.datetime | None) -> str | None:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value is not None else None


def out_date(value: dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def out_number(value: Any) -> int | float | None:
    if value is None:
        return None
    number = Decimal(value)
    return int(number) if number == number.to_integral_value() and abs(number) < 10**15 else float(number)


def out_money(value: Any) -> float | None:
    return float(value) if value is not None else None
