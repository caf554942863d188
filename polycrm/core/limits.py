"""Value limits every write obeys, whichever API or page sends it.

The limits come from the columns themselves, so they are decided once:

- text in a ``String(n)`` column: at most ``n`` characters; in a ``Text``
  column, and any string kept inside a JSON column: at most
  :data:`LONG_TEXT_MAX` characters (64 KiB);
- no text may hold a NUL character or a lone UTF-16 surrogate (PostgreSQL
  cannot store the first, no encoder can write the second);
- whole numbers fit the column (``Integer`` 32-bit, ``BigInteger`` 64-bit),
  money fits ``Numeric(18, 4)``, floats are finite;
- a whole JSON value (``extra``, ``addresses``) is at most :data:`JSON_MAX`
  bytes once encoded.

A breach raises :class:`~polycrm.core.errors.Invalid` naming the field, which
each face turns into its own error format. :func:`id_in_range` is the same
rule for ids read from a path or a form: an id no row can have is simply not
found.
"""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import BigInteger, Float, Integer, Numeric, String, Text

from polycrm.core.errors import Invalid

LONG_TEXT_MAX = 65_536
JSON_MAX = 1_048_576
INT32 = (-(2**31), 2**31 - 1)
INT64 = (-(2**63), 2**63 - 1)


def id_in_range(value: Any) -> int | None:
    """``value`` as a row id, or None when it cannot be one (not a whole
    number, or beyond any id column)."""
    try:
        key = int(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return key if INT64[0] <= key <= INT64[1] else None


def check_text(value: str, field: str, limit: int | None = LONG_TEXT_MAX) -> None:
    """Refuse text that is too long, holds a NUL or a lone surrogate."""
    if limit is not None and len(value) > limit:
        raise Invalid(f"{field} must be at most {limit} characters", field=field)
    if "\x00" in value:
        raise Invalid(f"{field} must not contain a NUL character", field=field)
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise Invalid(f"{field} must be valid Unicode text (it holds a lone surrogate)", field=field) from None


def check_int(value: int, field: str, bounds: tuple[int, int] = INT64) -> None:
    if not bounds[0] <= value <= bounds[1]:
        raise Invalid(f"{field} must be between {bounds[0]} and {bounds[1]}", field=field)


def check_json(value: Any, field: str) -> None:
    """Every string inside a JSON value obeys :func:`check_text`; the whole
    value is at most :data:`JSON_MAX` bytes."""
    size = _walk(value, field, 0)
    if size > JSON_MAX:
        raise Invalid(f"{field} must be at most {JSON_MAX} bytes", field=field)


def _walk(value: Any, field: str, size: int) -> int:
    if isinstance(value, str):
        check_text(value, field)
        return size + len(value)
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str):
                check_text(key, field, 255)
            size = _walk(item, field, size + 8)
        return size
    if isinstance(value, (list, tuple)):
        for item in value:
            size = _walk(item, field, size + 4)
        return size
    if isinstance(value, bool) or value is None:
        return size + 4
    if isinstance(value, int):
        check_int(value, field)
    elif isinstance(value, float) and not math.isfinite(value):
        raise Invalid(f"{field} must be a finite number", field=field)
    return size + 8


class ColumnLimits:
    """The checks for one model's columns, worked out once per model."""

    def __init__(self, model: type) -> None:
        self.text: dict[str, int | None] = {}
        self.ints: dict[str, tuple[int, int]] = {}
        self.money: dict[str, Decimal] = {}
        self.floats: set[str] = set()
        self.json: set[str] = set()
        for column in model.__table__.columns:
            kind = column.type
            if isinstance(kind, String):
                # Text (and String without a length) may hold a long text.
                length = None if isinstance(kind, Text) else kind.length
                self.text[column.key] = length or LONG_TEXT_MAX
            elif isinstance(kind, BigInteger):
                self.ints[column.key] = INT64
            elif isinstance(kind, Integer):
                self.ints[column.key] = INT32
            elif isinstance(kind, Float):
                self.floats.add(column.key)
            elif isinstance(kind, Numeric):
                digits = (kind.precision or 18) - (kind.scale or 0)
                self.money[column.key] = Decimal(10) ** digits
            elif kind.__class__.__name__ == "JSON":
                self.json.add(column.key)

    def check(self, key: str, value: Any) -> None:
        """Refuse ``value`` for column ``key`` if it breaks a limit."""
        if value is None or isinstance(value, bool):
            return
        if isinstance(value, str):
            limit = self.text.get(key, LONG_TEXT_MAX)
            check_text(value, key, limit)
        elif key in self.ints and isinstance(value, int):
            check_int(value, key, self.ints[key])
        elif key in self.floats and isinstance(value, float) and not math.isfinite(value):
            raise Invalid(f"{key} must be a finite number", field=key)
        elif key in self.money and isinstance(value, (int, float, Decimal)):
            try:
                amount = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
                ok = amount.is_finite() and abs(amount) < self.money[key]
            except InvalidOperation:
                ok = False
            if not ok:
                raise Invalid(f"{key} must be a number below {self.money[key]}", field=key)
        elif key in self.json:
            check_json(value, key)


_BY_MODEL: dict[type, ColumnLimits] = {}


def for_model(model: type) -> ColumnLimits:
    limits = _BY_MODEL.get(model)
    if limits is None:
        limits = _BY_MODEL[model] = ColumnLimits(model)
    return limits
