"""A tenant's company-wide settings (company details, sales, field sales, consent mails).

Kept as the tenant's one :class:`Record` of kind ``settings`` (``extra`` holds
the settings); a tenant that never saved any gets :data:`DEFAULTS`. Saving is
a deep partial update: nested objects are merged, lists and values replaced.
"""

from __future__ import annotations

import copy
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
from collections.abc import Mapping
from typing import Any

from polycrm.core import query as q
from polycrm.core.models import Record
from polycrm.core.workspace import Workspace

KIND = "settings"
# The zone a tenant's times are shown in when its settings name none (or an
# unknown one): the vendors' home market.
DEFAULT_TIME_ZONE = "Europe/Copenhagen"
DEFAULTS: dict[str, Any] = {
    "currency": "SEK",
    "portal": {},
    "sales": {"defaultinterest": 0},
    "fieldsales": {"activitytypes": {}, "numberporting": {}, "filter": 0, "headlines": [], "signaturefields": []},
    "consent": {"email": {}},
}


def _row(ws: Workspace) -> Record | None:
    found = q.every(ws, Record, [q.Criterion("eq", "kind", KIND)], sort=[q.Sort("id")])
    return found[0] if found else None


def merged(base: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(dict(base))
    for key, value in changes.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merged(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def get(ws: Workspace) -> dict[str, Any]:
    row = _row(ws)
    return merged(DEFAULTS, (row.extra or {}) if row is not None else {})


def update(ws: Workspace, changes: Mapping[str, Any]) -> dict[str, Any]:
    row = _row(ws)
    stored = merged((row.extra or {}) if row is not None else {}, changes)
    if row is None:
        ws.create(Record, {"kind": KIND, "name": "settings", "extra": stored})
    else:
        ws.update(row, {"extra": stored})
    return merged(DEFAULTS, stored)


def time_zone(ws: Workspace) -> ZoneInfo:
    """The tenant's time zone: settings ``timezone`` (an IANA name), else :data:`DEFAULT_TIME_ZONE`."""
    name = get(ws).get("timezone")
    if isinstance(name, str) and name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    try:
        return ZoneInfo(DEFAULT_TIME_ZONE)
    except ZoneInfoNotFoundError:  # a system without time zone data
        return ZoneInfo("UTC")
