"""Core order service: numbers, defaults, references, direct orders and the order's total."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from polycrm.core import lookups, orders
from polycrm.core.errors import Conflict, Invalid, NotFound
from polycrm.core.models import Customer, Lookup, Order, Product
from polycrm.core.workspace import Workspace


def ws_of(runtime, tenant) -> Workspace:
    return Workspace(runtime.db, tenant["tenant_id"], tenant["user_id"])


def test_numbers_follow_the_highest_and_an_explicit_one_must_be_free(runtime, tenant):
    with ws_of(runtime, tenant) as ws:
        ws.create(Order, {"number": "O-00007"})
        given = orders.SERVICE.create(ws, {"number": "O-00010"})
        one, two = orders.SERVICE.create(ws, {}), orders.SERVICE.create(ws, {})
        assert [given.number, one.number, two.number] == ["O-00010", "O-00011", "O-00012"]
        with pytest.raises(Conflict):
            orders.SERVICE.create(ws, {"number": "O-00011"})


def test_defaults(runtime, tenant):
    with ws_of(runtime, tenant) as ws:
        order = orders.SERVICE.create(ws, {})
        assert order.status_id == lookups.default(ws, "order_status").id
        assert order.user_id == tenant["user_id"]
        assert order.placedate == dt.datetime.now(dt.UTC).date()
        dated = orders.SERVICE.create(ws, {"placedate": dt.date(2026, 1, 2)})
        assert dated.placedate == dt.date(2026, 1, 2)


def test_references_to_another_tenant_are_refused(runtime, tenant, other_tenant):
    with ws_of(runtime, other_tenant) as ws:
        foreign = ws.create(Customer, name="Elsewhere")
        foreign_type = ws.create(Lookup, {"kind": "order_type", "name": "Theirs"})
        ws.flush()
        customer_id, type_id = foreign.id, foreign_type.id
    with ws_of(runtime, tenant) as ws:
        with pytest.raises(NotFound) as refused:
            orders.SERVICE.create(ws, {"customer_id": customer_id})
        assert refused.value.field == "customer_id"
        with pytest.raises(NotFound):
            orders.SERVICE.create(ws, {"type_id": type_id})
        with pytest.raises(NotFound):
            orders.create_direct(ws, customer_id, [{"product_number": "X", "quantity": Decimal(1)}], {})


def test_a_direct_order_is_priced_from_its_lines(runtime, tenant):
    with ws_of(runtime, tenant) as ws:
        customer = ws.create(Customer, name="Buyer")
        product = ws.create(Product, name="Beans", number="KB-1", price=Decimal("120"))
        order = orders.create_direct(ws, customer.id, [
            {"product_number": "KB-1", "quantity": Decimal(2)},
            {"product_id": product.id, "quantity": Decimal(1), "price": Decimal("99.5")},
        ], {"note": "rush"})
        assert (order.number, order.price, order.customer_id) == ("O-00001", Decimal("339.5"), customer.id)
        with pytest.raises(Invalid) as bad:
            orders.create_direct(ws, customer.id, [{"product_id": product.id, "quantity": Decimal(0)}], {})
        assert bad.value.message == "line 1: count must be a positive number"


def test_order_lines_keep_the_total_and_a_text_limit_holds(runtime, tenant):
    with ws_of(runtime, tenant) as ws:
        order = orders.SERVICE.create(ws, {"price": Decimal("50")})
        assert order.price == Decimal("50")
        line = orders.LINE_SERVICE.create(ws, {"order_id": order.id, "quantity": 4, "price": Decimal("2.5")})
        assert order.price == Decimal("10")
        orders.LINE_SERVICE.update(ws, line, {"discountpercent": 50})
        assert order.price == Decimal("5")
        with pytest.raises(Invalid):
            orders.SERVICE.create(ws, {"currencycode": "TOO-LONG-CODE"})
