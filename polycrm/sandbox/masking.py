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
    folded = text.lower()
    if not any(key in folded for key in SECRET_KEYS):
        return text
    return _JSON_SECRET.sub(lambda m: f'{m.group(1)}"{MASK}"', text)


def json_text(text: str) -> str:
    """A JSON text with its secrets masked; a text that is no JSON (or was cut
    off) has the ``"key": "value"`` pairs of secret keys masked in place."""
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return json_pairs(text)
    if _may_name_a_secret(text):
        value = json_value(value)
    return orjson.dumps(value).decode()


def _may_name_a_secret(text: str) -> bool:
    """Whether a key of the JSON text can be one of :data:`SECRET_KEYS`: without
    an escape in the text, such a key lower-cased is in the text lower-cased.
    Most bodies (every plain read's answer) name none, and skip the walk."""
    if "\\" in text:
        return True
    folded = text.lower()
    return any(key in folded for key in SECRET_KEYS)


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


def body(text: str, content_type: str) -> str:
    kind = content_type.split(";")[0].strip().lower()
    if kind == "application/x-www-form-urlencoded":
        return form_text(text)
    if kind.startswith("multipart/"):
        # Field values of a multipart body are not parsed; JSON-looking secrets still are.
        return json_pairs(text)
    return json_text(text) if text.strip() else text
