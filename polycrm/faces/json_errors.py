"""Why a JSON body was refused, in words a client can act on.

Every face parses JSON with orjson: it has no recursion limit to overflow
(it refuses nesting past 1024 levels) and refuses lone UTF-16 surrogates,
which no encoder could write back. Its messages name a position but not the
cause in plain words; :func:`reason` adds that for the two cases a client
is most likely to hit, for the face to put into its own error format.
"""

from __future__ import annotations

import orjson

MAX_DEPTH = 1024


def reason(exc: orjson.JSONDecodeError) -> str | None:
    """A short cause for the refusal, or None for plain malformed JSON."""
    text = str(exc)
    if "depth limit" in text or "recursion" in text:
        return f"it is nested deeper than {MAX_DEPTH} levels"
    if "surrogate" in text:
        return "it holds a lone UTF-16 surrogate (\\ud800-\\udfff not in a pair)"
    return None


def message(base: str, exc: orjson.JSONDecodeError) -> str:
    """``base`` with the cause appended where :func:`reason` knows one."""
    why = reason(exc)
    return f"{base}: {why}" if why else base
