"""Merging two customers: everything of the source moves to the target.

Contacts, activities, opportunities, quotes, orders, tickets, records,
child customers, custom prices and every link (files, follows, tags,
groups, mission connections) are re-pointed at the target; then the source
is marked deleted. It all happens in the caller's workspace, so a merge is
one transaction.
"""

from __future__ import annotations

from sqlalchemy import select

from polycrm.core import links
from polycrm.core.errors import Conflict
from polycrm.core.models import (
    Activity, Contact, Customer, IndividualPrice, Opportunity, Order, Quote, Record, Ticket,
)
from polycrm.core.query import entity_kind
from polycrm.core.workspace import Workspace

_OWNED = ((Contact, "customer_id"), (Activity, "customer_id"), (Opportunity, "customer_id"),
          (Quote, "customer_id"), (Order, "customer_id"), (Ticket, "customer_id"),
          (Record, "customer_id"), (Customer, "parent_id"))


def merge_customers(ws: Workspace, target: Customer, source: Customer) -> dict[str, int]:
    """Move the source's records to the target and delete the source.

    Returns how many rows of each kind moved. A customer cannot be merged
    into itself; a target that was the source's child takes the source's
    place in the hierarchy.
    """
    if target.id == source.id:
        raise Conflict("an account cannot be merged into itself", field="source")
    moved: dict[str, int] = {}
    for model, fk in _OWNED:
        column = getattr(model, fk)
        rows = ws.scalars(select(model).where(column == source.id))
        for row in rows:
            if model is Customer and row.id == target.id:
                # The target was the source's child: it becomes a top-level customer.
                ws.update(row, {fk: source.parent_id if source.parent_id != target.id else None})
                continue
            ws.update(row, {fk: target.id})
        moved[model.__tablename__] = len(rows)
    prices = ws.scalars(select(IndividualPrice).where(IndividualPrice.customer_id == source.id))
    taken = {p.product_id for p in ws.scalars(select(IndividualPrice).where(IndividualPrice.customer_id == target.id))}
    for price in prices:
        if price.product_id in taken:
            # The target's own price for the product wins.
            ws.delete(price)
        else:
            ws.update(price, {"customer_id": target.id})
    moved["individual_price"] = len(prices)
    moved["link"] = links.retarget(ws, entity_kind(Customer), source.id, target.id)
    ws.update(source, {"deleted": True, "extra.merged_into": target.id})
    return moved
