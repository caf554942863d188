"""addons (#190–#191): the add-ons installed for a tenant (read-only in this API).

An add-on is a core ``Record`` of kind ``addon``: ``name`` = title,
``number`` = internal name, ``active`` = enabled; ``extra`` holds ``url``,
``sort`` and ``parameters`` (a list of ``{name, value}``; a parameter's id is
its position). Add-ons are installed with fixtures (``records: {addon: [...]}``).
"""

from __future__ import annotations

from polycrm.core import query as q
from polycrm.faces.cirrus import wire
from polycrm.faces.cirrus.entity import f_like
from polycrm.faces.cirrus.handlers import item, paged
from polycrm.faces.cirrus.views import Ctx, View, attr
from polycrm.faces.cirrus.groups._records import created, extra, record_entity, updated
from polycrm.faces.cirrus.schemas import define

define("AddonParameter", {"id": "int", "name": "str", "value": "str", "created": "datetime", "updated": "datetime"})
define("Addon", {"id": "int", "title": "str", "url": "str", "internalname": "str", "sort": "int", "enabled": "bool",
                 "parameters": "[AddonParameter]"})


def parameters(ctx: Ctx, addon) -> list[dict]:
    """The add-on's parameters; they carry the add-on's own timestamps."""
    made, changed = created(ctx, addon), updated(ctx, addon)
    return [{"id": i, "name": wire.coerce("str", p.get("name")), "value": wire.coerce("str", p.get("value")),
             "created": wire.coerce("datetime", made), "updated": wire.coerce("datetime", changed)}
            for i, p in enumerate((addon.extra or {}).get("parameters") or [], start=1) if isinstance(p, dict)]


ADDON = View("Addon", {
    "id": attr("id"), "title": attr("name"), "url": extra("url"), "internalname": attr("number"),
    "sort": extra("sort", 0), "enabled": attr("active"), "parameters": parameters,
})
ADDON_ENTITY = record_entity(
    "Addon", "addon", ADDON,
    filters={"internalname": f_like("number")},
    sorts={"sort": (q.Sort("extra.sort", mode="numeric_text"),), "title": (q.Sort("name", mode="text"),),
           "internalname": (q.Sort("number", mode="text"),), "number": (q.Sort("id"),)},
)

BINDINGS = {"get_addon_collection": paged(ADDON_ENTITY), "get_addon_item": item(ADDON_ENTITY)}
