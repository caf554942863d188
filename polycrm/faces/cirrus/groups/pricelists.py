"""pricelists (#116–#123): price lists and quantity price groups.

Storage (see :mod:`polycrm.core.pricelists`): a price list is a core
Record of kind ``pricelist`` (``start``/``stop``/``default``/``strict``/
``description``/``currencyid`` in ``extra``; ``customer_id`` is the account
it belongs to, written with the optional ``accountid`` body field); its
``prices`` are ``pricelist_price`` records; a price group is a lookup of
kind ``price_group``.

``prices`` on write replaces the list's prices: an entry with the ``id`` of
one of its prices updates that price, an entry without ``id`` adds one,
prices left out are deleted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from polycrm.core import lookups, pricelists
from polycrm.core import query as q
from polycrm.core.models import Customer, Lookup, Product, Record
from polycrm.faces.cirrus.entity import Entity, f_eq, f_flag, lookup_entity, run_page
from polycrm.faces.cirrus.errors import FieldError, invalid
from polycrm.faces.cirrus.handlers import Call, creating, custom, item, paged, updating
from polycrm.faces.cirrus.views import ID_NAME, Ctx, View, attr, ref, render
from polycrm.faces.cirrus.writers import Writes, ignored, to
from polycrm.faces.cirrus.groups._sales import (
    ref_id, to_bit, to_flag, to_int, to_moment, to_ref,
)
from polycrm.faces.cirrus.schemas import MODELS, define
from polycrm.faces.cirrus.operations import INPUT_DEFS, input_schema

if "ArticleRef" not in MODELS:
    define("ArticleRef", {"id": "int", "name": "str", "number": "str"})
define("PriceGroup", {"id": "int", "name": "str", "unit": "IdName", "min": "int", "max": "int"})
define("ArticlePrice", {
    "id": "int", "price": "num", "discountpercent": "num", "discountamount": "num", "pricegroup": "PriceGroup",
    "article": "ArticleRef",
})
define("Pricelist", {
    "id": "int", "name": "str", "active": "bool", "start": "datetime", "stop": "datetime", "default": "bool",
    "externalkey": "str", "strict": "bool", "description": "text", "currencyid": "int", "prices": "[ArticlePrice]",
})
# A price in a request body is new when it has no id.
INPUT_DEFS["ArticlePriceIn"] = {"type": "object", "properties": {
    "id": input_schema("int"), "price": input_schema("num"), "discountpercent": input_schema("num"),
    "discountamount": input_schema("num"), "pricegroup": input_schema("PriceGroup"),
    "article": input_schema("ArticleRef"),
}}

ARTICLE_REF = View("ArticleRef", {"id": attr("id"), "name": attr("name"), "number": attr("number")})
PRICE_GROUP = View("PriceGroup", {
    "id": attr("id"), "name": attr("name"), "unit": ref(Lookup, "extra.unit_id", ID_NAME),
    "min": attr("extra.min"), "max": attr("extra.max"),
})
ARTICLE_PRICE = View("ArticlePrice", {
    "id": attr("id"), "price": attr("extra.price"), "discountpercent": attr("extra.discountpercent"),
    "discountamount": attr("extra.discountamount"), "pricegroup": ref(Lookup, "extra.pricegroup_id", PRICE_GROUP),
    "article": ref(Product, "extra.article_id", ARTICLE_REF),
})


def read_prices(ctx: Ctx, obj: Record) -> list:
    rows = ctx.loader.rows_where(Record, [q.Criterion("eq", "kind", pricelists.PRICE_KIND),
                                          q.Criterion("eq", "parent_id", obj.id)])
    return [render(ctx, ARTICLE_PRICE, row) for row in rows]


PRICELIST = View("Pricelist", {
    "id": attr("id"), "name": attr("name"), "active": attr("active"), "start": attr("extra.start"),
    "stop": attr("extra.stop"), "default": attr("extra.default"), "externalkey": attr("externalkey"),
    "strict": attr("extra.strict"), "description": attr("extra.description"),
    "currencyid": attr("extra.currencyid"), "prices": read_prices,
})


# -- writing prices ---------------------------------------------------------------
def write_prices(ctx: Ctx, obj: Any, value: Any, out: Writes) -> None:
    """``prices`` as (price id, core fields) for :func:`pricelists.replace_prices`;
    the ids are resolved here so an unknown one is named in Cirrus's words."""
    entries = [e for e in value or [] if isinstance(e, Mapping)]
    existing = {p.id for p in pricelists.prices_of(ctx.ws, obj.id)} if obj is not None else set()
    planned = []
    for index, entry in enumerate(entries):
        if entry.get("id") and int(entry["id"]) not in existing:
            raise FieldError(f"prices.{index}: price {entry['id']} is not a price of this list", 404)
        values: dict[str, Any] = {}
        for name in ("price", "discountpercent", "discountamount"):
            if name in entry:
                values[name] = None if entry[name] is None else float(entry[name])
        if "pricegroup" in entry:
            group = ref_id(entry["pricegroup"])
            if group and lookups.get(ctx.ws, pricelists.GROUP_KIND, group) is None:
                raise FieldError(f"Pricegroup {group} not found", 404)
            values["pricegroup_id"] = int(group) if group else None
        if "article" in entry:
            article = ref_id(entry["article"])
            if article and ctx.ws.get(Product, article, include_deleted=False) is None:
                raise FieldError(f"Article {article} not found", 404)
            values["article_id"] = int(article) if article else None
        planned.append((int(entry["id"]) if entry.get("id") else None, values))
    out.after.append(lambda ctx, saved: pricelists.replace_prices(ctx.ws, saved, planned))


PRICELIST_ENTITY = Entity(
    label="Pricelist", model=Record, view=PRICELIST,
    scope=(q.Criterion("eq", "kind", pricelists.LIST_KIND),),
    defaults={"kind": pricelists.LIST_KIND, "active": True},
    writers={
        "id": ignored(), "name": to("name"), "active": to_flag("active"), "start": to_moment("extra.start"),
        "stop": to_moment("extra.stop"), "default": to_bit("extra.default"), "externalkey": to("externalkey"),
        "strict": to_bit("extra.strict"), "description": to("extra.description"),
        "currencyid": to_int("extra.currencyid"), "prices": write_prices,
        # Not in the vendor's model: the account a price list belongs to.
        "accountid": to_ref("customer_id", Customer, "Account"),
    },
    filters={
        "active": f_flag("active"),
        # A day: the lists that start (stop) on it.
        "start": lambda v: [q.Criterion("like", "extra.start", f"{v.isoformat()}%")],
        "stop": lambda v: [q.Criterion("like", "extra.stop", f"{v.isoformat()}%")],
        "default": lambda v: [q.Criterion("eq", "extra.default", int(bool(v)), "int")],
        "accountid": f_eq("customer_id"), "accountnumber": f_eq("customer_id->customer.number"),
        "externalkey": f_eq("externalkey"),
        "strict": lambda v: [q.Criterion("eq", "extra.strict", int(bool(v)), "int")],
        "currencyid": f_eq("extra.currencyid", "int"),
    },
    sorts={"name": (q.Sort("name", mode="text"),), "start": (q.Sort("extra.start"),), "active": (q.Sort("active"),)},
    service=pricelists.SERVICE,
)


# -- price groups ------------------------------------------------------------------
def write_unit(ctx: Ctx, obj: Any, value: Any, out: Writes) -> None:
    unit = ref_id(value)
    if unit and lookups.get(ctx.ws, "unit", unit) is None:
        raise FieldError(f"Articleunit {unit} not found", 404)
    out.changes["extra.unit_id"] = int(unit) if unit else None


def check_range(ctx: Ctx, obj: Any, body: dict, out: Writes) -> None:
    low = out.changes.get("extra.min", (obj.extra or {}).get("min") if obj is not None else None)
    high = out.changes.get("extra.max", (obj.extra or {}).get("max") if obj is not None else None)
    if low is not None and high is not None and low > high:
        raise invalid({"min": f"{low} is greater than max {high}"})


PRICE_GROUP_ENTITY = lookup_entity(
    "Pricegroup", pricelists.GROUP_KIND, PRICE_GROUP,
    writers={"id": ignored(), "name": to("name", required=True), "unit": write_unit,
             "min": to_int("extra.min"), "max": to_int("extra.max")},
    filters={"unitid": f_eq("extra.unit_id", "int")},
    sorts={"unitid": (q.Sort("extra.unit_id", mode="numeric_text"),),
           "quantity": (q.Sort("extra.min", mode="numeric_text"),)},
    prepare=check_range,
)


def price_groups(call: Call) -> dict:
    """#119: ``quantity`` keeps the groups whose min–max range holds it."""
    quantity = call.query.get("quantity")
    if quantity is None:
        return run_page(call, PRICE_GROUP_ENTITY)
    ids = tuple(pricelists.groups_for_quantity(call.ws, quantity))
    entity = replace(PRICE_GROUP_ENTITY, scope=(*PRICE_GROUP_ENTITY.scope, q.Criterion("in", "id", ids)))
    return run_page(call, entity)


BINDINGS = {
    "post_pricelist_collection": creating(PRICELIST_ENTITY),
    "get_pricelist_collection": paged(PRICELIST_ENTITY),
    "post_pricelist_pricegroup_collection": creating(PRICE_GROUP_ENTITY),
    "get_pricelist_pricegroup_collection": custom(price_groups, "page", PRICE_GROUP, PRICE_GROUP_ENTITY,
                                                  handles=("quantity",)),
    "put_pricelist_pricegroup_item": updating(PRICE_GROUP_ENTITY),
    "get_pricelist_pricegroup_item": item(PRICE_GROUP_ENTITY),
    "put_pricelist_item": updating(PRICELIST_ENTITY),
    "get_pricelist_item": item(PRICELIST_ENTITY),
}

__all__ = ["ARTICLE_REF", "PRICELIST", "PRICE_GROUP", "BINDINGS"]
