"""Quotations (Microbizz sales contracts, Cirrus quotes) and their lines."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from polycrm.core import lookups, products
from polycrm.core.errors import NotFound
from polycrm.core.models import Contact, Customer, Opportunity, Product, Quote, QuoteLine, User
from polycrm.core.workspace import Workspace

_REFS = (
    ("customer_id", Customer, "customer"), ("contact_id", Contact, "person"), ("user_id", User, "user"),
    ("user2_id", User, "user"), ("opportunity_id", Opportunity, "opportunity"),
)


def check_refs(ws: Workspace, values: dict[str, Any]) -> None:
    for key, model, what in _REFS:
        if values.get(key) and ws.get(model, values[key]) is None:
            raise NotFound(f"{what} {values[key]} not found", field=key)
    for key, kind in lookups.LOOKUP_FIELDS[Quote].items():
        if values.get(key):
            lookups.require(ws, kind, values[key], key)


def next_number(ws: Workspace) -> str:
    count = ws.session.scalar(select(func.count()).select_from(Quote)) or 0
    return f"Q-{count + 1:05d}"


def create(ws: Workspace, values: dict[str, Any]) -> Quote:
    check_refs(ws, values)
    data = dict(values)
    if not data.get("number"):
        data["number"] = next_number(ws)
    if not data.get("status_id"):
        default = lookups.default(ws, "quote_status")
        data["status_id"] = default.id if default else None
    if not data.get("user_id"):
        data["user_id"] = ws.user_id
    return ws.create(Quote, data)


def update(ws: Workspace, quote: Quote, values: dict[str, Any]) -> Quote:
    check_refs(ws, values)
    ws.update(quote, values)
    return quote


def save_line(ws: Workspace, values: dict[str, Any], line: QuoteLine | None = None) -> QuoteLine:
    """Create or update a line; a product number or id fills in the other."""
    data = dict(values)
    quote_id = data.get("quote_id", line.quote_id if line else None)
    quote = ws.get(Quote, quote_id) if quote_id else None
    if quote is None:
        raise NotFound(f"quotation {quote_id} not found", field="contractid")
    if data.get("product_id"):
        product = ws.get(Product, data["product_id"])
        if product is None:
            raise NotFound(f"product {data['product_id']} not found", field="productid")
        data.setdefault("product_number", product.number)
        if line is None:
            data.setdefault("text", product.name)
            data.setdefault("price", product.price)
    elif data.get("product_number"):
        product = products.by_number(ws, data["product_number"], include_deleted=False)
        if product is not None:
            data["product_id"] = product.id
            if line is None:
                data.setdefault("text", product.name)
                data.setdefault("price", product.price)
    if line is None:
        line = ws.create(QuoteLine, data)
    else:
        ws.update(line, data)
    recalculate(ws, quote)
    return line


def recalculate(ws: Workspace, quote: Quote) -> None:
    """Keep the quote's total equal to the sum of its lines."""
    total = Decimal(0)
    for line in ws.scalars(select(QuoteLine).where(QuoteLine.quote_id == quote.id, QuoteLine.deleted.is_(False))):
        amount = (line.quantity or Decimal(0)) * (line.price or Decimal(0))
        if line.discountpercent:
            amount -= amount * line.discountpercent / 100
        if line.discountamount:
            amount -= line.discountamount
        total += amount
    ws.update(quote, {"price": total.quantize(Decimal("0.0001"))})


def lines(ws: Workspace, quote_id: int) -> list[QuoteLine]:
    return ws.scalars(select(QuoteLine).where(QuoteLine.quote_id == quote_id).order_by(QuoteLine.sortorder, QuoteLine.id))
