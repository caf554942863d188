"""Opportunity rules shared by every API: creation with lines, search text, status."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from polycrm.core.customers import fold
from polycrm.core.errors import Invalid
from polycrm.core.models import Opportunity, OpportunityLine, Product
from polycrm.core.tenancy import on_save
from polycrm.core.workspace import Workspace

STATUSES = ("active", "pending", "won", "lost")
LINE_FIELDS = ("product_id", "quantity", "price", "discount", "tax", "total")


@on_save(Opportunity)
def _derive_opportunity(o: Opportunity) -> None:
    o.search_text = fold(" ".join(f for f in (o.title, o.description) if f))


def create(ws: Workspace, values: Mapping[str, Any], lines: Iterable[Mapping[str, Any]] = ()) -> Opportunity:
    """Create an opportunity and its product lines in one go."""
    status = values.get("status") or "active"
    if status not in STATUSES:
        raise Invalid(f"status must be one of {', '.join(STATUSES)}", field="status")
    opportunity = ws.create(Opportunity, {**values, "status": status})
    for order, line in enumerate(lines, start=1):
        add_line(ws, opportunity, line, order)
    return opportunity


def add_line(ws: Workspace, opportunity: Opportunity, line: Mapping[str, Any], order: int = 0) -> OpportunityLine:
    unknown = set(line) - set(LINE_FIELDS)
    if unknown:
        raise Invalid(f"unknown line fields: {', '.join(sorted(unknown))}")
    if line.get("product_id") is not None and ws.get(Product, line["product_id"], include_deleted=False) is None:
        raise Invalid(f"product {line['product_id']} not found", field="product_id")
    values = {k: v for k, v in line.items() if k in LINE_FIELDS}
    quantity, price = values.get("quantity"), values.get("price")
    if values.get("total") is None and quantity is not None and price is not None:
        values["total"] = Decimal(quantity) * Decimal(price)
    return ws.create(OpportunityLine, {**values, "opportunity_id": opportunity.id, "extra": {"sortorder": order}})


def lines_of(ws: Workspace, opportunity_ids: Iterable[int]) -> dict[int, list[OpportunityLine]]:
    ids = sorted(set(opportunity_ids))
    grouped: dict[int, list[OpportunityLine]] = {i: [] for i in ids}
    if ids:
        stmt = (
            select(OpportunityLine)
            .where(OpportunityLine.opportunity_id.in_(ids), OpportunityLine.deleted.is_(False))
            .order_by(OpportunityLine.opportunity_id, OpportunityLine.id)
        )
        for line in ws.scalars(stmt):
            grouped[line.opportunity_id].append(line)
    return grouped
