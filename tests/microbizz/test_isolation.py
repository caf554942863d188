"""A Microbizz client of one tenant can never read or change another tenant's data."""

from __future__ import annotations

import pytest
from tests.microbizz.helpers import MB, b64, image_bytes
from sqlalchemy import select

from polycrm.core import products
from polycrm.core.models import Activity, Customer, Document, Favorite, Product, Quote, QuoteLine
from polycrm.core.workspace import Workspace


@pytest.fixture
def theirs(client, other_tenant) -> dict:
    """Data of the other tenant, made through its own API credentials."""
    mb = MB(client, other_tenant)
    customer = mb.customer(name="Their Customer", customernumber="SHARED-1", phone="99887766")
    child = mb.customer(name="Their Child", parentcust=customer["id"])
    product = mb.product(productnumber="SHARED-P", title="Their Product", price=10)
    mb.call("AssignIndividualPriceByProductNumber", productnumber="SHARED-P", customerid=customer["id"], price=700)
    mb.call("AddFavoriteProduct", productnumber="SHARED-P")
    photo = mb.call("AddPhotoToCustomer", customerid=customer["id"], title="Theirs", imagedata=b64(image_bytes("PNG", (20, 20))))
    contract = mb.call("CreateUpdateSalesContract", salescontract={"title": "Their offer", "customerid": customer["id"]})
    line = mb.call("CreateUpdateSalesContractLine", line={"contractid": contract["salescontract"]["id"], "title": "L", "count": 1})
    call = mb.call("CreateCall", call={"phonenumber": "99887766"})
    mb.call("CreateUpdateInvoicePricing", source="customer", id=customer["id"], ips=[{"itemnumber": "H", "hourprice": 1}])
    return {
        "customer": customer, "child": child, "product": product, "document": photo["document"],
        "contract": contract["salescontract"], "line": line["line"], "call": call["call"],
        "user_id": other_tenant["user_id"],
    }


def test_reads_never_see_another_tenant(client, tenant, theirs):
    mb = MB(client, tenant)
    mine = mb.customer(name="My Customer")
    cid, pid = theirs["customer"]["id"], theirs["product"]["id"]
    assert mb.call("GetCustomerByID", customerid=cid)["customers"] == []
    assert mb.call("GetCustomerByCustomerNumber", customernumber="SHARED-1")["customers"] == []
    assert mb.call("GetCustomerByName", customername="their customer")["customers"] == []
    assert mb.call("GetCustomersByParentID", customerid=cid, includeall=1)["customers"] == []
    assert mb.call("GetParentCustomers", customerid=theirs["child"]["id"])["customers"] == []
    assert [c["id"] for c in mb.call("GetCustomersByLastChange")["customers"]] == [mine["id"]]
    assert mb.call("GetDocumentsByCustomerID", customerid=cid, inclthumbs=1, inclfolders=1) == {
        "status": 1, "documents": [], "folders": [],
    }
    assert mb.call("GetProductByID", productid=pid)["products"] == []
    assert mb.call("GetProductByProductNumber", productnumber="SHARED-P")["products"] == []
    assert mb.call("GetProductsByLastChange")["products"] == []
    assert mb.call("GetFavoriteProducts")["favorites"] == []
    assert mb.call("GetSalesContractsByLastChange")["salescontracts"] == []
    assert mb.call("GetSalesContractLinesByLastChange")["lines"] == []
    assert mb.call("GetMyPendingCalls")["calls"] == []
    assert mb.call("GetInvoicePricingBySource", source="basic")["ips"] == []
    assert mb.fail("GetInvoicePricingBySource", source="customer", id=cid) == f"Customer {cid} not found"


def test_writes_never_reach_another_tenant(client, runtime, tenant, other_tenant, theirs):
    mb = MB(client, tenant)
    cid, pid = theirs["customer"]["id"], theirs["product"]["id"]
    mine = mb.customer(name="Mine")
    assert mb.fail("CreateUpdateCustomerByID", customer={"id": cid, "name": "Stolen"}) == f"Unknown customer.id: {cid}"
    assert mb.fail("CreateUpdateCustomerByID", customer={"id": mine["id"], "parentcust": cid}) == (
        f"Invalid value for customer.parentcust: {cid} does not exist"
    )
    # The same customer number in this tenant is a customer of this tenant.
    own = mb.call("CreateUpdateCustomerByCustomerNumber", customer={"customernumber": "SHARED-1", "name": "Own"})["customer"]
    assert own["id"] != cid
    assert mb.fail("AddFileToCustomer", customerid=cid, filename="x.txt", filedata=b64(b"x")) == f"Unknown customerid: {cid}"
    assert mb.fail("AddPhotoToCustomer", customerid=mine["id"], documentid=theirs["document"]["id"], title="Mine now") == (
        f"Unknown documentid: {theirs['document']['id']}"
    )
    assert mb.fail("CreateUpdateProductByID", product={"id": pid, "title": "Stolen"}) == f"Unknown product.id: {pid}"
    assert mb.call("DeleteProductByID", productid=pid) == {"status": 1}
    assert mb.fail("AddFavoriteProduct", productnumber="SHARED-P") == "Unknown productnumber: SHARED-P"
    assert mb.call("AssignIndividualPriceByProductNumber", productnumber="SHARED-P", customerid=cid, price=1)["status"] == 1
    assert mb.call("RemoveIndividualPriceByProductNumber", productnumber="SHARED-P")["status"] == 1
    assert mb.fail("CreateUpdateIndividualPricesByCustomerID", customerid=cid, prices={"SHARED-P": 1}) == (
        f"Unknown customerid: {cid}"
    )
    assert mb.fail("CreateDirectOrder", customerid=mine["id"], lines=[{"productid": pid, "count": 1}]) == (
        f"Line 1: product {pid} not found"
    )
    contract_id, line_id = theirs["contract"]["id"], theirs["line"]["id"]
    assert mb.fail("CreateUpdateSalesContract", salescontract={"id": contract_id, "title": "x"}) == (
        f"Unknown salescontract.id: {contract_id}"
    )
    assert mb.fail("CreateUpdateSalesContract", salescontract={"title": "x", "customerid": cid}) == f"Customer {cid} not found"
    assert mb.fail("CreateUpdateSalesContractLine", line={"contractid": contract_id, "title": "x"}) == (
        f"Quotation {contract_id} not found"
    )
    assert mb.fail("CreateUpdateSalesContractLine", line={"id": line_id, "count": 9}) == f"Unknown line.id: {line_id}"
    assert mb.fail("AddFileToSalesContract", contractid=contract_id, filename="x", filedata=b64(b"x")) == (
        f"Unknown contractid: {contract_id}"
    )
    assert mb.fail("EndCall", callid=theirs["call"]["id"]) == f"Call {theirs['call']['id']} not found"
    assert mb.fail("CreateCall", call={"phonenumber": "1"}, userid=theirs["user_id"]) == f"User {theirs['user_id']} not found"
    assert mb.fail("CreateUpdateInvoicePricing", source="customer", id=cid, ips=[{"itemnumber": "H", "hourprice": 2}]) == (
        f"Customer {cid} not found"
    )
    # A registered call never matches the other tenant's phone numbers.
    mb.call("RegisterCall", phonenumber="99887766")

    # The other tenant's data is exactly as it was, through its API and its core.
    other = MB(client, other_tenant)
    assert other.get_customer(cid) == theirs["customer"]
    product = other.call("GetProductByID", productid=pid)["products"][0]
    assert (product["title"], product["isdeleted"], product["isfavorite"]) == ("Their Product", 0, 1)
    assert other.call("GetInvoicePricingBySource", source="customer", id=cid)["ips"][0]["hourprice"] == 1
    assert [c["id"] for c in other.call("GetMyPendingCalls")["calls"]] == [theirs["call"]["id"]]
    with Workspace(runtime.db, other_tenant["tenant_id"]) as ws:
        assert products.individual_prices(ws, cid) == {pid: 700}
        assert ws.count(select(Customer)) == 2
        assert ws.count(select(Document)) == 1 and ws.get(Document, theirs["document"]["id"]).title == "Theirs"
        assert ws.count(select(Quote)) == 1 and ws.get(Quote, contract_id).title == "Their offer"
        assert ws.get(QuoteLine, line_id).quantity == 1
        assert ws.count(select(Favorite)) == 1 and ws.count(select(Product)) == 1
        assert ws.count(select(Activity)) == 1
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        (registered,) = ws.scalars(select(Activity))
        assert registered.customer_id is None
