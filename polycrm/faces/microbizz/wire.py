"""Microbizz basic types: lenient on the way in, strict on the way out.

Booleans arrive as true/1/yes or false/0/no and leave as 1/0; dates arrive
in the documented day-first variants and leave as ``YYYY-MM-DD``; times leave
as ``HH:MM:SS``; binary travels as base64. An unset date or time leaves as an
empty string, an unset number as 0 and an unset string as "". A sync's
resume key is an opaque base64 cursor (:func:`encode_resumekey`).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

import orjson


class CommandError(Exception):
    """A command failed; ``msg`` becomes the result's ``msg``."""

    def __init__(self, msg: str):
        super().__init__(msg)
        self.msg = msg


def missing(field: str) -> CommandError:
    return CommandError(f"Missing field: {field}")


def invalid(field: str, value: Any, expected: str) -> CommandError:
    shown = repr(value) if not isinstance(value, (dict, list)) else type(value).__name__
    return CommandError(f"Invalid value for {field}: {shown} is not {expected}")


_TRUE = {"1", "true", "yes", "y", "on"}
_FALSE = {"0", "false", "no", "n", "off", ""}


def read_bool(value: Any, field: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    if value is None:
        return False
    raise invalid(field, value, "a boolean (1/0, true/false, yes/no)")


def read_int(value: Any, field: str) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        return int(value)
    if value is None or value == "":
        return 0
    raise invalid(field, value, "a number")


def read_id(value: Any, field: str) -> int | None:
    """An id reference: 0, "" and null all mean none."""
    number = read_int(value, field)
    if number < 0:
        raise invalid(field, value, "a valid id")
    return number or None


def read_decimal(value: Any, field: str) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise invalid(field, value, "a number")
    try:
        number = Decimal(str(value).strip().replace(",", ".")) if isinstance(value, str) else Decimal(str(value))
    except InvalidOperation:
        raise invalid(field, value, "a number") from None
    if not number.is_finite():
        raise invalid(field, value, "a number")
    return number


def read_float(value: Any, field: str) -> float | None:
    number = read_decimal(value, field)
    return float(number) if number is not None else None


def read_str(value: Any, field: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (int, float, Decimal)):
        return str(value)
    if isinstance(value, str):
        return value
    raise invalid(field, value, "a string")


_DATE_FORMS = (
    re.compile(r"(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})"),
    re.compile(r"(?P<d>\d{1,2})[-/.](?P<m>\d{1,2})[-/.](?P<y>\d{4})"),
    re.compile(r"(?P<d>\d{1,2})[-/.](?P<m>\d{1,2})[-/.](?P<y>\d{2})"),
    re.compile(r"(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})"),
)


def read_date(value: Any, field: str) -> dt.date | None:
    """``2011-08-05``, ``05-08-2011``, ``5-8-2011``, ``05/08/2011``, ``05.08.11``: day first."""
    if value is None or value == "" or value == "0000-00-00":
        return None
    if isinstance(value, str):
        text = value.strip().split(" ")[0].split("T")[0]
        for form in _DATE_FORMS:
            match = form.fullmatch(text)
            if match:
                year = int(match["y"])
                if len(match["y"]) == 2:
                    year += 2000 if year < 70 else 1900
                try:
                    return dt.date(year, int(match["m"]), int(match["d"]))
                except ValueError:
                    break
    raise invalid(field, value, "a date (YYYY-MM-DD or DD-MM-YYYY)")


_TIME_FORM = re.compile(r"(?P<h>\d{1,2})[:.](?P<m>\d{2})(?:[:.](?P<s>\d{2}))?")


def read_time(value: Any, field: str) -> dt.time | None:
    """``18:45:00``, ``18:45`` or ``18.45``."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        match = _TIME_FORM.fullmatch(value.strip())
        if match:
            try:
                return dt.time(int(match["h"]), int(match["m"]), int(match["s"] or 0))
            except ValueError:
                pass
    raise invalid(field, value, "a time (HH:MM:SS)")


def read_base64(value: Any, field: str) -> bytes:
    if not isinstance(value, str):
        raise invalid(field, value, "base64 data")
    text = value.strip()
    if text.startswith("data:") and "," in text:
        text = text.split(",", 1)[1]
    # Line breaks (MIME-style base64) are fine; the URL-safe alphabet too. Any
    # other stray character is an error rather than silently dropped bytes.
    text = re.sub(r"\s+", "", text).translate(_URLSAFE)
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise invalid(field, "<data>", "base64 data") from None


_URLSAFE = str.maketrans("-_", "+/")


def out_bool(value: Any) -> int:
    return 1 if value else 0


def out_int(value: Any) -> int:
    return int(value) if value is not None else 0


def out_number(value: Any) -> float | int:
    if value is None:
        return 0
    number = float(value)
    return int(number) if number.is_integer() else number


def out_str(value: Any) -> str:
    return "" if value is None else str(value)


def out_date(value: dt.date | None) -> str:
    return value.strftime("%Y-%m-%d") if value else ""


class Clock:
    """Converts between stored UTC and the vendor's local time."""

    def __init__(self, timezone: str):
        self.zone = ZoneInfo(timezone)
        # The last moment formatted: a row's date and time fields (and often
        # its created and changed stamps) are the same moment.
        self._last: tuple[dt.datetime | None, tuple[str, str]] = (None, ("", ""))

    def local(self, utc: dt.datetime | None) -> dt.datetime | None:
        if utc is None:
            return None
        return utc.replace(tzinfo=dt.UTC).astimezone(self.zone)

    def to_utc(self, day: dt.date, time: dt.time | None = None) -> dt.datetime:
        local = dt.datetime.combine(day, time or dt.time(0), tzinfo=self.zone)
        return local.astimezone(dt.UTC).replace(tzinfo=None)

    def date_of(self, utc: dt.datetime | None) -> str:
        return self.formatted(utc)[0]

    def time_of(self, utc: dt.datetime | None) -> str:
        return self.formatted(utc)[1]

    def formatted(self, utc: dt.datetime | None) -> tuple[str, str]:
        """The local date and time of a stored moment ("" and "" for none)."""
        if utc is None:
            return ("", "")
        last = self._last  # one read: other threads may replace it meanwhile
        if last[0] == utc:
            return last[1]
        local = self.local(utc)
        shown = (local.strftime("%Y-%m-%d"), local.strftime("%H:%M:%S"))
        self._last = (utc, shown)
        return shown

    def now(self) -> dt.datetime:
        return dt.datetime.now(self.zone)


# -- resume keys ---------------------------------------------------------------

def encode_resumekey(command_name: str, since: dt.datetime | None, after_id: int, filters: Mapping[str, Any]) -> str:
    """An opaque, self-contained cursor: the command, the sync's start point,
    the last id sent and the filters, so the client need not resend them."""
    payload = {
        "v": 1,
        "c": command_name.lower(),
        "s": since.isoformat() if since else None,
        "a": after_id,
        "f": dict(filters),
    }
    return base64.urlsafe_b64encode(orjson.dumps(payload)).decode().rstrip("=")


def decode_resumekey(key: Any, command_name: str) -> tuple[dt.datetime | None, int, dict[str, Any]]:
    try:
        if not isinstance(key, str):
            raise ValueError
        payload = orjson.loads(base64.urlsafe_b64decode(key + "=" * (-len(key) % 4)))
        if payload.get("v") != 1 or payload.get("c") != command_name.lower():
            raise ValueError
        since = dt.datetime.fromisoformat(payload["s"]) if payload["s"] else None
        after_id = int(payload["a"])
        filters = dict(payload.get("f") or {})
    except (ValueError, TypeError, KeyError, binascii.Error, orjson.JSONDecodeError):
        raise CommandError("Invalid resumekey") from None
    return since, after_id, filters
