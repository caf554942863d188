"""Price lists and quantity price groups (Cirrus pricelists/pricegroups).

A price list is a :class:`Record` of kind ``pricelist``; its article prices
are ``pricelist_price`` records whose ``parent_id`` is the list. A price
group is a :class:`Lookup` of kind ``price_group`` with ``extra.min`` and
``extra.max`` (the quantity range) and ``extra.unit_id``.
"""

from __future__ import annotations

from sqlalchemy import select

from polycrm.core.models import Lookup, Record
from polycrm.core.workspace import Workspace

LIST_KIND = "pricelist"
PRICE_KIND = "pricelist_price"
GROUP_KIND = "price_group"


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
