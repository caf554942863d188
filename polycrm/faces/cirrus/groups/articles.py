"""articles (#30–#51): articles = core products, article groups and units = the
``product_group`` and ``unit`` lookups, and the article lists (brands,
materials, warehouses, ...), one lookup kind each.

Core columns: ``price``, ``buyprice`` = ``cost_price``, ``vat``, ``unitid`` =
``unit_id``, ``groupid`` = ``group_id``; every other article field is kept in
``extra`` under its wire name (typos included: ``commision``,
``stockbalancewarningtreshold``).
"""

from __future__ import annotations

from typing import Any

from polycrm.core import links
from polycrm.core import products
from polycrm.core import query as q
from polycrm.core.models import Customer, Lookup, Product, Record
from polycrm.faces.cirrus.entity import Entity, f_eq, f_flag, f_like, lookup_entity
from polycrm.faces.cirrus.handlers import creating, item, listing, paged, updating
from polycrm.faces.cirrus.views import ID_NAME, TAG_REF, View, attr, linked
from polycrm.faces.cirrus.writers import ignored, to, to_bool, to_decimal, to_links, to_lookup, to_row

# Article fields that point into a lookup list: wire name -> (kind, label).
LISTS = {
    "warehousestatusid": ("warehouse_status", "Warehouse status"),
    "servicelevelid": ("service_level", "Service level"),
    "warehouseid": ("warehouse", "Warehouse"),
    "brandid": ("brand", "Brand"),
    "materialid": ("material", "Material"),
    "volumegroupid": ("volume_group", "Volume group"),
    "discountgroupid": ("discount_group", "Discount group"),
    "budgetgroupid": ("budget_group", "Budget group"),
}
EXTRA_TEXT = ("imageurl", "url1", "url2", "suppliername", "supplierarticlenumber", "presentation")
EXTRA_INT = ("stockbalance", "stockbalancewarningtreshold", "incampaign", "volume", "sortorder", "businessareaid")
EXTRA_NUM = ("commision", "area", "discount")

ARTICLE = View("Article", {
    "id": attr("id"), "name": attr("name"), "price": attr("price"), "description": attr("description"),
    "unitid": attr("unit_id"), "groupid": attr("group_id"), "number": attr("number"),
    "buyprice": attr("cost_price"), "externalkey": attr("externalkey"), "vat": attr("vat"),
    "accountid": attr("extra.accountid"), "active": attr("active"),
    **{name: attr(f"extra.{name}") for name in (*LISTS, *EXTRA_TEXT, *EXTRA_INT, *EXTRA_NUM)},
    "tags": linked(Lookup, TAG_REF, links.TAG, outgoing=True, other_kind=links.LOOKUP),
})


def to_extra_number(name: str):
    return to(f"extra.{name}", float)


def f_int(path: str, cast: str = "str"):
    """Equality with an id sent as text (``groupid`` is a string in the doc)."""

    def build(value: Any) -> list[q.Criterion]:
        text = str(value).strip()
        if not text.lstrip("-").isdigit() or abs(int(text)) > 2**31 - 1:
            return [q.Criterion("in", "id", [])]
        return [q.Criterion("eq", path, int(text), cast)]

    return build


def _missions(value: Any) -> list[q.Criterion]:
    return [q.Criterion("linked", "id", q.LinkedTo("mission", q.entity_kind(Record), (value,)))]


ARTICLE_ENTITY = Entity(
    label="Article",
    model=Product,
    view=ARTICLE,
    writers={
        "name": to("name", required=True), "price": to_decimal("price"), "description": to("description"),
        "unitid": to_lookup("unit_id", "unit", "Article unit"),
        "groupid": to_lookup("group_id", "product_group", "Article group"),
        "number": to("number"), "buyprice": to_decimal("cost_price"), "externalkey": to("externalkey"),
        "vat": to_decimal("vat"), "active": to_bool("active"),
        "accountid": to_row("extra.accountid", Customer, "Account"),
        **{name: to_lookup(f"extra.{name}", kind, label) for name, (kind, label) in LISTS.items()},
        **{name: to(f"extra.{name}") for name in (*EXTRA_TEXT, *EXTRA_INT)},
        **{name: to_extra_number(name) for name in EXTRA_NUM},
        "tags": to_links(links.TAG, "tag", "Tag"),
    },
    filters={
        "number": f_like("number"), "groupid": f_int("group_id"), "active": f_flag("active"),
        "supplierarticlenumber": f_like("extra.supplierarticlenumber"),
        "unitid": f_eq("unit_id"), "externalkey": f_eq("externalkey"),
        "businessareaid": f_eq("extra.businessareaid", "int"),
        **{name: f_eq(f"extra.{name}", "int") for name in LISTS},
        "missionid": _missions,
    },
    sorts={
        "name": (q.Sort("name", mode="text"),), "number": (q.Sort("number", mode="numeric_text"),),
        "suppliername": (q.Sort("extra.suppliername", mode="text"),),
        "supplierarticlenumber": (q.Sort("extra.supplierarticlenumber", mode="text"),),
        "externalkey": (q.Sort("externalkey"),), "sort": (q.Sort("extra.sortorder", mode="numeric_text"),),
    },
    fulltext="search_text",
    service=products.SERVICE,
)


def f_prefix(path: str):
    """The doc's "begins with" name filter (``%`` still works inside)."""
    return lambda v: [q.Criterion("like", path, f"{v}%")]


ARTICLE_GROUP = View("ArticleGroup", {
    "id": attr("id"), "name": attr("name"), "externalkey": attr("externalkey"), "sortorder": attr("sortorder"),
})
LISTED_ARTICLE_GROUP = View("ListedArticleGroup", {"id": attr("id"), "name": attr("name"), "externalkey": attr("externalkey")})
ARTICLE_UNIT = View("ArticleUnit", {"id": attr("id"), "name": attr("name"), "externalkey": attr("externalkey")})

ARTICLE_GROUPS = lookup_entity(
    "Articlegroup", "product_group", ARTICLE_GROUP,
    writers={"id": ignored(), "name": to("name"), "externalkey": to("externalkey"), "sortorder": to("sortorder")},
    filters={"externalkey": f_eq("externalkey"), "name": f_prefix("name")},
    sorts={"name": (q.Sort("name", mode="text"),), "id": (q.Sort("id"),), "sort": (q.Sort("sortorder"),)},
)
ARTICLE_UNITS = lookup_entity(
    "Articleunit", "unit", ARTICLE_UNIT,
    writers={"id": ignored(), "name": to("name"), "externalkey": to("externalkey")},
    filters={"externalkey": f_eq("externalkey"), "name": f_prefix("name")},
    sorts={"name": (q.Sort("name", mode="text"),), "id": (q.Sort("id"),)},
)
BY_ORDER = (q.Sort("sortorder"), q.Sort("name", mode="text"))


def plain_list(kind: str, label: str):
    return listing(lookup_entity(label, kind, ID_NAME), sort=BY_ORDER)


BINDINGS = {
    "post_articlegroup_collection": creating(ARTICLE_GROUPS),
    "get_articlegroup_collection": paged(ARTICLE_GROUPS, LISTED_ARTICLE_GROUP),
    "put_articlegroup_item": updating(ARTICLE_GROUPS),
    "get_articlegroup_item": item(ARTICLE_GROUPS),
    "post_article_collection": creating(ARTICLE_ENTITY),
    "get_article_collection": paged(ARTICLE_ENTITY),
    "get_article_brand_collection": plain_list("brand", "Brand"),
    "get_article_budgetgroup_collection": plain_list("budget_group", "Budget group"),
    "get_article_discountgroup_collection": plain_list("discount_group", "Discount group"),
    "get_article_group_collection": listing(ARTICLE_GROUPS, sort=BY_ORDER),
    "get_article_material_collection": plain_list("material", "Material"),
    "get_article_servicelevel_collection": plain_list("service_level", "Service level"),
    "get_article_unit_collection": listing(ARTICLE_UNITS, sort=BY_ORDER),
    "get_article_volumegroup_collection": plain_list("volume_group", "Volume group"),
    "get_article_warehouse_collection": plain_list("warehouse", "Warehouse"),
    "get_article_warehousestatus_collection": plain_list("warehouse_status", "Warehouse status"),
    "put_article_item": updating(ARTICLE_ENTITY),
    "get_article_item": item(ARTICLE_ENTITY),
    "post_articleunit_collection": creating(ARTICLE_UNITS),
    "get_articleunit_collection": paged(ARTICLE_UNITS),
    "put_articleunit_item": updating(ARTICLE_UNITS),
    "get_articleunit_item": item(ARTICLE_UNITS),
}
