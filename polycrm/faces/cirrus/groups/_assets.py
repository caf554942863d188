"""What the contracts and objects groups both serve: objects, object
categories and the placements of objects under contracts.

An object is a core ``Record`` of kind ``object``: ``name``, ``externalkey``,
``customer_id`` = the manufacturer account; the rest in ``extra``. Object
categories are the lookup kind ``object_category``, whose ``code`` is the
category type (modelgroup, contracttype, contractstatus). A placement is a
link contract -> object (:mod:`polycrm.core.assets`), read and written from
either side (``/contracts/{id}/objects/{id}``, ``/objects/{id}/contracts/{id}``).
"""

from __future__ import annotations

from polycrm.core import assets, links
from polycrm.core.models import Customer, Lookup, Record
from polycrm.faces.cirrus.entity import f_eq, f_like
from polycrm.faces.cirrus.errors import ApiError
from polycrm.faces.cirrus.handlers import Call
from polycrm.faces.cirrus.views import TAG_REF, View, attr, linked, render
from polycrm.faces.cirrus.writers import to, to_links
from polycrm.faces.cirrus.groups.accounts import ACCOUNT_REF
from polycrm.faces.cirrus.groups._records import created, extra, f_csv, record_entity, ref_in, to_ref, updated
from polycrm.faces.cirrus.schemas import define

define("ObjectCategory", {"id": "int", "type": "str", "name": "str", "sort": "int", "default": "int",
                          "created": "datetime", "updated": "datetime"})
define("ContractObject", {"contractid": "int", "objectid": "int", "location": "str",
                          "created": "datetime", "updated": "datetime"})
define("Object", {
    "id": "int", "name": "str", "description": "text", "serialnumber": "str", "manufacturer": "AccountRef",
    "modelgroup": "ObjectCategory", "url": "str", "image1": "str", "image2": "str", "image3": "str",
    "externalkey": "str", "created": "datetime", "updated": "datetime", "tags": "[TagRef]",
})

OBJECT_CATEGORY = View("ObjectCategory", {
    "id": attr("id"), "type": attr("code"), "name": attr("name"), "sort": attr("sortorder"),
    "default": attr("is_default"), "created": created, "updated": updated,
})
CONTRACT_OBJECT = View("ContractObject", {
    "contractid": attr("source_id"), "objectid": attr("target_id"), "location": attr("value"),
    "created": created, "updated": updated,
})
OBJECT = View("Object", {
    "id": attr("id"), "name": attr("name"), "description": extra("description"),
    "serialnumber": extra("serialnumber"), "manufacturer": ref_in(Customer, "customer_id", ACCOUNT_REF),
    "modelgroup": ref_in(Lookup, "extra.modelgroup_id", OBJECT_CATEGORY),
    **{n: extra(n) for n in ("url", "image1", "image2", "image3")},
    "externalkey": attr("externalkey"), "created": created, "updated": updated,
    "tags": linked(Lookup, TAG_REF, links.TAG, outgoing=True, other_kind=links.LOOKUP),
})

OBJECT_ENTITY = record_entity(
    "Object", assets.OBJECT, OBJECT, service=assets.OBJECTS,
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


# -- placements ------------------------------------------------------------------------
def placement_of(call: Call, contract: Record, obj: Record) -> dict:
    found = assets.placement(call.ws, contract.id, obj.id)
    if found is None:
        raise ApiError(404, f"Object {obj.id} is not connected to contract {contract.id}")
    return render(call.ctx, CONTRACT_OBJECT, found)


def place(call: Call, contract: Record, obj: Record) -> dict:
    """Place the object under the contract; a body without ``location`` keeps the current one."""
    body = call.body or {}
    current = assets.placement(call.ws, contract.id, obj.id)
    location = body["location"] if "location" in body else (current.value if current is not None else None)
    found = assets.place(call.ws, contract.id, obj.id, location)
    call.ws.flush()
    return render(call.ctx, CONTRACT_OBJECT, found)
