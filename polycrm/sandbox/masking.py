"""Secrets out of journal entries: headers, form fields, JSON keys, query strings.

The journal shows what a client sent and got, minus anything that would let a
reader of the journal call the API as that client: the Microbizz envelope's
``apikey``, ``password`` and ``accesstoken``, the centiaCRM ``Login``
password and the token it answers, OAuth client secrets and tokens, and every
``Authorization``/``X-Token``/cookie header.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, urlencode

import orjson

MASK = "***"
SECRET_HEADERS = frozenset({
    "authorization", "proxy-authorization", "x-token", "cookie", "set-cookie", "x-api-key",
})
SECRET_KEYS = frozenset({
    "apikey", "api_key", "password", "accesstoken", "access_token", "refresh_token", "id_token",
    "client_secret", "token", "secret", "newpassword", "new_password", "old_password",
})
# Every secret key contains one of these: a text whose lower-cased form holds
# none of them names no secret key (5 searches instead of one per key).
_STEMS = ("apikey", "api_key", "password", "token", "secret")
assert all(any(stem in key for stem in _STEMS) for key in SECRET_KEYS)
# What a cut-off JSON text still shows of a secret: "key": "value" (or up to the cut).
_JSON_SECRET = re.compile(r'("(?:' + "|".join(sorted(SECRET_KEYS)) + r')"\s*:\s*)"(?:[^"\\]|\\.)*("|$)', re.I)


def header(name: str, value: str) -> str:
    if name.lower() not in SECRET_HEADERS:
        return value
    scheme, _, rest = value.partition(" ")
    # Keep the scheme ("Bearer ***"): it tells which kind of credential was sent.
    return f"{scheme} {MASK}" if rest and name.lower() in ("authorization", "proxy-authorization") else MASK


def headers(pairs: list[tuple[str, str]]) -> list[list[str]]:
    return [[name, header(name, value)] for name, value in pairs]


def json_value(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: (MASK if isinstance(k, str) and k.lower() in SECRET_KEYS and v not in (None, "")
                    else json_value(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [json_value(v) for v in value]
    return value


def json_pairs(text: str) -> str:
    """A text with the ``"key": "value"`` pairs of secret keys masked in place
    (JSON cut off at the journal's limit, a multipart body). The pattern names
    each key as plain characters, so a text without one of them lower-cased
    has nothing to mask and is not searched: a long answer cut off at 64 KB
    took longer to search than to read."""
    if not _names_a_stem(text):
        return text
    return _JSON_SECRET.sub(lambda m: f'{m.group(1)}"{MASK}"', text)


def json_text(text: str, *, cut: bool = False) -> str:
    """A JSON text with its secrets masked, re-encoded; a text that names no
    secret key is kept as it was sent. A text that is no JSON, or was ``cut``
    off at the journal's limit, has the ``"key": "value"`` pairs of secret keys
    masked in place."""
    if not _may_name_a_secret(text):
        return text
    if cut:
        return json_pairs(text)
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return json_pairs(text)
    return orjson.dumps(json_value(value)).decode()


_BYTE_STEMS = tuple(stem.encode() for stem in _STEMS)
# The one character outside ASCII that str.lower() turns into an ASCII letter
# of a stem (KELVIN SIGN -> "k"): a text with it is lower-cased as text.
_KELVIN = "\u212a"


def _names_a_stem(text: str) -> bool:
    if _KELVIN in text:
        folded = text.lower()
        return any(stem in folded for stem in _STEMS)
    # bytes.lower() folds ASCII only, which is all the stems are made of, and
    # costs a fraction of str.lower() on a text with any non-ASCII character.
    folded_bytes = text.encode("utf-8", "surrogatepass").lower()
    return any(stem in folded_bytes for stem in _BYTE_STEMS)


def _may_name_a_secret(text: str) -> bool:
    """Whether a key of the JSON text can be one of :data:`SECRET_KEYS`: without
    an escape in the text, such a key lower-cased is in the text lower-cased.
    Most bodies (every plain read's answer) name none, and are kept as sent."""
    return "\\" in text or _names_a_stem(text)


def form_text(text: str) -> str:
    """A form-url-encoded text (a body or a query string) with secret fields masked
    and JSON values (the Microbizz ``json`` envelope) masked inside."""
    out = []
    for key, value in parse_qsl(text, keep_blank_values=True):
        if key.lower() in SECRET_KEYS:
            value = MASK
        elif value.lstrip()[:1] in ("{", "["):
            value = json_text(value)
        out.append((key, value))
    return urlencode(out)


def body(text: str, content_type: str, *, cut: bool = False) -> str:
    """A captured body with its secrets masked (``cut``: it was cut off at the
    journal's limit, so it is no whole JSON text)."""
    kind = content_type.split(";")[0].strip().lower()
    if kind == "application/x-www-form-urlencoded":
        return form_text(text)
    if kind.startswith("multipart/"):
        # Field values of a multipart body are not parsed; JSON-looking secrets still are.
        return json_pairs(text)
    return json_text(text, cut=cut) if text.strip() else text
