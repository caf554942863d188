"""Microbizz sales commands (vendor page: Sales commands)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from tests.microbizz.helpers import MB, add_user, b64, paged_client, sync_all
from sqlalchemy import select

from polycrm.core import documents, lookups
from polycrm.core.models import Activity, Document, InvoicePrice, Quote, QuoteLine
from polycrm.core.workspace import Workspace


@pytest.fixture
def mb(client, tenant) -> MB:
    return MB(client, tenant)


# -- calls -------------------------------------------------------------------------

def test_register_call_matches_the_customer_by_phone(mb, runtime, tenant):
    customer = mb.customer(name="Caller", phone="+45 70 10 20 30")
    assert mb.call(
        "RegisterCall", phonenumber="+45 70 10 20 30", incoming="yes", calldate="05-08-2011", calltime="09:30", duration="4",
    ) == {"status": 1}
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        (call,) = ws.scalars(select(Activity))
        assert (call.phonenumber, call.incoming, call.duration, call.closed) == ("+45 70 10 20 30", True, 4, True)
        assert call.customer_id == customer["id"] and call.user_id == tenant["user_id"]
        # 09:30 Copenhagen summer time is 07:30 UTC.
        assert call.start == dt.datetime(2011, 8, 5, 7, 30)
    # A registered call already happened: it is not pending.
    assert mb.call("GetMyPendingCalls") == {"status": 1, "calls": []}


def test_register_call_errors(mb, runtime, tenant):
    assert mb.fail("RegisterCall", incoming=1) == "Missing field: phonenumber"
    assert mb.fail("RegisterCall", phonenumber="123", duration=-3) == (
        "Invalid value for duration: -3 is not a positive number of minutes"
    )
    assert mb.fail("RegisterCall", phonenumber="123", calltime="noon") == (
        "Invalid value for calltime: 'noon' is not a time (HH:MM:SS)"
    )
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        assert ws.count(select(Activity)) == 0


def test_create_pending_and_end_call(mb, runtime, tenant):
    customer = mb.customer(name="Callee")
    created = mb.call(
        "CreateCall", call={"id": 555, "phonenumber": "70102030", "customerid": customer["id"], "title": "Follow up",
                            "calldate": "2024-06-01", "calltime": "10:15:00", "incoming": 0},
    )["call"]
    assert created["id"] != 555
    assert (created["phonenumber"], created["customerid"], created["customertext"]) == ("70102030", customer["id"], "Callee")
    assert (created["calldate"], created["calltime"], created["ended"], created["incoming"]) == ("2024-06-01", "10:15:00", 0, 0)
    assert created["userid"] == tenant["user_id"] and created["usertext"] == "Admin User"
    pending = mb.call("GetMyPendingCalls")["calls"]
    assert [c["id"] for c in pending] == [created["id"]]
    assert pending[0] == created
    assert mb.call("EndCall", callid=created["id"], duration=7, note="Agreed on a visit", answer={"q1": "yes"}) == {
        "status": 1,
    }
    assert mb.call("GetMyPendingCalls")["calls"] == []
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        ended = ws.get(Activity, created["id"])
        assert (ended.closed, ended.duration, ended.result) == (True, 7, "Agreed on a visit")
        assert ended.extra["answer"] == {"q1": "yes"}
        assert ended.stop - ended.start == dt.timedelta(minutes=7)


def test_call_errors(mb):
    assert mb.fail("CreateCall") == "Missing field: call"
    assert mb.fail("CreateCall", call={"phonenumber": "1"}, userid=999999) == "User 999999 not found"
    assert mb.fail("CreateCall", call={"phonenumber": "1", "customerid": 999999}) == (
        "Customer 999999 not found"
    )
    assert mb.call("GetMyPendingCalls")["calls"] == []
    assert mb.fail("EndCall", callid=999999) == "Call 999999 not found"
    assert mb.fail("EndCall") == "Missing field: callid"
    created = mb.call("CreateCall", call={"phonenumber": "1"})["call"]
    assert mb.fail("EndCall", callid=created["id"], duration=-1) == "Invalid value for duration: must not be negative"
    assert [c["id"] for c in mb.call("GetMyPendingCalls")["calls"]] == [created["id"]]


def test_pending_calls_are_per_user(client, runtime, tenant):
    mb = MB(client, tenant)
    second_id, second_creds = add_user(runtime, tenant, "karen")
    second = MB(client, tenant, **second_creds)
    for_karen = mb.call("CreateCall", call={"phonenumber": "1"}, userid=second_id)["call"]
    assert (for_karen["userid"], for_karen["usertext"]) == (second_id, "Karen Seller")
    mine = mb.call("CreateCall", call={"phonenumber": "2"})["call"]
    assert [c["id"] for c in mb.call("GetMyPendingCalls")["calls"]] == [mine["id"]]
    assert [c["id"] for c in second.call("GetMyPendingCalls")["calls"]] == [for_karen["id"]]


# -- small lists -------------------------------------------------------------------------

def test_product_units(mb):
    units = mb.call("GetProductUnits")["units"]
    assert [u["title"] for u in units] == ["pcs", "hour", "kg", "m", "l"]
    created = mb.call("CreateUpdateProductUnit", unit={"id": 0, "title": "box", "code": "BX", "sortorder": "9"})["unit"]
    assert created["id"] > 0 and (created["title"], created["code"], created["sortorder"]) == ("box", "BX", 9)
    updated = mb.call("CreateUpdateProductUnit", unit={"id": created["id"], "title": "crate"})["unit"]
    assert (updated["id"], updated["title"], updated["code"]) == (created["id"], "crate", "BX")
    assert [u["title"] for u in mb.call("GetProductUnits")["units"]][-1] == "crate"
    product = mb.product(title="Apples", unitid=created["id"])
    assert product["unit"] == "crate"


def test_product_unit_errors(mb):
    assert mb.fail("CreateUpdateProductUnit", unit={"id": 0, "code": "X"}) == "Missing field: unit.title"
    assert mb.fail("CreateUpdateProductUnit", unit={"id": 999999, "title": "ghost"}) == "Unknown unit.id: 999999"
    assert mb.fail("CreateUpdateProductUnit") == "Missing field: unit"
    assert len(mb.call("GetProductUnits")["units"]) == 5


def test_product_states_and_ma_events(mb, runtime, tenant):
    result = mb.call("GetProductStates")
    assert [s["title"] for s in result["states"]] == ["In use", "Spare", "Scrapped"]
    assert [b["title"] for b in result["budgetareas"]] == ["Operations", "Maintenance"]
    assert mb.call("GetMAEvents") == {"status": 1, "events": []}
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        lookups.save(ws, "ma_event", {"name": "Trade fair", "extra": {"date": "2025-09-10", "location": "Herning"}})
    (event,) = mb.call("GetMAEvents")["events"]
    assert (event["title"], event["date"], event["location"], event["description"]) == (
        "Trade fair", "2025-09-10", "Herning", "",
    )


# -- sales contracts ---------------------------------------------------------------

def test_create_and_update_sales_contract(mb, runtime, tenant):
    customer = mb.customer(name="Buyer")
    created = mb.call("CreateUpdateSalesContract", salescontract={
        "id": 0, "title": "Fence offer", "customerid": customer["id"], "contracttext": "Line one\nLine <two>",
        "startdate": "01-02-2025", "expecteddate": "2025-03-15", "requisition": "PO-77", "statetext": "Sent",
    })["salescontract"]
    assert created["id"] > 0 and created["number"] == "Q-00001"
    assert (created["customerid"], created["customertext"], created["statetext"]) == (customer["id"], "Buyer", "Sent")
    assert created["contracthtml"] == "<p>Line one<br>Line &lt;two&gt;</p>"
    assert (created["startdate"], created["expecteddate"], created["requisition"]) == ("2025-02-01", "2025-03-15", "PO-77")
    assert created["userid"] == tenant["user_id"] and created["price"] == 0
    updated = mb.call("CreateUpdateSalesContract", salescontract={"id": created["id"], "title": "Fence offer v2"})[
        "salescontract"
    ]
    assert (updated["id"], updated["title"], updated["requisition"], updated["statetext"]) == (
        created["id"], "Fence offer v2", "PO-77", "Sent",
    )
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        quote = ws.get(Quote, created["id"])
        assert (quote.title, quote.customer_id, quote.startdate) == ("Fence offer v2", customer["id"], dt.date(2025, 2, 1))


def test_sales_contract_errors(mb, runtime, tenant):
    assert mb.fail("CreateUpdateSalesContract", salescontract={"id": 999999, "title": "x"}) == (
        "Unknown salescontract.id: 999999"
    )
    assert mb.fail("CreateUpdateSalesContract", salescontract={"title": "x", "customerid": 999999}) == (
        "Customer 999999 not found"
    )
    assert mb.fail("CreateUpdateSalesContract", salescontract={"title": "x", "statetext": "Pondering"}) == (
        "Invalid value for salescontract.statetext: unknown state 'Pondering'"
    )
    assert mb.fail("CreateUpdateSalesContract", salescontract={"title": "x", "phaseid": 999999}) == (
        "Invalid value for salescontract.phaseid: 999999 not found"
    )
    assert mb.fail("CreateUpdateSalesContract") == "Missing field: salescontract"
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        assert ws.count(select(Quote)) == 0


def test_sales_contract_lines(mb, runtime, tenant):
    contract = mb.call("CreateUpdateSalesContract", salescontract={"title": "Offer"})["salescontract"]
    mb.product(productnumber="F-1", title="Fence panel", price=250)
    line = mb.call("CreateUpdateSalesContractLine", line={"contractid": contract["id"], "productnumber": "F-1", "count": 4})[
        "line"
    ]
    assert (line["contractid"], line["title"], line["price"], line["count"], line["productid"] > 0) == (
        contract["id"], "Fence panel", 250, 4, True,
    )
    custom = mb.call("CreateUpdateSalesContractLine", salescontractline={
        "contractid": contract["id"], "title": "Installation", "count": "2", "units": "hour", "price": "400", "discount": 10,
    })["line"]
    assert (custom["units"], custom["discount"], custom["productid"]) == ("hour", 10, 0)
    updated = mb.call("CreateUpdateSalesContractLine", line={"id": line["id"], "count": 5})["line"]
    assert (updated["id"], updated["count"], updated["title"], updated["price"]) == (line["id"], 5, "Fence panel", 250)
    # The contract's total follows its lines: 5 x 250 + 2 x 400 less 10 %.
    assert mb.call("CreateUpdateSalesContract", salescontract={"id": contract["id"]})["salescontract"]["price"] == 1970
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        assert ws.get(Quote, contract["id"]).price == Decimal(1970)
        assert ws.count(select(QuoteLine)) == 2


def test_sales_contract_line_errors(mb, runtime, tenant):
    contract = mb.call("CreateUpdateSalesContract", salescontract={"title": "Offer"})["salescontract"]
    assert mb.fail("CreateUpdateSalesContractLine", line={"title": "orphan"}) == "Missing field: line.contractid"
    assert mb.fail("CreateUpdateSalesContractLine", line={"contractid": 999999, "title": "x"}) == (
        "Quotation 999999 not found"
    )
    assert mb.fail("CreateUpdateSalesContractLine", line={"id": 999999, "count": 1}) == "Unknown line.id: 999999"
    assert mb.fail("CreateUpdateSalesContractLine", line={"contractid": contract["id"], "productid": 999999}) == (
        "Product 999999 not found"
    )
    assert mb.fail("CreateUpdateSalesContractLine") == "Missing field: line"
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        assert ws.count(select(QuoteLine)) == 0


def test_sales_contracts_by_last_change(runtime, tenant):
    with paged_client(runtime, 2) as small:
        mb = MB(small, tenant)
        ids = [mb.call("CreateUpdateSalesContract", salescontract={"title": f"Q{i}"})["salescontract"]["id"] for i in range(5)]
        # Without use_pagination everything comes at once, even past the page size.
        everything = mb.call("GetSalesContractsByLastChange", changedate="2000-01-01")
        assert [c["id"] for c in everything["salescontracts"]] == ids and "resumekey" not in everything
        items, pages = sync_all(mb, "GetSalesContractsByLastChange", "salescontracts", changedate="2000-01-01", use_pagination=1)
        assert [c["id"] for c in items] == ids
        assert [len(p["salescontracts"]) for p in pages] == [2, 2, 1]
        assert "resumekey" not in pages[-1]
        assert mb.call("GetSalesContractsByLastChange", changedate="2999-01-01")["salescontracts"] == []
        assert mb.fail("GetSalesContractsByLastChange", resumekey="not-a-key") == "Invalid resumekey"


def test_sales_contract_lines_by_last_change(mb):
    contract = mb.call("CreateUpdateSalesContract", salescontract={"title": "Offer"})["salescontract"]
    for title in ("a", "b"):
        mb.call("CreateUpdateSalesContractLine", line={"contractid": contract["id"], "title": title, "count": 1})
    lines = mb.call("GetSalesContractLinesByLastChange", changedate="2000-01-01")["lines"]
    assert [(ln["title"], ln["contractid"]) for ln in lines] == [("a", contract["id"]), ("b", contract["id"])]
    assert mb.call("GetSalesContractLinesByLastChange", changedate="2999-01-01")["lines"] == []
    assert mb.fail("GetSalesContractLinesByLastChange", changedate="soon") == (
        "Invalid value for changedate: 'soon' is not a date (YYYY-MM-DD or DD-MM-YYYY)"
    )


def test_add_file_to_sales_contract(mb, runtime, tenant):
    contract = mb.call("CreateUpdateSalesContract", salescontract={"title": "Offer"})["salescontract"]
    assert mb.call(
        "AddFileToSalesContract", contractid=contract["id"], filename="terms.pdf", filedata=b64(b"%PDF terms"),
        title="Terms", folder="Contracts/2025",
    ) == {"status": 1}
    assert mb.fail("AddFileToSalesContract", contractid=999999, filename="x.pdf", filedata=b64(b"x")) == (
        "Unknown contractid: 999999"
    )
    assert mb.fail("AddFileToSalesContract", contractid=contract["id"], filename="x.pdf") == "Missing field: filedata"
    with Workspace(runtime.db, tenant["tenant_id"], blobs=runtime.blobs) as ws:
        (doc,) = documents.linked(ws, "quote", contract["id"])
        assert (doc.filename, doc.title, doc.mime) == ("terms.pdf", "Terms", "application/pdf")
        assert runtime.blobs.get(doc.blob_sha256) == b"%PDF terms"
        assert [f["path"] for f in documents.folders_of(ws, "quote", contract["id"])] == ["Contracts", "Contracts/2025"]
        assert ws.count(select(Document)) == 1


# -- favourites ---------------------------------------------------------------------

@pytest.fixture
def catalogue(mb) -> list[dict]:
    return [mb.product(productnumber=f"F{i}", title=f"Fav {i}") for i in range(4)]


def test_add_and_remove_favorites(mb, catalogue):
    added = mb.call("AddFavoriteProduct", productnumber="F2")["product"]
    assert (added["productnumber"], added["isfavorite"]) == ("F2", 1)
    mb.call("AddFavoriteProduct", productnumber="F0")
    mb.call("AddFavoriteProduct", productnumber="F2")  # twice is once
    assert mb.call("GetFavoriteProducts") == {"status": 1, "favorites": ["F2", "F0"]}
    assert mb.call("GetProductByProductNumber", productnumber="F2")["products"][0]["isfavorite"] == 1
    removed = mb.call("RemoveFavoriteProduct", productnumber="F2")["product"]
    assert removed["isfavorite"] == 0
    assert mb.call("GetFavoriteProducts")["favorites"] == ["F0"]
    assert [p["productnumber"] for p in mb.call("GetProductsByLastChange", onlyfavorites=1)["products"]] == ["F0"]
    assert mb.fail("AddFavoriteProduct", productnumber="NOPE") == "Unknown productnumber: NOPE"
    assert mb.fail("RemoveFavoriteProduct", productnumber="NOPE") == "Unknown productnumber: NOPE"
    assert mb.fail("AddFavoriteProduct") == "Missing field: productnumber"


def test_set_favorites_replaces_the_list(mb, catalogue):
    mb.call("AddFavoriteProduct", productnumber="F0")
    assert mb.call("SetFavoriteProducts", favorites=["F3", "F1", "F3"]) == {"status": 1}
    assert mb.call("GetFavoriteProducts")["favorites"] == ["F3", "F1"]
    # One unknown number refuses the whole list and keeps the old one.
    assert mb.fail("SetFavoriteProducts", favorites=["F0", "NOPE", "GONE"]) == "Unknown productnumber: NOPE, GONE"
    assert mb.call("GetFavoriteProducts")["favorites"] == ["F3", "F1"]
    assert mb.fail("SetFavoriteProducts", favorites="F0") == "Invalid value for favorites: 'F0' is not a collection"
    mb.call("SetFavoriteProducts", favorites=[])
    assert mb.call("GetFavoriteProducts")["favorites"] == []


def test_favorites_are_per_user(client, runtime, tenant, catalogue):
    mine = MB(client, tenant)
    _, creds = add_user(runtime, tenant, "ole")
    theirs = MB(client, tenant, **creds)
    mine.call("SetFavoriteProducts", favorites=["F0", "F1"])
    theirs.call("AddFavoriteProduct", productnumber="F3")
    assert mine.call("GetFavoriteProducts")["favorites"] == ["F0", "F1"]
    assert theirs.call("GetFavoriteProducts")["favorites"] == ["F3"]
    assert [p["productnumber"] for p in theirs.call("GetProductsByLastChange", onlyfavorites=1)["products"]] == ["F3"]
    flags = {p["productnumber"]: p["isfavorite"] for p in theirs.call("GetProductsByLastChange")["products"]}
    assert flags == {"F0": 0, "F1": 0, "F2": 0, "F3": 1}
    theirs.call("RemoveFavoriteProduct", productnumber="F0")  # not theirs: no effect on mine
    assert mine.call("GetFavoriteProducts")["favorites"] == ["F0", "F1"]


# -- invoice pricing ----------------------------------------------------------------

def test_invoice_pricing_by_source(mb, runtime, tenant):
    customer = mb.customer(name="Priced")
    prospect = next(t for t in mb.call("GetCustomerTypes")["types"] if t["title"] == "Prospect")
    basic = mb.call("CreateUpdateInvoicePricing", source="basic", ips=[
        {"itemnumber": "HOUR", "hourprice": "650", "costprice": 300, "discount": 0, "timeconversion": "1.5", "workareaid": 2},
        {"itemnumber": "DRIVE", "hourprice": 400},
    ])["ips"]
    assert [(p["itemnumber"], p["hourprice"]) for p in basic] == [("DRIVE", 400), ("HOUR", 650)]
    assert basic[1] == {"itemnumber": "HOUR", "hourprice": 650, "costprice": 300, "discount": 0,
                        "timeconversion": 1.5, "workareaid": 2}
    mb.call("CreateUpdateInvoicePricing", source="customertype", id=prospect["id"], ips=[{"itemnumber": "HOUR", "hourprice": 600}])
    mb.call("CreateUpdateInvoicePricing", source="customer", id=str(customer["id"]), ips=[{"itemnumber": "HOUR", "hourprice": 550}])
    # Updating by item number changes only the fields given and keeps other rows.
    mb.call("CreateUpdateInvoicePricing", source="BASIC", ips=[{"itemnumber": "HOUR", "discount": 5}])
    basic = mb.call("GetInvoicePricingBySource", source="basic")["ips"]
    assert [(p["itemnumber"], p["hourprice"], p["discount"]) for p in basic] == [("DRIVE", 400, 0), ("HOUR", 650, 5)]
    by_type = mb.call("GetInvoicePricingBySource", source="customertype", id=prospect["id"])["ips"]
    assert [(p["itemnumber"], p["hourprice"]) for p in by_type] == [("HOUR", 600)]
    by_customer = mb.call("GetInvoicePricingBySource", source="customer", id=customer["id"])["ips"]
    assert [(p["itemnumber"], p["hourprice"]) for p in by_customer] == [("HOUR", 550)]
    other_type = next(t for t in mb.call("GetCustomerTypes")["types"] if t["title"] == "Supplier")
    assert mb.call("GetInvoicePricingBySource", source="customertype", id=other_type["id"])["ips"] == []
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        assert ws.count(select(InvoicePrice)) == 4


def test_invoice_pricing_errors(mb, runtime, tenant):
    assert mb.fail("GetInvoicePricingBySource", source="planet") == (
        "Invalid value for source: must be basic, customertype or customer"
    )
    assert mb.fail("GetInvoicePricingBySource") == "Missing field: source"
    assert mb.fail("GetInvoicePricingBySource", source="customer", id=999999) == "Customer 999999 not found"
    assert mb.fail("GetInvoicePricingBySource", source="customertype", id=999999) == "Invalid value for id: 999999 not found"
    assert mb.fail("CreateUpdateInvoicePricing", source="basic", ips=[{"itemnumber": "A", "hourprice": 1}, {"hourprice": 2}]) == (
        "Ips[2]: itemnumber is required"
    )
    assert mb.fail("CreateUpdateInvoicePricing", source="basic", ips=["A"]) == "Invalid value for ips[1]: 'A' is not a price object"
    assert mb.fail("CreateUpdateInvoicePricing", source="basic") == "Missing field: ips"
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        assert ws.count(select(InvoicePrice)) == 0
