"""contracts (#165–#173): contracts, the objects placed under them, their reminders.

A contract is a core ``Record`` of kind ``contract`` (``number``, ``externalkey``,
``user_id`` = responsible, ``customer_id`` = finance account; the rest in
``extra``). Its ``type``/``status`` are object categories (lookup kind
``object_category`` with code ``contracttype``/``contractstatus``). Placements
(shared with the objects group, :mod:`._assets`) and reminders: see
:mod:`polycrm.core.assets`.
"""

from __future__ import annotations

from typing import Any

from polycrm.core import assets
from polycrm.core import query as q
from polycrm.core.models import Activity, Contact, Customer, Link, Lookup, Record, User
from polycrm.faces.cirrus.entity import criteria, f_eq, f_like
from polycrm.faces.cirrus.errors import ApiError
from polycrm.faces.cirrus.handlers import Call, creating, custom, item, updating
from polycrm.faces.cirrus.views import USER_REF, Ctx, View, attr, render
from polycrm.faces.cirrus.writers import Writes, to
from polycrm.faces.cirrus.groups.accounts import ACCOUNT_REF
from polycrm.faces.cirrus.groups._assets import CONTRACT_OBJECT, OBJECT_CATEGORY, OBJECT_ENTITY, place, placement_of
from polycrm.faces.cirrus.groups._records import (
    created, csv_ids, extra, f_csv, page_of, record_entity, ref_in, to_datetime, to_int, to_ref, updated,
)
from polycrm.faces.cirrus.schemas import define

define("Contract", {
    "id": "int", "number": "str", "number2": "str", "description": "text", "status": "ObjectCategory",
    "start": "datetime", "end": "datetime", "installdate": "datetime", "value": "num", "financed": "int",
    "financeaccount": "AccountRef", "type": "ObjectCategory", "contact": "ContactRef", "responsible": "UserRef",
    "responsibleservice": "UserRef", "reminderdays": "int", "externalkey": "str",
})
define("ContractReminder", {"activityid": "int", "created": "datetime", "updated": "datetime"})

CONTACT_REF = View("ContactRef", {
    **{n: attr(n) for n in ("id", "name", "surname", "email", "cellphone")},
    "title": attr("jobtitle"), "officephone": attr("phone"), "number": attr("idnumber"),
})
CONTRACT = View("Contract", {
    "id": attr("id"), "number": attr("number"), "number2": extra("number2"), "description": extra("description"),
    "status": ref_in(Lookup, "extra.status_id", OBJECT_CATEGORY),
    "start": extra("start"), "end": extra("end"), "installdate": extra("installdate"), "value": extra("value"),
    "financed": extra("financed"), "financeaccount": ref_in(Customer, "customer_id", ACCOUNT_REF),
    "type": ref_in(Lookup, "extra.type_id", OBJECT_CATEGORY), "contact": ref_in(Contact, "extra.contact_id", CONTACT_REF),
    "responsible": ref_in(User, "user_id", USER_REF),
    "responsibleservice": ref_in(User, "extra.responsibleservice_id", USER_REF),
    "reminderdays": extra("reminderdays"), "externalkey": attr("externalkey"),
})
CONTRACT_REMINDER = View("ContractReminder", {"activityid": attr("target_id"), "created": created, "updated": updated})


def after_save(ctx: Ctx, contract: Record) -> None:
    assets.sync_reminder(ctx.ws, contract)


def prepare(ctx: Ctx, obj: Any, body: dict, out: Writes) -> None:
    out.after.append(after_save)


def contract_filters(query: dict) -> list[q.Criterion]:
    ids = csv_ids(query.get("objectids"))
    return [assets.contracts_with_objects(ids)] if ids else []


CONTRACT_ENTITY = record_entity(
    "Contract", assets.CONTRACT, CONTRACT, service=assets.CONTRACTS,
    writers={
        "number": to("number"), "number2": to("extra.number2"), "description": to("extra.description"),
        "status": to_ref("extra.status_id", Lookup, "Contract status", kind="object_category", code="contractstatus"),
        "start": to_datetime("extra.start"), "end": to_datetime("extra.end"),
        "installdate": to_datetime("extra.installdate"), "value": to("extra.value", float),
        "financed": to_int("extra.financed"),
        "financeaccount": to_ref("customer_id", Customer, "Account"),
        "type": to_ref("extra.type_id", Lookup, "Contract type", kind="object_category", code="contracttype"),
        "contact": to_ref("extra.contact_id", Contact, "Contact"),
        "responsible": to_ref("user_id", User, "User"),
        "responsibleservice": to_ref("extra.responsibleservice_id", User, "User"),
        "reminderdays": to_int("extra.reminderdays"), "externalkey": to("externalkey"),
    },
    filters={
        "number": f_like("number"), "externalkey": f_eq("externalkey"),
        "contactids": f_csv("extra.contact_id", "int"), "financeaccountids": f_csv("customer_id"),
        "responsibleids": f_csv("user_id"), "responsibleserviceids": f_csv("extra.responsibleservice_id", "int"),
        "typeids": f_csv("extra.type_id", "int"), "statusids": f_csv("extra.status_id", "int"),
    },
    combined=contract_filters, combined_params=frozenset({"objectids"}),
    fulltext="number,extra.number2,extra.description,externalkey",
    prepare=prepare,
)
# The list has no sorting parameter: contracts come by number, then id.
CONTRACT_ORDER = (q.Sort("number", mode="numeric_text"),)


def contract_page(call: Call) -> dict:
    return page_of(call, Record, criteria(CONTRACT_ENTITY, call.query), CONTRACT, CONTRACT_ORDER)


# -- placements (also served from the object side, objects.py) -----------------------------
def placement_item(call: Call) -> dict:
    contract = CONTRACT_ENTITY.find(call.ctx, call.path["contract_id"])
    obj = OBJECT_ENTITY.find(call.ctx, call.path["object_id"])
    return placement_of(call, contract, obj)


def put_placement(call: Call) -> dict:
    contract = CONTRACT_ENTITY.find(call.ctx, call.path["contract_id"])
    obj = OBJECT_ENTITY.find(call.ctx, call.path["object_id"])
    return place(call, contract, obj)


def contract_objects(call: Call) -> dict:
    contract = CONTRACT_ENTITY.find(call.ctx, call.path["contract_id"])
    crit = assets.placement_criteria(contract_id=contract.id, location=call.query.get("location"))
    return page_of(call, Link, crit, CONTRACT_OBJECT, [q.Sort("target_id")])


def reminder_item(call: Call) -> dict:
    contract = CONTRACT_ENTITY.find(call.ctx, call.path["contract_id"])
    found = q.every(call.ws, Link, assets.reminder_criteria(contract.id, call.path["activity_id"]))
    if not found or call.ws.get(Activity, call.path["activity_id"], include_deleted=False) is None:
        raise ApiError(404, f"Activity {call.path['activity_id']} is not a reminder of contract {contract.id}")
    return render(call.ctx, CONTRACT_REMINDER, found[0])


def reminders(call: Call) -> dict:
    contract = CONTRACT_ENTITY.find(call.ctx, call.path["contract_id"])
    return page_of(call, Link, assets.reminder_criteria(contract.id), CONTRACT_REMINDER, [q.Sort("target_id")])


BINDINGS = {
    "post_contract_collection": creating(CONTRACT_ENTITY),
    "get_contract_collection": custom(contract_page, "page", CONTRACT, CONTRACT_ENTITY),
    "get_contract_object_collection": custom(contract_objects, "page", CONTRACT_OBJECT, handles=["location"]),
    "put_contract_object_item": custom(put_placement, "object", CONTRACT_OBJECT),
    "get_contract_object_item": custom(placement_item, "object", CONTRACT_OBJECT),
    "get_contract_reminder_item": custom(reminder_item, "object", CONTRACT_REMINDER),
    "get_contract_reminder_collection": custom(reminders, "page", CONTRACT_REMINDER),
    "put_contract_item": updating(CONTRACT_ENTITY),
    "get_contract_item": item(CONTRACT_ENTITY),
}
