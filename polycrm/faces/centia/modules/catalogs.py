"""The generic handlers behind every module's lookup lists (GetTypes, GetOrigins,
GetTaxes, ...) and input lists (GetInputs), parameterised by the method table."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from polycrm.core import custom_fields, lookups
from polycrm.core.models import Lookup
from polycrm.faces.centia.modules._common import Call


def lookup_out(entry: Lookup, extras: Sequence[str]) -> dict[str, Any]:
    out = {"id": entry.id, "name": entry.name, "order": entry.sortorder, "is_default": bool(entry.is_default)}
    for key in extras:
        out[key] = (entry.extra or {}).get(key)
    return out


def lookup_list(kind: str, key: str, extras: Sequence[str] = ()) -> Callable[[Call], dict[str, Any]]:
    """A handler answering the profile's entries of list ``kind`` under ``key``, with the ``extras`` they carry."""

    def handler(call: Call) -> dict[str, Any]:
        return {key: [lookup_out(e, extras) for e in lookups.items(call.ws, kind, call.profile.id)]}

    handler.__name__ = f"list_{kind}"
    return handler


def input_out(f: Any) -> dict[str, Any]:
    return {
        "id": f.id,
        "name": f.name,
        "slug": f.slug,
        "type": f.field_type,
        "options": list(f.options or []),
        "required": bool(f.required),
        "order": f.sortorder,
    }


def input_list(entity: str) -> Callable[[Call], dict[str, Any]]:
    """A handler answering the profile's custom fields (inputs) of ``entity``."""

    def handler(call: Call) -> dict[str, Any]:
        return {"inputs": [input_out(f) for f in custom_fields.fields(call.ws, entity, call.profile.id)]}

    handler.__name__ = f"inputs_{entity}"
    return handler
