"""Sales orders (Microbizz direct orders, Cirrus orders)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from polycrm.core import lookups, products
from polycrm.core.errors import Invalid, NotFound
from polycrm.core.models import Customer, Order, OrderLine, Product
from polycrm.core.workspace import Workspace


def next_number(ws: Workspace) -> str:
    count = ws.session.scalar(select(func.count()).select_from(Order)) or 0
    return f"O-{count + 1:05d}"


def create_direct(ws: Workspace, customer_id: int, lines: list[dict[str, Any]], values: dict[str, Any]) -> Order:
    """An order placed straight from a product list: at least one line, every
    line naming a known product (by id or number) and a positive quantity."""
    if ws.get(Customer, customer_id) is None:
        raise NotFound(f"customer {customer_id} not found", field="customerid")
    if not lines:
        raise Invalid("there must be at least one order line", field="lines")
    status = lookups.default(ws, "order_status")
    order = ws.create(
        Order,
        {
            "number": next_number(ws),
            "customer_id": customer_id,
            "user_id": ws.user_id,
            "status_id": status.id if status else None,
            **values,
        },
    )
    total = 0
    for index, line in enumerate(lines, start=1):
        product = None
        if line.get("product_id"):
            product = ws.get(Product, line["product_id"])
        elif line.get("product_number"):
            product = products.by_number(ws, line["product_number"], include_deleted=False)
        if product is None or product.deleted:
            ident = line.get("product_id") or line.get("product_number") or "(none)"
            raise NotFound(f"line {index}: product {ident} not found", field="lines")
        quantity = line.get("quantity")
        if quantity is None or quantity <= 0:
            raise Invalid(f"line {index}: count must be a positive number", field="lines")
        price = line.get("price") if line.get("price") is not None else product.price
        ws.create(
            OrderLine,
            order_id=order.id,
            product_id=product.id,
            product_number=product.number,
            text=line.get("text") or product.name,
            quantity=quantity,
            price=price,
            unit_id=product.unit_id,
            sortorder=index,
        )
        total += (price or 0) * quantity
    ws.update(order, {"price": total})
    return order
