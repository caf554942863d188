"""objects (#174–#187): installed objects (assets), object categories, an
object's contracts and relations.

An object is a core ``Record`` of kind ``object``: ``name``, ``externalkey``,
``customer_id`` = the manufacturer account; the rest in ``extra``. Object
categories are the lookup kind ``object_category``, whose ``code`` is the
category type (modelgroup, contracttype, contractstatus). Relations are
derived (:func:`polycrm.core.assets.relations`): ``contract`` (the contracts
the object is placed under) and ``manufacturer`` (its account).
"""

from __future__ import annotations

from typing import Any

from polycrm.core import assets, links
from polycrm.core import query as q
from polycrm.core.models import Customer, Link, Lookup, Record
from polycrm.faces.cirrus.entity import f_eq, f_like, lookup_entity
from polycrm.faces.cirrus.errors import ApiError, FieldError, invalid
from polycrm.faces.cirrus.handlers import Call, creating, custom, item, paged, updating
from polycrm.faces.cirrus.views import TAG_REF, Ctx, View, attr, linked, render
from polycrm.faces.cirrus.writers import Writes, to, to_links
from polycrm.faces.cirrus.groups.accounts import ACCOUNT_REF
from polycrm.faces.cirrus.groups.contracts import CONTRACT_ENTITY, CONTRACT_OBJECT, OBJECT_CATEGORY
from polycrm.faces.cirrus.groups._records import (
    created, extra, f_csv, page_of, record_entity, ref_in, to_int, to_ref, updated, with_schema,
)
from polycrm.faces.cirrus.schemas import define

define("Object", {
    "id": "int", "name": "str", "description": "text", "serialnumber": "str", "manufacturer": "AccountRef",
    "modelgroup": "ObjectCategory", "url": "str", "image1": "str", "image2": "str", "image3": "str",
    "externalkey": "str", "created": "datetime", "updated": "datetime", "tags": "[TagRef]",
})
define("ObjectRelation", {"type": "str", "objectid": "int", "otherid": "int"})

OBJECT = View("Object", {
    "id": attr("id"), "name": attr("name"), "description": extra("description"),
    "serialnumber": extra("serialnumber"), "manufacturer": ref_in(Customer, "customer_id", ACCOUNT_REF),
    "modelgroup": ref_in(Lookup, "extra.modelgroup_id", OBJECT_CATEGORY),
    **{n: extra(n) for n in ("url", "image1", "image2", "image3")},
    "externalkey": attr("externalkey"), "created": created, "updated": updated,
    "tags": linked(Lookup, TAG_REF, links.TAG, outgoing=True, other_kind=links.LOOKUP),
})

OBJECT_ENTITY = record_entity(
    "Object", assets.OBJECT, OBJECT,
    writers={
        "name": to("name", required=True), "description": to("extra.description"),
        "serialnumber": to("extra.serialnumber"), "manufacturer": to_ref("customer_id", Customer, "Account"),
        "modelgroup": to_ref("extra.modelgroup_id", Lookup, "Model group", kind="object_category", code="modelgroup"),
        **{n: to(f"extra.{n}") for n in ("url", "image1", "image2", "image3")},
        "externalkey": to("externalkey"), "tags": to_links(links.TAG, "tag", "Tag"),
    },
    filters={
        "serialnumber": f_like("extra.serialnumber"), "name": f_like("name"), "externalkey": f_eq("externalkey"),
        "manufacturerids": f_csv("customer_id"), "modelgroupids": f_csv("extra.modelgroup_id", "int"),
    },
    fulltext="name,extra.serialnumber,extra.description,externalkey",
)


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


def _placement(call: Call) -> tuple[Record, Record, Link | None]:
    obj = OBJECT_ENTITY.find(call.ctx, call.path["object_id"])
    contract = CONTRACT_ENTITY.find(call.ctx, call.path["contract_id"])
    return obj, contract, assets.placement(call.ws, contract.id, obj.id)


def object_contract(call: Call) -> dict:
    obj, contract, found = _placement(call)
    if found is None:
        raise ApiError(404, f"Object {obj.id} is not connected to contract {contract.id}")
    return render(call.ctx, CONTRACT_OBJECT, found)


def put_object_contract(call: Call) -> dict:
    obj, contract, current = _placement(call)
    body = call.body or {}
    location = body["location"] if "location" in body else (current.value if current is not None else None)
    found = assets.place(call.ws, contract.id, obj.id, location)
    call.ws.flush()
    return render(call.ctx, CONTRACT_OBJECT, found)


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
