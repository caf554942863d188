"""Price lists and quantity price groups (Cirrus pricelists/pricegroups).

A price list is a :class:`Record` of kind ``pricelist``; its article prices
are ``pricelist_price`` records whose ``parent_id`` is the list. A price
group is a :class:`Lookup` of kind ``price_group`` with ``extra.min`` and
``extra.max`` (the quantity range) and ``extra.unit_id``.

A list's prices are written with :func:`replace_prices` (one call per list
write): each price names a live product and price group of the tenant, an
entry with the id of one of the list's prices changes it, prices left out go.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select

from polycrm.core import lookups
from polycrm.core.errors import Invalid, NotFound
from polycrm.core.models import Lookup, Product, Record
from polycrm.core.service import Service, Write
from polycrm.core.workspace import Workspace

LIST_KIND = "pricelist"
PRICE_KIND = "pricelist_price"
GROUP_KIND = "price_group"


def _list_kind(write: Write) -> None:
    """A price list is a record of kind ``pricelist``, active unless told, and stays one."""
    if write.creating:
        write.values["kind"] = LIST_KIND
        write.values.setdefault("active", True)
    elif write.given("kind") and write.values["kind"] != LIST_KIND:
        raise Invalid("a price list stays a price list", field="kind")


SERVICE: Service[Record] = Service(Record, "pricelist", rules=[_list_kind])


def groups_for_quantity(ws: Workspace, quantity: int) -> list[int]:
    """Ids of the price groups whose quantity range holds ``quantity`` (an open end holds all)."""
    found = []
    for group in ws.scalars(select(Lookup).where(Lookup.kind == GROUP_KIND, Lookup.deleted.is_(False))):
        low, high = (group.extra or {}).get("min"), (group.extra or {}).get("max")
        if (low is None or int(low) <= quantity) and (high is None or quantity <= int(high)):
            found.append(group.id)
    return found


def prices_of(ws: Workspace, pricelist_id: int) -> list[Record]:
    return ws.scalars(select(Record).where(Record.kind == PRICE_KIND, Record.parent_id == pricelist_id,
                                           Record.deleted.is_(False)).order_by(Record.id))


# The fields of one price, kept in the price record's ``extra``.
PRICE_FIELDS = ("price", "discountpercent", "discountamount", "pricegroup_id", "article_id")


def check_price(ws: Workspace, values: Mapping[str, Any]) -> None:
    """A price's group and product, when given, are live rows of this tenant."""
    group = values.get("pricegroup_id")
    if group and lookups.get(ws, GROUP_KIND, group) is None:
        raise NotFound(f"price group {group} not found", field="pricegroup_id")
    product = values.get("article_id")
    if product and ws.get(Product, product, include_deleted=False) is None:
        raise NotFound(f"product {product} not found", field="article_id")


def replace_prices(ws: Workspace, pricelist: Record, entries: Iterable[tuple[int | None, Mapping[str, Any]]]) -> None:
    """Make ``entries`` (price id or None for a new price, its fields) the list's prices."""
    existing = {p.id: p for p in prices_of(ws, pricelist.id)}
    planned = list(entries)
    for price_id, values in planned:
        if price_id is not None and price_id not in existing:
            raise NotFound(f"price {price_id} is not a price of this list", field="prices")
        unknown = set(values) - set(PRICE_FIELDS)
        if unknown:
            raise ValueError(f"unknown price fields: {', '.join(sorted(unknown))}")
        check_price(ws, values)
    kept = set()
    for price_id, values in planned:
        extra = {f"extra.{name}": value for name, value in values.items()}
        if price_id is None:
            ws.create(Record, {"kind": PRICE_KIND, "parent_id": pricelist.id, **extra})
        else:
            ws.update(existing[price_id], extra)
            kept.add(price_id)
    for price_id, price in existing.items():
        if price_id not in kept:
            ws.update(price, {"deleted": True})
