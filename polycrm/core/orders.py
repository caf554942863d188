"""Sales orders (Microbizz direct orders, Cirrus orders) and their lines.

:data:`SERVICE` writes an order, :data:`LINE_SERVICE` its lines; the rules are
those of every sales document (:mod:`polycrm.core.sales`): an ``O-00001``
number claimed under the tenant's lock, the default ``order_status``, the
acting user, placed today unless dated, live references, and a price that is
the sum of the lines.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from polycrm.core import products, sales
from polycrm.core.errors import Invalid, NotFound
from polycrm.core.models import Customer, Order, OrderLine, Product
from polycrm.core.sales import LineService
from polycrm.core.service import Service, Write
from polycrm.core.workspace import Workspace

PREFIX = "O-"
LOOKUPS = {"status_id": "order_status", "type_id": "order_type", **sales.TERM_LOOKUPS}


def _placed_today(write: Write) -> None:
    """A new order without a place date is placed today (UTC; a face passes its own clock's day)."""
    if write.creating and not write.values.get("placedate"):
        write.values["placedate"] = dt.datetime.now(dt.UTC).date()


SERVICE: Service[Order] = Service(
    Order, "order",
    rules=[
        sales.references_rule(LOOKUPS),
        sales.number_rule(Order.number, PREFIX),
        sales.head_defaults("order_status"),
        _placed_today,
    ],
    after=[sales.price_follows_lines(OrderLine, "order_id")],
)

LINE_SERVICE = LineService(OrderLine, "order line", parent=Order, fk="order_id", parent_label="order")


def create_direct(ws: Workspace, customer_id: int, lines: list[dict[str, Any]], values: Mapping[str, Any]) -> Order:
    """An order placed straight from a product list: for a known customer, at least
    one line, every line naming a known product (by id or number) and a positive
    quantity; a line without a price takes the product's."""
    if ws.get(Customer, customer_id, include_deleted=False) is None:
        raise NotFound(f"customer {customer_id} not found", field="customerid")
    if not lines:
        raise Invalid("there must be at least one order line", field="lines")
    entries = []
    for index, line in enumerate(lines, start=1):
        product = None
        if line.get("product_id"):
            product = ws.get(Product, line["product_id"], include_deleted=False)
        elif line.get("product_number"):
            product = products.by_number(ws, line["product_number"], include_deleted=False)
        if product is None:
            ident = line.get("product_id") or line.get("product_number") or "(none)"
            raise NotFound(f"line {index}: product {ident} not found", field="lines")
        quantity = line.get("quantity")
        if quantity is None or quantity <= 0:
            raise Invalid(f"line {index}: count must be a positive number", field="lines")
        entry = {"product_id": product.id, "quantity": quantity, "text": line.get("text") or product.name}
        if line.get("price") is not None:
            entry["price"] = line["price"]
        entries.append((None, entry))
    order = SERVICE.create(ws, {**values, "customer_id": customer_id})
    LINE_SERVICE.replace(ws, order, entries)
    return order
