"""``X-Fields`` response masks, with the syntax and semantics of Flask-RESTX.

Cirrus 2 is a Flask-RESTX application, so its clients may send a field mask
in the ``X-Fields`` header to trim a response::

    {id,name,addresses{visiting{city,zip}}}

* Outer braces are optional (``id,name``); whitespace only separates tokens.
* A name is made of word characters, ``:``, ``-`` and ``*``.
* ``name{...}`` applies a nested mask to that field: to a dict, to each
  element of a list, and a null stays null.
* ``*`` keeps every field the mask does not list, after the listed ones.
* Listed fields come out in mask order; a listed name the data lacks comes
  out as ``null`` (or is left out with ``skip_missing=True``).
* An empty or blank mask means "no mask"; so does a level holding only ``*``
  (its value passes through untouched). ``{}`` selects no field at all.

Deliberate differences from Flask-RESTX, which silently drops characters it
does not understand and accepts empty nested masks: a stray character, an
empty nested mask (``a{}``), a nested mask on ``*`` and nesting deeper than
``MAX_DEPTH`` are parse errors here. Like Flask-RESTX, two names with only
whitespace between them (``{id name}``) and a trailing comma (``{id,}``) are
accepted.

Parsing is cached because clients repeat the same few masks; a parsed
``Mask`` is immutable and shared, so it is safe to reuse across requests.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

__all__ = ["EVERYTHING", "MAX_DEPTH", "Mask", "MaskError", "apply_mask", "parse_mask"]

#: Most nested masks allowed inside one another; bounds the recursion of
#: parsing and applying a hostile header.
MAX_DEPTH = 32

_PARSE_ERROR = "Mask parse error: "
_INCONSISTENT = "Mask error: Mask is inconsistent with model"

# One token per match: punctuation, a name, or any other visible character
# (reported as stray). Whitespace before a token is skipped by the leading \s*.
_TOKEN = re.compile(r"\s*(?:([{},])|([\w:*-]+)|(\S))")


class MaskError(ValueError):
    """A mask that cannot be parsed or does not fit the data.

    ``message`` is the full text Flask-RESTX would put in its 400 body,
    e.g. ``"Mask parse error: Unexpected comma"``.
    """

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class Mask:
    """A parsed mask: the listed fields in order, each with an optional nested mask."""

    fields: tuple[tuple[str, Mask | None], ...] = ()
    wildcard: bool = False

    @property
    def selects_everything(self) -> bool:
        """True when applying this mask returns the data unchanged."""
        return self.wildcard and not self.fields

    def __str__(self) -> str:
        parts = [name if sub is None else f"{name}{sub}" for name, sub in self.fields]
        if self.wildcard:
            parts.append("*")
        return "{" + ",".join(parts) + "}"


#: The mask of an absent or blank header.
EVERYTHING = Mask(wildcard=True)


def _error(reason: str) -> MaskError:
    return MaskError(_PARSE_ERROR + reason)


@lru_cache(maxsize=512)
def parse_mask(text: str) -> Mask:
    """Parse an ``X-Fields`` value; raise ``MaskError`` when it is malformed."""
    text = text.strip()
    if not text:
        return EVERYTHING
    if text[0] == "{":
        # The outer braces are optional; when present they wrap the whole mask.
        if text[-1] != "}":
            raise _error("Missing closing bracket")
        text = text[1:-1]

    root: dict[str, dict | None] = {}
    level = root
    # Enclosing levels and the field name that opened each nested level.
    stack: list[tuple[dict, str]] = []
    previous: str | None = None  # last token; None at the start of the mask
    for punct, name, stray in _TOKEN.findall(text):
        if stray:
            raise _error(f"Unexpected character {stray!r}")
        if name:
            # Listing a field again replaces its earlier definition (as Flask-RESTX does).
            level[name] = None
            previous = name
        elif punct == ",":
            if previous in (None, ",", "{"):
                raise _error("Unexpected comma")
            previous = ","
        elif punct == "{":
            if previous in (None, ",", "{", "}", "*"):
                raise _error("Unexpected opening bracket")
            if len(stack) == MAX_DEPTH:
                raise _error(f"Mask is nested deeper than {MAX_DEPTH} levels")
            child: dict[str, dict | None] = {}
            level[previous] = child
            stack.append((level, previous))
            level = child
            previous = "{"
        else:  # "}"
            if not stack:
                raise _error("Unexpected closing bracket")
            if not level:
                raise _error(f"Empty nested mask for field {stack[-1][1]!r}")
            level = stack.pop()[0]
            previous = "}"
    if stack:
        raise _error("Missing closing bracket")
    return _freeze(root)


def _freeze(level: dict[str, dict | None]) -> Mask:
    return Mask(
        fields=tuple(
            (name, None if sub is None else _freeze(sub)) for name, sub in level.items() if name != "*"
        ),
        wildcard="*" in level,
    )


def apply_mask(data: Any, mask: Mask, *, skip_missing: bool = False) -> Any:
    """Trim ``data`` (a dict, a list of them, or None) to the fields ``mask`` selects.

    The result is a new dict/list; field values are shared with ``data``, not
    copied. ``skip_missing`` leaves out listed names that the data lacks, as
    Flask-RESTX does for names unknown to the model when it applies
    ``X-Fields`` inside ``marshal_with``. A nested mask on a scalar value
    raises ``MaskError`` ("Mask error: Mask is inconsistent with model").
    """
    return _apply(data, mask, skip_missing)


def _apply(data: Any, mask: Mask, skip_missing: bool) -> Any:
    if data is None or (mask.wildcard and not mask.fields):
        return data
    # The exact-type check is the fast path for JSON-shaped data.
    if type(data) is dict or isinstance(data, Mapping):
        return _filter(data, mask, skip_missing)
    if isinstance(data, (list, tuple)):
        return [_apply(item, mask, skip_missing) for item in data]
    raise MaskError(_INCONSISTENT)


def _filter(data: Mapping, mask: Mask, skip_missing: bool) -> dict:
    out: dict[str, Any] = {}
    for name, sub in mask.fields:
        if name in data:
            value = data[name]
            out[name] = value if sub is None else _apply(value, sub, skip_missing)
        elif not skip_missing:
            out[name] = None
    if mask.wildcard:
        # Copy-then-drop runs in C; a per-key membership loop is several times slower.
        rest = dict(data)
        for name in out:
            rest.pop(name, None)
        out.update(rest)
    return out
