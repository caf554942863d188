"""Microbizz product commands (vendor page: Product commands)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from tests.microbizz.helpers import MB, paged_client, sync_all
from sqlalchemy import select

from polycrm.core import lookups, products
from polycrm.core.models import IndividualPrice, Order, OrderLine, Product
from polycrm.core.workspace import Workspace


@pytest.fixture
def mb(client, tenant) -> MB:
    return MB(client, tenant)


def by_number(items: list[dict]) -> dict[str, dict]:
    return {p["productnumber"]: p for p in items}


# -- create / update ---------------------------------------------------------------

def test_create_product_by_id(mb, runtime, tenant):
    units = mb.call("GetProductUnits")["units"]
    kg = next(u for u in units if u["title"] == "kg")
    created = mb.product(
        productnumber="P-1", title="Bolt", description="M8 bolt", price="12.50", costprice=7, unitid=kg["id"],
        ean="5701234567890", url="https://example.com/bolt",
    )
    assert created["id"] > 0
    assert (created["productnumber"], created["title"], created["description"]) == ("P-1", "Bolt", "M8 bolt")
    assert (created["price"], created["costprice"]) == (12.5, 7)
    assert (created["unitid"], created["unit"]) == (kg["id"], "kg")
    assert created["isdeleted"] == 0 and created["isfavorite"] == 0 and created["pricesdisabled"] == 0
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        stored = ws.get(Product, created["id"])
        assert (stored.number, stored.name, stored.price, stored.cost_price) == ("P-1", "Bolt", Decimal("12.5"), Decimal(7))
        assert stored.extra["url"] == "https://example.com/bolt"
    assert mb.call("GetProductByID", productid=created["id"])["products"] == [created]


def test_update_product_by_id_is_partial(mb):
    created = mb.product(productnumber="P-2", title="Nut", price=3, description="Hex")
    updated = mb.call("CreateUpdateProductByID", product={"id": created["id"], "price": "4,25"})["product"]
    assert updated["id"] == created["id"]
    assert (updated["title"], updated["description"], updated["price"]) == ("Nut", "Hex", 4.25)


def test_create_product_by_id_errors(mb, runtime, tenant):
    assert mb.fail("CreateUpdateProductByID", product={"id": 999999, "title": "X"}) == "Unknown product.id: 999999"
    assert mb.fail("CreateUpdateProductByID", product={"id": 0, "productnumber": "NT"}) == "Missing field: product.title"
    assert mb.fail("CreateUpdateProductByID", product={"id": 0, "title": "Bad", "unitid": 888888}) == (
        "Invalid value for product.unitid: 888888 not found"
    )
    assert mb.fail("CreateUpdateProductByID", product={"id": 0, "title": "Bad", "price": "cheap"}) == (
        "Invalid value for product.price: 'cheap' is not a number"
    )
    assert mb.fail("CreateUpdateProductByID") == "Missing field: product"
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        assert ws.count(select(Product)) == 0


def test_create_update_by_product_number(mb):
    first = mb.call("CreateUpdateProductByProductNumber", product={"productnumber": "N-1", "title": "Washer"})["product"]
    again = mb.call(
        "CreateUpdateProductByProductNumber", product={"id": 4242, "productnumber": "N-1", "price": 2}
    )["product"]
    assert again["id"] == first["id"] and (again["title"], again["price"]) == ("Washer", 2)
    assert mb.fail("CreateUpdateProductByProductNumber", product={"title": "Nameless"}) == (
        "Missing field: product.productnumber"
    )
    assert mb.call("GetProductByProductNumber", productnumber="N-1")["products"][0]["id"] == first["id"]


def test_get_product_lookups(mb):
    assert mb.call("GetProductByID", productid=999999) == {"status": 1, "products": []}
    assert mb.call("GetProductByProductNumber", productnumber="none") == {"status": 1, "products": []}
    assert mb.fail("GetProductByID") == "Missing field: productid"
    assert mb.fail("GetProductByProductNumber") == "Missing field: productnumber"


def test_prices_hidden_unless_include_prices(mb):
    hidden = mb.product(productnumber="H-1", title="Secret", price=100, costprice=60, pricesdisabled=1)
    mb.product(productnumber="O-1", title="Open", price=5)
    # The writer sees what it wrote.
    assert hidden["price"] == 100
    plain = mb.call("GetProductByID", productid=hidden["id"])["products"][0]
    assert "price" not in plain and "costprice" not in plain
    assert plain["pricesdisabled"] == 1
    shown = mb.call("GetProductByID", productid=hidden["id"], include_prices=1)["products"][0]
    assert (shown["price"], shown["costprice"]) == (100, 60)
    assert "price" not in mb.call("GetProductByProductNumber", productnumber="H-1")["products"][0]
    assert mb.call("GetProductByProductNumber", productnumber="H-1", include_prices="yes")["products"][0]["price"] == 100
    synced = by_number(mb.call("GetProductsByLastChange", changedate="2000-01-01")["products"])
    assert "price" not in synced["H-1"] and synced["O-1"]["price"] == 5
    synced = by_number(mb.call("GetProductsByLastChange", changedate="2000-01-01", include_prices=1)["products"])
    assert synced["H-1"]["price"] == 100


def test_get_products_by_last_change_filters(mb, runtime, tenant):
    mb.product(productnumber="A", title="Live")
    closed = mb.product(productnumber="B", title="Closed", isclosed=1)
    deleted = mb.product(productnumber="C", title="Deleted")
    mb.call("DeleteProductByID", productid=deleted["id"])
    everything = mb.call("GetProductsByLastChange", changedate="2000-01-01")
    assert [p["productnumber"] for p in everything["products"]] == ["A", "B", "C"]
    assert "resumekey" not in everything
    assert [p["productnumber"] for p in mb.call("GetProductsByLastChange", skip_deleted=1)["products"]] == ["A", "B"]
    assert [p["productnumber"] for p in mb.call("GetProductsByLastChange", ignoreclosed=1)["products"]] == ["A"]
    assert closed["isclosed"] == 1
    assert mb.call("GetProductsByLastChange", changedate="2999-12-31")["products"] == []
    assert mb.fail("GetProductsByLastChange", changedate="31/31/2020") == (
        "Invalid value for changedate: '31/31/2020' is not a date (YYYY-MM-DD or DD-MM-YYYY)"
    )


def test_products_sync_pages_keep_their_filters(runtime, tenant):
    with paged_client(runtime, 2) as small:
        mb = MB(small, tenant)
        hidden = {"pricesdisabled": 1, "price": 9}
        for i in range(5):
            mb.product(productnumber=f"S{i}", title=f"S{i}", **hidden)
        mb.call("AddFavoriteProduct", productnumber="S1")
        items, pages = sync_all(mb, "GetProductsByLastChange", "products", changedate="2000-01-01", include_prices=1)
        assert [p["productnumber"] for p in items] == ["S0", "S1", "S2", "S3", "S4"]
        assert [len(p["products"]) for p in pages] == [2, 2, 1]
        # include_prices travels inside the resumekey.
        assert all(p["price"] == 9 for p in items)
        assert "resumekey" not in pages[-1]
        favorites, _ = sync_all(mb, "GetProductsByLastChange", "products", onlyfavorites=1)
        assert [p["productnumber"] for p in favorites] == ["S1"]
        assert mb.fail("GetProductsByLastChange", resumekey=pages[0]["resumekey"] + "x") == "Invalid resumekey"
        # A key of another command is not accepted either.
        mb.customer(name="c1"), mb.customer(name="c2"), mb.customer(name="c3")
        customer_key = mb.call("GetCustomersByLastChange")["resumekey"]
        assert mb.fail("GetProductsByLastChange", resumekey=customer_key) == "Invalid resumekey"


# -- delete --------------------------------------------------------------------------

def test_delete_product_keeps_quotation_lines(mb, runtime, tenant):
    customer = mb.customer(name="Buyer")
    product = mb.product(productnumber="D-1", title="Doomed", price=10)
    contract = mb.call("CreateUpdateSalesContract", salescontract={"title": "Offer", "customerid": customer["id"]})
    contract_id = contract["salescontract"]["id"]
    line = mb.call("CreateUpdateSalesContractLine", line={"contractid": contract_id, "productnumber": "D-1", "count": 2})
    assert mb.call("DeleteProductByID", productid=product["id"]) == {"status": 1}
    gone = mb.call("GetProductByID", productid=product["id"])["products"][0]
    assert gone["isdeleted"] == 1
    lines = mb.call("GetSalesContractLinesByLastChange", changedate="2000-01-01")["lines"]
    assert [(ln["id"], ln["productnumber"], ln["title"], ln["price"], ln["count"]) for ln in lines] == [
        (line["line"]["id"], "D-1", "Doomed", 10, 2),
    ]
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        assert ws.get(Product, product["id"]).deleted is True
    # A deleted product can't be ordered or made a favourite.
    assert mb.fail("AddFavoriteProduct", productnumber="D-1") == "Unknown productnumber: D-1"


def test_delete_product_errors(mb):
    assert mb.fail("DeleteProductByID") == "Missing field: productid"
    assert mb.fail("DeleteProductByID", productid="one") == "Invalid value for productid: 'one' is not a number"


# -- direct orders --------------------------------------------------------------------

def test_create_direct_order(mb, runtime, tenant):
    customer = mb.customer(name="Orderer")
    bolt = mb.product(productnumber="B-1", title="Bolt", price=2)
    mb.product(productnumber="N-1", title="Nut", price=1)
    result = mb.call(
        "CreateDirectOrder", customerid=customer["id"], note="Rush", deliverydate="01-03-2025",
        lines=[{"productnumber": "N-1", "count": "10"}, {"productid": bolt["id"], "count": 3, "price": 1.5}],
    )
    assert result == {"status": 1}
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        (order,) = ws.scalars(select(Order))
        assert (order.customer_id, order.note, order.deliverydate.isoformat()) == (customer["id"], "Rush", "2025-03-01")
        lines = ws.scalars(select(OrderLine).where(OrderLine.order_id == order.id).order_by(OrderLine.sortorder))
        assert [(ln.product_number, ln.quantity, ln.price) for ln in lines] == [
            ("N-1", Decimal(10), Decimal(1)), ("B-1", Decimal(3), Decimal("1.5")),
        ]
        assert order.price == Decimal("14.5")


def test_failed_direct_order_leaves_no_trace(mb, runtime, tenant):
    customer = mb.customer(name="Orderer")
    mb.product(productnumber="B-1", title="Bolt", price=2)
    assert mb.fail(
        "CreateDirectOrder", customerid=customer["id"],
        lines=[{"productnumber": "B-1", "count": 1}, {"productnumber": "NOPE", "count": 1}],
    ) == "Line 2: product NOPE not found"
    assert mb.fail("CreateDirectOrder", customerid=customer["id"], lines=[]) == (
        "Invalid value for lines: there must be at least 1 order line"
    )
    assert mb.fail("CreateDirectOrder", customerid=customer["id"]) == "Missing field: lines"
    assert mb.fail("CreateDirectOrder", customerid=customer["id"], lines=[{"productnumber": "B-1", "count": 0}]) == (
        "Line 1: count must be a positive number"
    )
    assert mb.fail("CreateDirectOrder", customerid=999999, lines=[{"productnumber": "B-1", "count": 1}]) == (
        "Customer 999999 not found"
    )
    assert mb.fail("CreateDirectOrder", customerid=customer["id"], lines=["B-1"]) == (
        "Invalid value for lines[1]: 'B-1' is not an order line object"
    )
    # In a batch the failed order goes while the commands around it stay.
    body = mb.batch(
        {"command": "CreateUpdateProductByID", "product": {"title": "Kept before"}},
        {"command": "CreateDirectOrder", "customerid": customer["id"],
         "lines": [{"productnumber": "B-1", "count": 2}, {"productid": 999999, "count": 1}]},
        {"command": "CreateUpdateProductByID", "product": {"title": "Kept after"}},
    )
    assert body["results"][1] == {"status": 0, "msg": "Line 2: product 999999 not found"}
    assert [r["status"] for r in body["results"]] == [1, 0, 1]
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        assert ws.count(select(Order)) == 0
        assert ws.count(select(OrderLine)) == 0
        assert sorted(p.name for p in ws.scalars(select(Product))) == ["Bolt", "Kept after", "Kept before"]


# -- groups ------------------------------------------------------------------------------

def test_get_product_groups(mb, runtime, tenant):
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        general = lookups.by_name(ws, "product_group", "General")
        child = lookups.save(ws, "product_group", {"name": "Fasteners", "parent_id": general.id, "sortorder": 2})
        general_id, child_id = general.id, child.id
    assert mb.call("GetProductGroups")["groups"] == [{"id": general_id, "title": "General", "parentid": 0}]
    assert mb.call("GetProductGroups", inclchildren=1)["groups"] == [
        {"id": general_id, "title": "General", "parentid": 0},
        {"id": child_id, "title": "Fasteners", "parentid": general_id},
    ]
    product = mb.product(title="Screw", groupid=child_id)
    assert (product["groupid"], product["grouptext"]) == (child_id, "Fasteners")
    assert mb.fail("GetProductGroups", inclchildren="all") == (
        "Invalid value for inclchildren: 'all' is not a boolean (1/0, true/false, yes/no)"
    )


# -- individual prices (in øre) ---------------------------------------------------------

def prices_of(runtime, tenant, customer_id: int) -> dict[int, int]:
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        return products.individual_prices(ws, customer_id)


@pytest.fixture
def priced(mb) -> dict:
    return {
        "a": mb.customer(name="A")["id"], "b": mb.customer(name="B")["id"],
        "p1": mb.product(productnumber="P1", title="One")["id"], "p2": mb.product(productnumber="P2", title="Two")["id"],
    }


def test_assign_individual_price(mb, runtime, tenant, priced):
    assert mb.call("AssignIndividualPriceByProductNumber", productnumber="P1", customerid=priced["a"], price=1250) == {
        "status": 1,
    }
    mb.call("AssignIndividualPriceByProductNumber", productnumber="P1", customerid=str(priced["a"]), price="1300")
    assert prices_of(runtime, tenant, priced["a"]) == {priced["p1"]: 1300}
    # Unknown product or customer: success without effect.
    assert mb.call("AssignIndividualPriceByProductNumber", productnumber="NOPE", customerid=priced["a"], price=1)["status"] == 1
    assert mb.call("AssignIndividualPriceByProductNumber", productnumber="P2", customerid=999999, price=1)["status"] == 1
    assert prices_of(runtime, tenant, priced["a"]) == {priced["p1"]: 1300}
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        assert ws.count(select(IndividualPrice)) == 1


def test_assign_individual_price_errors(mb, runtime, tenant, priced):
    assert mb.fail("AssignIndividualPriceByProductNumber", productnumber="P1", customerid=priced["a"], price="12.50") == (
        "Invalid value for price: '12.50' is not a whole number of minor units (øre/cent)"
    )
    assert mb.fail("AssignIndividualPriceByProductNumber", productnumber="P1", customerid=priced["a"]) == (
        "Missing field: price"
    )
    assert mb.fail("AssignIndividualPriceByProductNumber", customerid=priced["a"], price=1) == "Missing field: productnumber"
    assert prices_of(runtime, tenant, priced["a"]) == {}


def test_remove_individual_price(mb, runtime, tenant, priced):
    for customer in ("a", "b"):
        for product in ("P1", "P2"):
            mb.call("AssignIndividualPriceByProductNumber", productnumber=product, customerid=priced[customer], price=100)
    assert mb.call("RemoveIndividualPriceByProductNumber", productnumber="P1", customerid=priced["a"]) == {"status": 1}
    assert prices_of(runtime, tenant, priced["a"]) == {priced["p2"]: 100}
    assert prices_of(runtime, tenant, priced["b"]) == {priced["p1"]: 100, priced["p2"]: 100}
    # Without a customer the product's price goes for every customer.
    mb.call("RemoveIndividualPriceByProductNumber", productnumber="P2")
    assert prices_of(runtime, tenant, priced["a"]) == {}
    assert prices_of(runtime, tenant, priced["b"]) == {priced["p1"]: 100}
    # Nothing to remove is still a success.
    assert mb.call("RemoveIndividualPriceByProductNumber", productnumber="NOPE")["status"] == 1
    assert mb.call("RemoveIndividualPriceByProductNumber", productnumber="P2", customerid=priced["a"])["status"] == 1
    assert mb.fail("RemoveIndividualPriceByProductNumber", customerid=priced["a"]) == "Missing field: productnumber"
    assert prices_of(runtime, tenant, priced["b"]) == {priced["p1"]: 100}


def test_bulk_individual_prices(mb, runtime, tenant, priced):
    mb.call("AssignIndividualPriceByProductNumber", productnumber="P1", customerid=priced["a"], price=100)
    stats = mb.call(
        "CreateUpdateIndividualPricesByCustomerID", customerid=priced["a"], prices={"P1": 150, "P2": 200, "NOPE": 5},
    )["stats"]
    # Without allow_create only existing prices change.
    assert stats == {"created": 0, "updated": 1, "unchanged": 0, "skipped": 2}
    assert prices_of(runtime, tenant, priced["a"]) == {priced["p1"]: 150}
    stats = mb.call(
        "CreateUpdateIndividualPricesByCustomerID", customerid=priced["a"], allow_create=1,
        prices={"P1": "150", "P2": 200, "NOPE": 5},
    )["stats"]
    assert stats == {"created": 1, "updated": 0, "unchanged": 1, "skipped": 1}
    assert prices_of(runtime, tenant, priced["a"]) == {priced["p1"]: 150, priced["p2"]: 200}
    assert prices_of(runtime, tenant, priced["b"]) == {}


def test_bulk_individual_prices_errors(mb, runtime, tenant, priced):
    assert mb.fail("CreateUpdateIndividualPricesByCustomerID", customerid=999999, prices={"P1": 1}) == (
        "Unknown customerid: 999999"
    )
    assert mb.fail("CreateUpdateIndividualPricesByCustomerID", customerid=priced["a"], prices=[1, 2]) == (
        "Invalid value for prices: list is not a set of prices by product number"
    )
    assert mb.fail(
        "CreateUpdateIndividualPricesByCustomerID", customerid=priced["a"], allow_create=1, prices={"P1": 5, "P2": "x"}
    ) == "Invalid value for prices.P2: 'x' is not a number"
    assert mb.fail("CreateUpdateIndividualPricesByCustomerID", prices={"P1": 1}) == "Missing field: customerid"
    assert prices_of(runtime, tenant, priced["a"]) == {}


def test_a_product_number_in_use_is_refused(mb, runtime, tenant):
    first = mb.product(productnumber="P-9", title="Bolt")
    assert mb.fail("CreateUpdateProductByID", product={"id": 0, "productnumber": " p-9", "title": "Nut"}) == (
        "Invalid value for product.productnumber: p-9 is already used by Bolt"
    )
    other = mb.product(productnumber="P-10", title="Nut")
    assert mb.fail("CreateUpdateProductByID", product={"id": other["id"], "productnumber": "P-9 "}) == (
        "Invalid value for product.productnumber: P-9 is already used by Bolt"
    )
    # By number, a number that differs only in case and blanks is the same product.
    again = mb.call("CreateUpdateProductByProductNumber", product={"productnumber": "p-9", "price": 4})["product"]
    assert again["id"] == first["id"]
    # A deleted product's number is free again.
    mb.call("DeleteProductByID", productid=first["id"])
    assert mb.product(productnumber="P-9", title="Washer")["productnumber"] == "P-9"
