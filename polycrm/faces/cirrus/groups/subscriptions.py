"""subscriptions (#225–#228): subscriptions are core Records of kind
``subscription``, the rows Microbizz ``GetSubscriptionsByCustomerID`` reads
(``name``, ``active``, ``customer_id`` are columns; ``note`` and
``startdate`` the same ``extra`` keys Microbizz uses).

The vendor marks the group as unfinished: its PUT body and item schema are copies
of the sort group's. Served here: the documented Subscription model on
read and on write, plus the copied ``sort`` and ``externalkey`` (so what
the documented PUT sends is kept and read back), plus ``accountid`` (the
account the subscription belongs to; without it, a ``contactid`` gives the
contact's account).
"""

from __future__ import annotations

from typing import Any

from polycrm.core import query as q
from polycrm.core import records
from polycrm.core.models import Contact, Customer, Record, User
from polycrm.faces.cirrus.entity import Entity, f_eq, f_like
from polycrm.faces.cirrus.errors import FieldError
from polycrm.faces.cirrus.handlers import creating, item, paged, updating
from polycrm.faces.cirrus.views import Ctx, View, attr
from polycrm.faces.cirrus.writers import Writes, ignored, to
from polycrm.faces.cirrus.groups._sales import to_day, to_flag, to_int, to_ref, with_schema
from polycrm.faces.cirrus.schemas import define

SUBSCRIPTION_KIND = records.SUBSCRIPTION
LIST_IDS = ("typeid", "statusid", "intervalid", "periodid", "nextperiodid", "renewalperiodid", "renewalid",
            "advanceid")

define("Subscription", {
    "id": "int", "active": "int", "name": "str", "note": "text", "startdate": "str", "orderstartdate": "str",
    **{n: "int" for n in LIST_IDS}, "parentid": "int", "userid": "int", "contactid": "int",
    "sort": "int", "externalkey": "str", "accountid": "int",
})

SUBSCRIPTION = View("Subscription", {
    "id": attr("id"), "active": attr("active"), "name": attr("name"), "note": attr("extra.note"),
    "startdate": attr("extra.startdate"), "orderstartdate": attr("extra.orderstartdate"),
    **{n: attr(f"extra.{n}") for n in LIST_IDS}, "parentid": attr("parent_id"), "userid": attr("user_id"),
    "contactid": attr("extra.contact_id"), "sort": attr("extra.sort"), "externalkey": attr("externalkey"),
    "accountid": attr("customer_id"),
})


def write_parent(ctx: Ctx, obj: Any, value: Any, out: Writes) -> None:
    to_ref("parent_id", Record, "Subscription")(ctx, obj, value, out)
    parent = ctx.ws.get(Record, out.changes["parent_id"]) if out.changes["parent_id"] else None
    if parent is not None and parent.kind != SUBSCRIPTION_KIND:
        raise FieldError(f"Subscription {value} not found", 404)


def account_from_contact(ctx: Ctx, obj: Any, body: dict, out: Writes) -> None:
    contact_id = out.changes.get("extra.contact_id")
    if contact_id and "customer_id" not in out.changes and (obj is None or obj.customer_id is None):
        contact = ctx.ws.get(Contact, contact_id)
        out.changes["customer_id"] = contact.customer_id


SUBSCRIPTION_ENTITY = Entity(
    label="Subscription", model=Record, view=SUBSCRIPTION, service=records.SUBSCRIPTIONS,
    scope=(q.Criterion("eq", "kind", SUBSCRIPTION_KIND),), defaults={"kind": SUBSCRIPTION_KIND, "active": True},
    writers={
        "id": ignored(), "active": to_flag("active"), "name": to("name"), "note": to("extra.note"),
        "startdate": with_schema(to_day("extra.startdate"), format="date"),
        "orderstartdate": with_schema(to_day("extra.orderstartdate"), format="date"),
        **{n: to_int(f"extra.{n}") for n in LIST_IDS}, "parentid": write_parent,
        "userid": to_ref("user_id", User, "User"), "contactid": to_ref("extra.contact_id", Contact, "Contact"),
        "sort": to_int("extra.sort"), "externalkey": to("externalkey"),
        "accountid": to_ref("customer_id", Customer, "Account"),
    },
    filters={"name": f_like("name"), "sort": f_eq("extra.sort", "int")},
    sorts={"sort": (q.Sort("extra.sort", mode="numeric_text"),), "name": (q.Sort("name", mode="text"),)},
    prepare=account_from_contact,
)

BINDINGS = {
    "post_subscription_collection": creating(SUBSCRIPTION_ENTITY),
    "get_subscription_collection": paged(SUBSCRIPTION_ENTITY),
    "put_subscription_item": updating(SUBSCRIPTION_ENTITY),
    "get_subscription_item": item(SUBSCRIPTION_ENTITY),
}
