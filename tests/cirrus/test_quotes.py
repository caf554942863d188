"""Cirrus quotes (#197–#206): core quotes = Microbizz sales contracts; relations and statuses."""

from __future__ import annotations

import pytest

from tests.cirrus.sales_helpers import get, lookup, post, put, seed
from tests.cirrus.helpers import VALIDATION, auth, url
from tests.microbizz.helpers import MB


@pytest.fixture
def s(runtime, tenant):
    return seed(runtime, tenant)


def body(runtime, tenant, s, **fields):
    return {
        "placedate": "2026-04-01", "status": {"id": lookup(runtime, tenant, "quote_status", "Sent")},
        "deliveryterm": {"id": lookup(runtime, tenant, "delivery_term")},
        "paymentterm": {"id": lookup(runtime, tenant, "payment_term")},
        "deliverytype": {"id": lookup(runtime, tenant, "delivery_type")},
        "account": {"id": s["account"]}, "contact": {"id": s["contact"]}, "user": {"id": s["user"]}, **fields,
    }


def test_create_returns_the_quote_as_get_does(client, runtime, tenant, s):
    created = post(client, tenant, "/quotes/", body(
        runtime, tenant, s, validtodate="2026-04-30", externalcomment="Thanks", deliverycity="Malmo",
        rows=[{"article": {"id": s["product"]}, "quantity": 2, "discountamount": 5, "costcenter": "CC1"}]))
    assert created == get(client, tenant, f"/quotes/{created['id']}")
    assert created["placedate"] == "2026-04-01" and created["validtodate"] == "2026-04-30"
    assert created["status"]["name"] == "Sent" and created["status"]["metatype"] == "active"
    assert created["rows"][0]["totalprice"] == 195.0 and created["rows"][0]["costcenter"] == "CC1"
    assert created["price"] == 195.0 and created["deliverycity"] == "Malmo"


def test_create_requires_the_documented_fields(client, tenant):
    r = client.post(url("/quotes/"), json={}, headers=auth(tenant))
    assert r.status_code == 400
    assert r.json() == {"errors": {n: f"'{n}' is a required property" for n in (
        "placedate", "status", "deliveryterm", "paymentterm", "deliverytype", "account", "contact", "user")},
        "message": VALIDATION}


def test_update_and_errors(client, runtime, tenant, s):
    created = post(client, tenant, "/quotes/", body(runtime, tenant, s, marking="M"))
    updated = put(client, tenant, f"/quotes/{created['id']}", {"status": {"id": lookup(runtime, tenant, "quote_status", "Accepted")},
                                                               "price": 999})
    assert updated["status"]["metatype"] == "order" and updated["marking"] == "M" and updated["price"] == 999.0
    r = client.put(url(f"/quotes/{created['id']}"), json={"status": {"id": lookup(runtime, tenant, "order_status")}},
                   headers=auth(tenant))
    assert r.status_code == 404 and r.json()["errors"] == {"status": f"Quote status {lookup(runtime, tenant, 'order_status')} not found"}
    r = client.put(url(f"/quotes/{created['id']}"), json={"placedate": "April"}, headers=auth(tenant))
    assert (r.status_code, r.json()) == (400, {"errors": {"placedate": "'April' is not a 'date'"}, "message": VALIDATION})
    for method in (client.get, client.put):
        r = method(url("/quotes/808080"), headers=auth(tenant), **({"json": {}} if method is client.put else {}))
        assert (r.status_code, r.json()) == (404, {"message": "Quote 808080 not found"})
    assert client.get(url("/quotes/")).status_code == 401


def test_list_filters_and_sorting(client, runtime, tenant, s):
    a = post(client, tenant, "/quotes/", body(runtime, tenant, s, placedate="2026-01-05", validtodate="2026-02-01",
                                              internalcomment="needs approval"))
    b = post(client, tenant, "/quotes/", body(runtime, tenant, s, placedate="2026-03-05", account={"id": s["other"]},
                                              user2={"id": s["user"]}))

    def ids(**params):
        return [q["id"] for q in get(client, tenant, "/quotes/", **params)["items"]]

    assert ids() == [b["id"], a["id"]] and ids(sorting="placedate_asc") == [a["id"], b["id"]]
    assert ids(accountids=str(s["other"])) == [b["id"]] and ids(user2ids=str(s["user"])) == [b["id"]]
    assert ids(placedate_start="2026-02-01") == [b["id"]] and ids(validtodate_end="2026-02-01") == [a["id"]]
    assert ids(fulltext="approval") == [a["id"]]
    assert ids(sorting="number_desc") == [b["id"], a["id"]]
    order = post(client, tenant, "/orders/", {"placedate": "2026-03-06T00:00:00Z", "account": {"id": s["account"]},
                                              "user": {"id": s["user"]}, "contact": {"id": s["contact"]},
                                              "status": {"id": lookup(runtime, tenant, "order_status")}})
    post(client, tenant, "/quotes/relations", {"quoteid": a["id"], "type": "order", "otherid": order["id"], "value": "won"})
    assert ids(orderids=str(order["id"])) == [a["id"]]


def test_relations(client, runtime, tenant, s):
    quote = post(client, tenant, "/quotes/", body(runtime, tenant, s))
    made = post(client, tenant, "/quotes/relations", {"quoteid": quote["id"], "type": "contact", "otherid": s["contact"]})
    assert made == {"id": made["id"], "quoteid": quote["id"], "otherid": s["contact"], "type": "contact", "value": None}
    page = get(client, tenant, "/quotes/relations", quoteid=quote["id"], type="contact")
    assert page["items"] == [made] and page["total"] == 1
    assert get(client, tenant, "/quotes/relations", type="order")["total"] == 0
    r = client.post(url("/quotes/relations"), json={"quoteid": quote["id"], "type": "planet", "otherid": 1}, headers=auth(tenant))
    assert r.status_code == 400 and r.json()["message"] == VALIDATION and list(r.json()["errors"]) == ["type"]
    r = client.post(url("/quotes/relations"), json={"quoteid": quote["id"], "type": "account", "otherid": 565656},
                    headers=auth(tenant))
    assert (r.status_code, r.json()) == (404, {"errors": {"otherid": "Account 565656 not found"}, "message": "Account 565656 not found"})
    r = client.post(url("/quotes/relations"), json={"quoteid": 565656, "type": "account", "otherid": s["account"]},
                    headers=auth(tenant))
    assert (r.status_code, r.json()) == (404, {"message": "Quote 565656 not found"})
    r = client.get(url("/quotes/relations"), params={"type": "planet"}, headers=auth(tenant))
    assert r.status_code == 400 and list(r.json()["errors"]) == ["type"]


def test_statuses(client, runtime, tenant):
    page = get(client, tenant, "/quotes/statuses")
    assert [st["name"] for st in page["items"]][:2] == ["Draft", "Sent"]
    made = post(client, tenant, "/quotes/statuses", {"name": "Parked", "sortorder": 9, "metatype": "denied"})
    assert made["metatype"] == "denied" and made["isdefault"] == 0 and made["tscreated"]
    assert get(client, tenant, f"/quotes/statuses/{made['id']}") == made
    assert [st["id"] for st in get(client, tenant, "/quotes/statuses", metatype="denied")["items"]][-1] == made["id"]
    changed = put(client, tenant, f"/quotes/statuses/{made['id']}", {"isdefault": 1})
    assert changed["isdefault"] == 1 and changed["name"] == "Parked"
    assert [st["id"] for st in get(client, tenant, "/quotes/statuses", default=1)["items"]] == [made["id"]]
    r = client.post(url("/quotes/statuses"), json={"name": "X", "metatype": "maybe"}, headers=auth(tenant))
    assert (r.status_code, r.json()) == (400, {"errors": {"metatype": "'maybe' is not one of ['active', 'expired', 'denied', 'order', None]"},
                                               "message": VALIDATION})
    r = client.get(url("/quotes/statuses/3434343"), headers=auth(tenant))
    assert (r.status_code, r.json()) == (404, {"message": "Quote status 3434343 not found"})
    r = client.put(url("/quotes/statuses/3434343"), json={"name": "y"}, headers=auth(tenant))
    assert r.status_code == 404


def test_a_cirrus_quote_is_a_microbizz_sales_contract_and_back(client, runtime, tenant, s):
    mb = MB(client, tenant)
    quote = post(client, tenant, "/quotes/", body(runtime, tenant, s))
    contracts = mb.call("GetSalesContractsByLastChange", changedate="2000-01-01")["salescontracts"]
    assert [(c["id"], c["customerid"], c["statetext"], c["number"]) for c in contracts] == [
        (quote["id"], s["account"], "Sent", "Q-00001")]
    made = mb.call("CreateUpdateSalesContract", salescontract={"title": "Fence", "customerid": s["other"],
                                                               "statetext": "Draft"})["salescontract"]
    mb.call("CreateUpdateSalesContractLine", line={"contractid": made["id"], "title": "Posts", "count": 4, "price": 25})
    read = get(client, tenant, f"/quotes/{made['id']}")
    assert read["account"]["id"] == s["other"] and read["status"]["name"] == "Draft"
    assert [(r["specification"], r["quantity"], r["totalprice"]) for r in read["rows"]] == [("Posts", 4.0, 100.0)]
    assert read["price"] == 100.0


def test_mask_on_item_and_page(client, runtime, tenant, s):
    quote = post(client, tenant, "/quotes/", body(runtime, tenant, s))
    r = client.get(url(f"/quotes/{quote['id']}"), headers={**auth(tenant), "X-Fields": "{id,status{name}}"})
    assert r.json() == {"id": quote["id"], "status": {"name": "Sent"}}
    r = client.get(url("/quotes/"), headers={**auth(tenant), "X-Fields": "{total,items{placedate}}"})
    assert r.json() == {"total": 1, "items": [{"placedate": "2026-04-01"}]}
