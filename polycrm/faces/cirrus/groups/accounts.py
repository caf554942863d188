"""accounts (#1–#16): accounts = core customers, plus groups, types, budgets, merge.

Coordinates: the core ``latitude``/``longitude`` of a customer are the
coordinates of its *visiting* address (also kept in
``addresses.visiting.latitude/longitude``); the other addresses keep theirs
in ``addresses.<kind>.latitude/longitude``. ``nearto`` measures from the
visiting coordinates.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from polycrm.core import budgets, links
from polycrm.core import query as q
from polycrm.core import customers
from polycrm.core.customers import ADDRESS_KINDS
from polycrm.core.merge import merge_customers
from polycrm.core.models import Activity, Contact, Customer, Document, Lookup, Record, User
from polycrm.faces.cirrus import wire
from polycrm.faces.cirrus.entity import Entity, f_active, f_eq, f_ids, f_like, lookup_entity
from polycrm.faces.cirrus.handlers import Call, creating, custom, following, item, listing, paged, updating
from polycrm.faces.cirrus.views import (
    FILE_REF, ID_NAME, TAG_REF, USER_REF, Ctx, View, attr, children, linked, ref, render
)
from polycrm.faces.cirrus.writers import Writes, ignored, to, to_bool, to_links
from polycrm.faces.cirrus.groups._records import MonthlyBudget
from polycrm.faces.cirrus.schemas import MODELS
from polycrm.faces.cirrus.errors import CirrusService, WireField

ACCOUNT_KIND = q.entity_kind(Customer)
ADDRESS_PARTS = [p for p in MODELS["Address"] if p != "coordinates"]


# -- coordinates ---------------------------------------------------------------
def coordinates(kind: str) -> Any:
    """Reader of one address's ``Coordinates`` (the visiting ones are the core's)."""

    def read(ctx: Ctx, obj: Customer) -> dict:
        address = (obj.addresses or {}).get(kind) or {}
        if kind == "visiting":
            lat = obj.latitude if obj.latitude is not None else address.get("latitude")
            lng = obj.longitude if obj.longitude is not None else address.get("longitude")
            distance = ctx.distances.get(obj.id)
        else:
            lat, lng, distance = address.get("latitude"), address.get("longitude"), None
        return {
            "latitude": wire.coerce("coord", lat),
            "longitude": wire.coerce("coord", lng),
            "distance": None if distance is None else wire.format_coord(round(distance, 3)),
        }

    return read


ADDRESS_KINDS_SHOWN = tuple(MODELS["Addresses"])
ADDRESS_FIELDS = tuple(MODELS["Address"])
COORDINATES_OF = {kind: coordinates(kind) for kind in ADDRESS_KINDS_SHOWN}


def _text(value: Any) -> Any:
    return value if value is None or type(value) is str else wire.coerce("str", value)


def read_addresses(ctx: Ctx, obj: Customer) -> dict:
    addresses = obj.addresses or {}
    out = {}
    for kind in ADDRESS_KINDS_SHOWN:
        address = addresses.get(kind) or {}
        out[kind] = {name: COORDINATES_OF[kind](ctx, obj) if name == "coordinates" else _text(address.get(name))
                     for name in ADDRESS_FIELDS}
    return out


def write_addresses(ctx: Ctx, obj: Any, value: Any, out: Writes) -> None:
    """Partial: only the addresses, and the parts of them, that are sent change."""
    if not isinstance(value, Mapping):
        return
    for kind, address in value.items():
        if kind not in ADDRESS_KINDS:
            continue
        if address is None:
            address = {p: None for p in ADDRESS_PARTS} | {"coordinates": {"latitude": None, "longitude": None}}
        for part in ADDRESS_PARTS:
            if part in address:
                out.changes[f"addresses.{kind}.{part}"] = address[part]
        coords = address.get("coordinates")
        if isinstance(coords, Mapping):
            for axis in ("latitude", "longitude"):
                if axis in coords:
                    number = wire.parse_coord(coords[axis])
                    # The core keeps the customer's coordinates = the visiting ones.
                    out.changes[f"addresses.{kind}.{axis}"] = number


def to_id(path: str) -> Any:
    """A reference by id (0/None clear it); the customer service checks that it exists."""

    def write(ctx: Ctx, obj: Any, value: Any, out: Writes) -> None:
        out.changes[path] = int(value) if value else None

    return write


# Core fields of an account write as Cirrus names them in its errors.
ACCOUNT_SERVICE = CirrusService(customers.SERVICE, {
    "name": WireField("name"), "number": WireField("number"),
    "type_id": WireField("typeid", "Account type"), "user_id": WireField("userid", "User"),
    "extra.alternateuser_id": WireField("alternateuserid", "User"),
    "parent_id": WireField("parentaccountid", "Account"),
})


# -- views -------------------------------------------------------------------
COORDINATES = View("Coordinates", {
    "latitude": lambda ctx, obj: coordinates("visiting")(ctx, obj)["latitude"],
    "longitude": lambda ctx, obj: coordinates("visiting")(ctx, obj)["longitude"],
    "distance": lambda ctx, obj: coordinates("visiting")(ctx, obj)["distance"],
})
ACCOUNT_REF = View("AccountRef", {
    **{n: attr(n) for n in ("id", "name", "alt_name", "number", "email", "phone", "cellphone")},
    "coordinates": coordinates("visiting"),
})
ACCOUNT_CONTACT = View("AccountContact", {
    **{n: attr(n) for n in ("id", "name", "surname", "email", "phone", "cellphone")},
    "primary": attr("is_primary"), "title": attr("jobtitle"),
})
ACCOUNT = View("Account", {
    **{n: attr(n) for n in ("id", "name", "alt_name", "number", "phone", "cellphone", "fax", "email")},
    "url": attr("www"), "vatno": attr("vat"), "active": attr("active"), "info": attr("description"),
    **{n: attr(f"extra.{n}") for n in ("socialmedia_fb", "socialmedia_tw", "socialmedia_li", "department")},
    "externalkey": attr("externalkey"),
    "uservisitintervalweeks": attr("extra.uservisitintervalweeks"),
    "alternateuservisitintervalweeks": attr("extra.alternateuservisitintervalweeks"),
    "addresses": read_addresses,
    "files": linked(Document, FILE_REF, links.FILE, outgoing=False, other_kind=q.entity_kind(Document)),
    "type": ref(Lookup, "type_id", ID_NAME),
    "user": ref(User, "user_id", USER_REF),
    "parentaccount": ref(Customer, "parent_id", ACCOUNT_REF),
    "contacts": children(Contact, "customer_id", ACCOUNT_CONTACT,
                         (q.Sort("is_primary", descending=True), q.Sort("name", mode="text"))),
    "followers": linked(User, USER_REF, links.FOLLOW, outgoing=False, other_kind=links.USER),
    "accountgroups": linked(Lookup, ID_NAME, links.ACCOUNT_GROUP, outgoing=True, other_kind=links.LOOKUP),
    "tags": linked(Lookup, TAG_REF, links.TAG, outgoing=True, other_kind=links.LOOKUP),
    "alternateuserid": attr("extra.alternateuser_id"),
    "alternateuser": ref(User, "extra.alternateuser_id", USER_REF),
})
ACCOUNT_COORD = View("AccountCoord", {
    "accountid": attr("id"), "addresstype": lambda ctx, obj: "visiting",
    "latitude": lambda ctx, obj: coordinates("visiting")(ctx, obj)["latitude"],
    "longitude": lambda ctx, obj: coordinates("visiting")(ctx, obj)["longitude"],
    "distance": lambda ctx, obj: coordinates("visiting")(ctx, obj)["distance"],
})


# -- the account entity --------------------------------------------------------
def account_filters(query: Mapping[str, Any]) -> list[q.Criterion]:
    found: list[q.Criterion] = []
    if query.get("missionid") is not None:
        result = query.get("missionresult")
        found.append(q.Criterion("linked", "id", q.LinkedTo(
            "mission", q.entity_kind(Record), (query["missionid"],),
            value=None if result is None else str(result))))
    if query.get("activity"):
        crit = []
        if query.get("activity_user") is not None:
            crit.append(q.Criterion("eq", "user_id", query["activity_user"]))
        if query.get("activity_closed") is not None:
            crit.append(q.Criterion("flag", "closed", query["activity_closed"]))
        if query.get("activity_type") is not None:
            crit.append(q.Criterion("eq", "type_id", query["activity_type"]))
        found.append(q.Criterion("has", "id", q.Has(Activity, "customer_id", tuple(crit))))
    return found


ACCOUNT_FILTERS = {
    "userid": f_eq("user_id"), "userids": f_ids("user_id"), "accountnumber": f_like("number"),
    "typeid": f_eq("type_id"), "typeids": f_ids("type_id"), "active": f_active(), "name": f_like("name"),
    "postal_city": f_like("addresses.postal.city"), "postal_street": f_like("addresses.postal.street"),
    "visitingaddress_city": f_like("addresses.visiting.city"),
    "deliveryaddress_city": f_like("addresses.delivery.city"),
    "invoiceaddress_city": f_like("addresses.invoice.city"),
    "phone": f_like("phone"), "cellphone": f_like("cellphone"), "vatno": f_like("vat"),
    "externalkey": f_eq("externalkey"),
}
ACCOUNT_SORTS = {
    "name": (q.Sort("name_folded"),), "number": (q.Sort("number", mode="numeric_text"),),
    "userid": (q.Sort("user_id"),),
    "postaladdress_number": (q.Sort("addresses.postal.number", mode="numeric_text"),),
    "postaladdress_odd": (q.Sort("addresses.postal.number", mode="odd"),),
    "postaladdress_even": (q.Sort("addresses.postal.number", mode="even"),),
}

ACCOUNT_ENTITY = Entity(
    label="Account",
    model=Customer,
    view=ACCOUNT,
    writers={
        "name": to("name", required=True), "alt_name": to("alt_name"),
        "typeid": to_id("type_id"),
        "number": to("number"), "userid": to_id("user_id"),
        "alternateuserid": to_id("extra.alternateuser_id"),
        "phone": to("phone"), "cellphone": to("cellphone"), "fax": to("fax"), "email": to("email"),
        "url": to("www"), "vatno": to("vat"), "active": to_bool("active"), "info": to("description"),
        "socialmedia_fb": to("extra.socialmedia_fb"), "socialmedia_tw": to("extra.socialmedia_tw"),
        "socialmedia_li": to("extra.socialmedia_li"),
        "uservisitintervalweeks": to("extra.uservisitintervalweeks"),
        "alternateuservisitintervalweeks": to("extra.alternateuservisitintervalweeks"),
        "parentaccountid": to_id("parent_id"),
        "addresses": write_addresses,
        "accountgroups": to_links(links.ACCOUNT_GROUP, "account_group", "Account group"),
        "externalkey": to("externalkey"),
        "tags": to_links(links.TAG, "tag", "Tag"),
    },
    filters=ACCOUNT_FILTERS,
    combined=account_filters,
    combined_params=frozenset({"missionid", "missionresult", "activity", "activity_user", "activity_closed",
                               "activity_type"}),
    sorts=ACCOUNT_SORTS,
    fulltext="search_text",
    near=("latitude", "longitude"),
    service=ACCOUNT_SERVICE,
)

ACCOUNT_COORD_ENTITY = Entity(
    label="Account", model=Customer, view=ACCOUNT_COORD, filters=ACCOUNT_FILTERS, sorts=ACCOUNT_SORTS,
    fulltext="search_text", near=("latitude", "longitude"),
    scope=(q.Criterion("set", "latitude", True), q.Criterion("set", "longitude", True)),
)

# -- account groups and types ------------------------------------------------------
ACCOUNT_GROUP = lookup_entity(
    "Accountgroup", "account_group", ID_NAME,
    writers={"id": ignored(), "name": to("name", required=True)},
    filters={"accountid": lambda v: [q.Criterion("linked", "id", q.LinkedTo(
        links.ACCOUNT_GROUP, ACCOUNT_KIND, (v,), listed_is_source=False))]},
    sorts={"name": (q.Sort("name", mode="text"),)},
    fulltext="name",
)

_TYPE_NUMBERS = [n for n, t in MODELS["AccountType"].items() if t == "int" and n not in ("id", "sortorder", "isdefault")]
ACCOUNT_TYPE = View("AccountType", {
    "id": attr("id"), "name": attr("name"), "defaulttab": attr("extra.defaulttab"),
    "sortorder": attr("sortorder"), "isdefault": attr("is_default"),
    **{n: (lambda key: lambda ctx, obj: (obj.extra or {}).get(key, 0))(n) for n in _TYPE_NUMBERS},
})
ACCOUNT_TYPES = lookup_entity("Account type", "customer_type", ACCOUNT_TYPE)


# -- budgets -----------------------------------------------------------------------
BUDGET = View("AccountBudget", {
    "id": attr("id"), "year": attr("extra.year"), "month": attr("extra.month"), "budget": attr("extra.budget"),
})


MONTHLY_BUDGET = MonthlyBudget(budgets.ACCOUNT, ACCOUNT_ENTITY, "accountid", "account", BUDGET, ("budget",))


# -- merge ---------------------------------------------------------------------------
def merge(call: Call) -> dict:
    target = ACCOUNT_ENTITY.find(call.ctx, call.path["target"])
    source = ACCOUNT_ENTITY.find(call.ctx, call.path["source"])
    merge_customers(call.ws, target, source)
    call.ws.flush()
    return render(call.ctx, ACCOUNT, target)


BINDINGS = {
    "post_account_collection": creating(ACCOUNT_ENTITY),
    "get_account_collection": paged(ACCOUNT_ENTITY),
    "get_accountcoordinate_collection": paged(ACCOUNT_COORD_ENTITY),
    "post_accountgroup_collection": creating(ACCOUNT_GROUP),
    "get_accountgroup_collection": paged(ACCOUNT_GROUP),
    "put_accountgroup_item": updating(ACCOUNT_GROUP),
    "get_accountgroup_item": item(ACCOUNT_GROUP),
    "get_accounttype_collection": listing(ACCOUNT_TYPES),
    "post_account_follow": following(ACCOUNT_ENTITY, True),
    "post_account_unfollow": following(ACCOUNT_ENTITY, False),
    "put_account_budget_item": custom(MONTHLY_BUDGET.put, "object", BUDGET),
    "delete_account_budget_item": custom(MONTHLY_BUDGET.delete, "empty"),
    "get_account_budget_item": custom(MONTHLY_BUDGET.get, "object", BUDGET),
    "put_account_item": updating(ACCOUNT_ENTITY),
    "get_account_item": item(ACCOUNT_ENTITY),
    "post_account_merge": custom(merge, "object", ACCOUNT, ACCOUNT_ENTITY),
}

