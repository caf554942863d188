"""objects (#174–#187): installed objects (assets), object categories, an
object's contracts and relations.

Objects, categories and placements are described in :mod:`._assets` (the
contracts group serves them too). Relations are
derived (:func:`polycrm.core.assets.relations`): ``contract`` (the contracts
the object is placed under) and ``manufacturer`` (its account).
"""

from __future__ import annotations

from typing import Any

from polycrm.core import assets
from polycrm.core import query as q
from polycrm.core.models import Link, Record
from polycrm.faces.cirrus.entity import f_eq, f_like, lookup_entity
from polycrm.faces.cirrus.errors import ApiError, FieldError, invalid
from polycrm.faces.cirrus.handlers import Call, creating, custom, item, paged, updating
from polycrm.faces.cirrus.views import Ctx, View, render
from polycrm.faces.cirrus.writers import Writes, to
from polycrm.faces.cirrus.groups._assets import CONTRACT_OBJECT, OBJECT_CATEGORY, OBJECT_ENTITY, place, placement_of
from polycrm.faces.cirrus.groups.contracts import CONTRACT_ENTITY
from polycrm.faces.cirrus.groups._records import page_of, to_int, with_schema
from polycrm.faces.cirrus.schemas import define

define("ObjectRelation", {"type": "str", "objectid": "int", "otherid": "int"})

# -- categories ---------------------------------------------------------------------
CATEGORY_TYPES = ("modelgroup", "contracttype", "contractstatus")


def check_category(ctx: Ctx, obj: Any, body: dict, out: Writes) -> None:
    kind = out.changes.get("code", obj.code if obj is not None else None)
    if kind not in CATEGORY_TYPES:
        raise FieldError(f"type must be one of {', '.join(CATEGORY_TYPES)}")


def write_category_type(ctx: Ctx, obj: Any, value: Any, out: Writes) -> None:
    if value not in CATEGORY_TYPES:
        raise FieldError(f"{value!r} is not one of {list(CATEGORY_TYPES)}")
    out.changes["code"] = value


CATEGORY_ENTITY = lookup_entity(
    "Object category", "object_category", OBJECT_CATEGORY,
    writers={"type": with_schema(write_category_type, {"enum": list(CATEGORY_TYPES)}), "name": to("name", required=True), "sort": to_int("sortorder"),
             "default": lambda ctx, obj, value, out: out.changes.__setitem__("is_default", bool(value))},
    filters={"type": f_eq("code"), "name": f_like("name"),
             "default": lambda v: [q.Criterion("flag", "is_default", v)]},
    sorts={"order": (q.Sort("sortorder"),), "name": (q.Sort("name", mode="text"),)},
    prepare=check_category,
)


# -- an object's contracts and relations ------------------------------------------------
def object_contracts(call: Call) -> dict:
    obj = OBJECT_ENTITY.find(call.ctx, call.path["object_id"])
    crit = assets.placement_criteria(object_id=obj.id, location=call.query.get("location"))
    return page_of(call, Link, crit, CONTRACT_OBJECT, [q.Sort("source_id")])


def _found(call: Call) -> tuple[Record, Record]:
    obj = OBJECT_ENTITY.find(call.ctx, call.path["object_id"])
    return CONTRACT_ENTITY.find(call.ctx, call.path["contract_id"]), obj


def object_contract(call: Call) -> dict:
    return placement_of(call, *_found(call))


def put_object_contract(call: Call) -> dict:
    return place(call, *_found(call))


RELATION = View("ObjectRelation", {"type": lambda ctx, r: r[0], "objectid": lambda ctx, r: r[1],
                                   "otherid": lambda ctx, r: r[2]})


def _relation_type(call: Call) -> str | None:
    kind = call.path.get("relation_type")
    if kind is not None and kind not in assets.RELATION_TYPES:
        raise ApiError(404, f"Unknown relation type {kind!r}: use one of {', '.join(assets.RELATION_TYPES)}")
    return kind


def relation_page(call: Call) -> dict:
    obj = OBJECT_ENTITY.find(call.ctx, call.path["object_id"])
    page, per_page = call.query.get("page") or 1, call.query.get("per_page") or 10
    try:
        found = assets.relation_page(call.ws, obj, _relation_type(call), page, per_page)
    except q.PageOutOfRange:
        raise invalid({"page": f"page {page} is out of range"}) from None
    return {"page": found.page, "pages": found.pages, "per_page": found.per_page, "total": found.total,
            "items": [render(call.ctx, RELATION, (t, obj.id, other)) for t, other in found.items]}


def relation_item(call: Call) -> dict:
    obj = OBJECT_ENTITY.find(call.ctx, call.path["object_id"])
    for kind, other in assets.relations(call.ws, obj, _relation_type(call)):
        if other == call.path["other_id"]:
            return render(call.ctx, RELATION, (kind, obj.id, other))
    raise ApiError(404, f"Object {call.path['object_id']} has no {call.path['relation_type']} relation "
                        f"to {call.path['other_id']}")


BINDINGS = {
    "post_object_collection": creating(OBJECT_ENTITY),
    "get_object_collection": paged(OBJECT_ENTITY),
    "post_object_category_collection": creating(CATEGORY_ENTITY),
    "get_object_category_collection": paged(CATEGORY_ENTITY),
    "put_object_category_item": updating(CATEGORY_ENTITY),
    "get_object_category_item": item(CATEGORY_ENTITY),
    "put_object_item": updating(OBJECT_ENTITY),
    "get_object_item": item(OBJECT_ENTITY),
    "get_object_contract_collection": custom(object_contracts, "page", CONTRACT_OBJECT, handles=["location"]),
    "put_object_contract_item": custom(put_object_contract, "object", CONTRACT_OBJECT),
    "get_object_contract_item": custom(object_contract, "object", CONTRACT_OBJECT),
    "get_object_relation_collection": custom(relation_page, "page", RELATION),
    "get_object_relation_type_collection": custom(relation_page, "page", RELATION),
    "get_object_relation_item": custom(relation_item, "object", RELATION),
}
