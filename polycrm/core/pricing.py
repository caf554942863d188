"""Invoice pricing: hour prices per item, by source (basic, customer type, customer)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from polycrm.core import lookups
from polycrm.core.errors import Invalid, NotFound
from polycrm.core.models import Customer, InvoicePrice
from polycrm.core.workspace import Workspace

SOURCES = ("basic", "customertype", "customer")


def check_source(ws: Workspace, source: str, source_id: int) -> tuple[str, int]:
    source = (source or "").strip().lower()
    if source not in SOURCES:
        raise Invalid("source must be basic, customertype or customer", field="source")
    if source == "basic":
        return source, 0
    if source == "customertype":
        lookups.require(ws, "customer_type", source_id, "id")
    elif ws.get(Customer, source_id) is None:
        raise NotFound(f"customer {source_id} not found", field="id")
    return source, source_id


def prices(ws: Workspace, source: str, source_id: int) -> list[InvoicePrice]:
    stmt = (
        select(InvoicePrice)
        .where(InvoicePrice.source == source, InvoicePrice.source_id == source_id, InvoicePrice.deleted.is_(False))
        .order_by(InvoicePrice.itemnumber)
    )
    return ws.scalars(stmt)


def save(ws: Workspace, source: str, source_id: int, rows: list[dict[str, Any]]) -> list[InvoicePrice]:
    """Create or update rows keyed by item number; other rows stay."""
    existing = {p.itemnumber: p for p in prices(ws, source, source_id)}
    for index, row in enumerate(rows, start=1):
        item = (row.get("itemnumber") or "").strip()
        if not item:
            raise Invalid(f"ips[{index}]: itemnumber is required", field="ips")
        values = {k: v for k, v in row.items() if k != "itemnumber"}
        if item in existing:
            ws.update(existing[item], values)
        else:
            existing[item] = ws.create(InvoicePrice, source=source, source_id=source_id, itemnumber=item, **values)
    return prices(ws, source, source_id)
