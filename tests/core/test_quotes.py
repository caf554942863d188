"""Core quote service: numbers, defaults, references, line maths and the quote's total."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from polycrm.core import lookups, quotes
from polycrm.core.errors import Conflict, Invalid, NotFound
from polycrm.core.models import Customer, Product, Quote, QuoteLine
from polycrm.core.workspace import Workspace


def ws_of(runtime, tenant) -> Workspace:
    return Workspace(runtime.db, tenant["tenant_id"], tenant["user_id"])


def test_a_new_quote_is_numbered_after_the_highest_number_in_use(runtime, tenant):
    with ws_of(runtime, tenant) as ws:
        first = quotes.SERVICE.create(ws, {"title": "A"})
        ws.create(Quote, {"number": "Q-00041", "title": "imported"})
        ws.create(Quote, {"number": "Q-2026-001", "title": "another series"})
        after = quotes.SERVICE.create(ws, {"title": "B"})
        assert (first.number, after.number) == ("Q-00001", "Q-00042")


def test_an_explicit_number_then_two_automatic_ones_do_not_collide(runtime, tenant):
    with ws_of(runtime, tenant) as ws:
        given = quotes.SERVICE.create(ws, {"number": "Q-00002"})
        one, two = quotes.SERVICE.create(ws, {}), quotes.SERVICE.create(ws, {})
        assert [given.number, one.number, two.number] == ["Q-00002", "Q-00003", "Q-00004"]
        with pytest.raises(Conflict) as taken:
            quotes.SERVICE.create(ws, {"number": "Q-00003"})
        assert taken.value.field == "number"
        with pytest.raises(Conflict):
            quotes.SERVICE.update(ws, one, {"number": "Q-00004"})
        assert quotes.SERVICE.update(ws, one, {"number": "Q-00003"}) is False


def test_defaults_are_the_default_status_and_the_acting_user(runtime, tenant):
    with ws_of(runtime, tenant) as ws:
        quote = quotes.SERVICE.create(ws, {"title": "Offer"})
        assert quote.status_id == lookups.default(ws, "quote_status").id
        assert quote.user_id == tenant["user_id"]


def test_references_must_be_live_records_of_this_tenant(runtime, tenant, other_tenant):
    with ws_of(runtime, other_tenant) as ws:
        foreign = ws.create(Customer, name="Elsewhere")
        foreign_product = ws.create(Product, name="Theirs", number="T-1")
        foreign_status = lookups.default(ws, "quote_status")
        ws.flush()
        ids = foreign.id, foreign_product.id, foreign_status.id
    with ws_of(runtime, tenant) as ws:
        with pytest.raises(NotFound) as refused:
            quotes.SERVICE.create(ws, {"customer_id": ids[0]})
        assert refused.value.field == "customer_id"
        with pytest.raises(NotFound):
            quotes.SERVICE.create(ws, {"status_id": ids[2]})
        gone = ws.create(Customer, name="Gone", deleted=True)
        with pytest.raises(NotFound):
            quotes.SERVICE.create(ws, {"customer_id": gone.id})
        quote = quotes.SERVICE.create(ws, {"title": "Offer"})
        with pytest.raises(NotFound) as product:
            quotes.LINE_SERVICE.create(ws, {"quote_id": quote.id, "product_id": ids[1]})
        assert product.value.field == "product_id"
        with pytest.raises(NotFound):
            quotes.LINE_SERVICE.create(ws, {"quote_id": 987654321})


def test_the_price_is_the_sum_of_the_lines(runtime, tenant):
    with ws_of(runtime, tenant) as ws:
        product = ws.create(Product, name="Machine", number="M-1", price=Decimal("14995"))
        quote = quotes.SERVICE.create(ws, {"title": "Coffee"})
        machine = quotes.LINE_SERVICE.create(ws, {"quote_id": quote.id, "product_id": product.id, "quantity": 1})
        assert (machine.text, machine.price, machine.product_number) == ("Machine", Decimal("14995"), "M-1")
        labour = quotes.LINE_SERVICE.create(ws, {"quote_id": quote.id, "text": "Installation", "quantity": 2,
                                                 "price": Decimal("895")})
        assert quote.price == Decimal("16785")
        # 10 % off and 5 off: 2 x 895 = 1790 -> 1611 -> 1606.
        quotes.LINE_SERVICE.update(ws, labour, {"discountpercent": 10, "discountamount": 5})
        assert quote.price == Decimal("16601")
        quotes.LINE_SERVICE.delete(ws, machine)
        assert quote.price == Decimal("1606")
        # While it has lines, a written price is the lines' sum again.
        quotes.SERVICE.update(ws, quote, {"price": Decimal("1")})
        assert quote.price == Decimal("1606")
        quotes.LINE_SERVICE.delete(ws, labour)
        assert quote.price == Decimal("0")


def test_a_quote_without_lines_keeps_its_written_price(runtime, tenant):
    with ws_of(runtime, tenant) as ws:
        quote = quotes.SERVICE.create(ws, {"title": "Lump sum", "price": Decimal("999")})
        quotes.SERVICE.update(ws, quote, {"price": Decimal("1200")})
        assert quote.price == Decimal("1200")


def test_replacing_lines_recomputes_once_and_deletes_the_rest(runtime, tenant):
    with ws_of(runtime, tenant) as ws:
        quote = quotes.create(ws, {"title": "Rows"}, lines=[{"text": "a", "quantity": 1, "price": 10},
                                                           {"text": "b", "quantity": 1, "price": 20}])
        assert quote.price == Decimal("30")
        kept = ws.first(select(QuoteLine).where(QuoteLine.quote_id == quote.id, QuoteLine.text == "a"))
        quotes.LINE_SERVICE.replace(ws, quote, [(kept, {"quantity": 3}), (None, {"text": "c", "price": 1, "quantity": 1})])
        assert quote.price == Decimal("31")
        live = ws.scalars(select(QuoteLine.text).where(QuoteLine.quote_id == quote.id, QuoteLine.deleted.is_(False)))
        assert sorted(live) == ["a", "c"]


def test_a_text_limit_is_refused(runtime, tenant):
    with ws_of(runtime, tenant) as ws:
        with pytest.raises(Invalid) as too_long:
            quotes.SERVICE.create(ws, {"title": "x" * 256})
        assert too_long.value.field == "title"
        quote = quotes.SERVICE.create(ws, {"title": "ok"})
        with pytest.raises(Invalid):
            quotes.LINE_SERVICE.create(ws, {"quote_id": quote.id, "product_number": "n" * 101})
