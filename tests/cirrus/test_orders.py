"""Cirrus orders (#104–#107): core orders and lines, shared with Microbizz direct orders."""

from __future__ import annotations

import pytest

from tests.cirrus.sales_helpers import core, get, lookup, post, put, record, seed
from tests.cirrus.helpers import VALIDATION, auth, url
from tests.microbizz.helpers import MB
from polycrm.core.models import Order, OrderLine


@pytest.fixture
def s(runtime, tenant):
    return seed(runtime, tenant)


def body(runtime, tenant, s, **fields):
    return {
        "placedate": "2026-05-04T10:30:00Z", "account": {"id": s["account"]}, "user": {"id": s["user"]},
        "contact": {"id": s["contact"]}, "status": {"id": lookup(runtime, tenant, "order_status", "New")}, **fields,
    }


def test_create_with_rows_returns_the_order_as_get_does(client, runtime, tenant, s):
    created = post(client, tenant, "/orders/", body(
        runtime, tenant, s, deliveryterm={"id": lookup(runtime, tenant, "delivery_term")},
        paymentterm={"id": lookup(runtime, tenant, "payment_term", "Net 30 days")},
        deliverytype={"id": lookup(runtime, tenant, "delivery_type")}, type={"id": lookup(runtime, tenant, "order_type")},
        deliverycity="Lund", invoiceemail="inv@acme.dk", marking="PO-7", currencycode="SEK", currencyrate=1.0,
        internalcomment="rush", delivered=0,
        rows=[{"article": {"id": s["product"]}, "quantityordered": 3, "discountpercent": 10},
              {"specification": "Installation", "quantityordered": 2, "price": 50, "alternatvievalue": 4}]))
    assert created == get(client, tenant, f"/orders/{created['id']}")
    assert created["placedate"] == "2026-05-04T00:00:00Z"
    assert created["account"]["name"] == "Acme" and created["contact"]["name"] == "Ann"
    assert created["status"]["name"] == "New" and created["paymentterm"]["name"] == "Net 30 days"
    assert created["deliverycity"] == "Lund" and created["invoiceemail"] == "inv@acme.dk" and created["marking"] == "PO-7"
    first, second = created["rows"]
    assert first["article"] == {"id": s["product"], "name": "Widget", "number": "W-1"}
    assert first["price"] == 100.0 and first["specification"] == "Widget" and first["articleunit"]["id"] == s["unit"]
    assert first["totalprice"] == 270.0 and first["orderid"] == created["id"] and first["accountid"] == s["account"]
    assert second["totalprice"] == 100.0 and second["totalalternativevalue"] == 8.0 and second["alternatvievalue"] == 4.0
    assert created["price"] == 370.0
    with core(runtime, tenant) as ws:
        order = ws.get(Order, created["id"])
        assert order.number.startswith("O-") and order.customer_id == s["account"]


def test_create_requires_the_documented_fields(client, tenant):
    r = client.post(url("/orders/"), json={"marking": "x"}, headers=auth(tenant))
    assert r.status_code == 400
    assert r.json() == {"errors": {n: f"'{n}' is a required property" for n in
                                   ("placedate", "account", "user", "contact", "status")}, "message": VALIDATION}


def test_bad_rows_are_refused_and_nothing_is_written(client, runtime, tenant, s):
    r = client.post(url("/orders/"), json=body(runtime, tenant, s, rows=[{"article": {"id": 99999}}]), headers=auth(tenant))
    assert (r.status_code, r.json()) == (404, {"errors": {"rows": "Article 99999 not found"}, "message": "Article 99999 not found"})
    r = client.post(url("/orders/"), json=body(runtime, tenant, s, rows=[{"quantityordered": "many"}]), headers=auth(tenant))
    assert (r.status_code, r.json()) == (400, {"errors": {"rows.0.quantityordered": "'many' is not of type 'number'"},
                                               "message": VALIDATION})
    r = client.post(url("/orders/"), json=body(runtime, tenant, s, status={"id": 5555}), headers=auth(tenant))
    assert (r.status_code, r.json()) == (404, {"errors": {"status": "Orderstatus 5555 not found"}, "message": "Orderstatus 5555 not found"})
    assert get(client, tenant, "/orders/")["total"] == 0


def test_update_changes_rows_and_only_the_fields_sent(client, runtime, tenant, s):
    created = post(client, tenant, "/orders/", body(runtime, tenant, s, marking="A", rows=[
        {"specification": "One", "quantityordered": 1, "price": 10}, {"specification": "Two", "quantityordered": 1, "price": 20}]))
    keep = created["rows"][1]
    updated = put(client, tenant, f"/orders/{created['id']}", {
        "rows": [{"id": keep["id"], "quantityordered": 5}, {"specification": "Three", "quantityordered": 1, "price": 1}],
        "status": {"id": lookup(runtime, tenant, "order_status", "Confirmed")}})
    assert [(r["specification"], r["quantityordered"]) for r in updated["rows"]] == [("Two", 5.0), ("Three", 1.0)]
    assert updated["marking"] == "A" and updated["status"]["name"] == "Confirmed" and updated["price"] == 101.0
    with core(runtime, tenant) as ws:
        assert ws.get(OrderLine, created["rows"][0]["id"]).deleted
    r = client.put(url(f"/orders/{created['id']}"), json={"rows": [{"id": 1234567}]}, headers=auth(tenant))
    assert r.status_code == 404 and r.json()["errors"] == {"rows": "rows.0: row 1234567 is not a row of this document"}
    r = client.put(url("/orders/31337"), json={"marking": "x"}, headers=auth(tenant))
    assert (r.status_code, r.json()) == (404, {"message": "Order 31337 not found"})
    r = client.get(url("/orders/31337"), headers=auth(tenant))
    assert (r.status_code, r.json()) == (404, {"message": "Order 31337 not found"})
    assert client.get(url("/orders/")).status_code == 401


def test_list_filters_and_sorting(client, runtime, tenant, s):
    a = post(client, tenant, "/orders/", body(runtime, tenant, s, placedate="2026-01-01T08:00:00Z", externalkey="ext-a",
                                              internalcomment="call before delivery"))
    b = post(client, tenant, "/orders/", body(runtime, tenant, s, placedate="2026-02-01T08:00:00Z", account={"id": s["other"]},
                                              alternateid="ALT-2",
                                              status={"id": lookup(runtime, tenant, "order_status", "Delivered")}))

    def ids(**params):
        return [o["id"] for o in get(client, tenant, "/orders/", **params)["items"]]

    assert ids() == [b["id"], a["id"]]
    assert ids(sorting="placedate_asc") == [a["id"], b["id"]]
    assert ids(accountids=f"{s['other']}") == [b["id"]]
    assert ids(statusids=str(lookup(runtime, tenant, "order_status", "Delivered"))) == [b["id"]]
    assert ids(externalkey="EXT-A") == [a["id"]] and ids(altnumber="ALT-2") == [b["id"]]
    assert ids(datespan_start="2026-01-15") == [b["id"]] and ids(datespan_end="2026-01-15") == [a["id"]]
    assert ids(fulltext="delivery") == [a["id"]]
    assert ids(userids=str(tenant["user_id"]), sorting="number_asc") == [a["id"], b["id"]]
    mission = record(runtime, tenant, kind="mission", name="Spring")
    with core(runtime, tenant) as ws:
        from polycrm.core import links

        links.link(ws, "mission", "record", mission, "sales_order", a["id"], "1")
    assert ids(missionids=str(mission)) == [a["id"]]
    assert ids(missionids=str(mission), missionresult=0) == []
    r = client.get(url("/orders/"), params={"datespan_start": "May"}, headers=auth(tenant))
    assert r.status_code == 400 and list(r.json()["errors"]) == ["datespan_start"]


def test_a_microbizz_direct_order_is_a_cirrus_order(client, runtime, tenant, s):
    mb = MB(client, tenant)
    mb.call("CreateDirectOrder", customerid=s["account"], lines=[{"productid": s["product"], "count": 2}], note="web")
    page = get(client, tenant, "/orders/", accountids=str(s["account"]))
    assert page["total"] == 1
    order = page["items"][0]
    assert order["price"] == 200.0 and order["status"]["name"] == "New"
    assert [(r["article"]["id"], r["quantityordered"], r["totalprice"]) for r in order["rows"]] == [(s["product"], 2.0, 200.0)]
    updated = put(client, tenant, f"/orders/{order['id']}", {"delivered": 1})
    assert updated["delivered"] == 1 and updated["rows"] == order["rows"]


def test_mask_on_item_and_page(client, runtime, tenant, s):
    created = post(client, tenant, "/orders/", body(runtime, tenant, s, rows=[{"specification": "x", "price": 1, "quantityordered": 1}]))
    r = client.get(url(f"/orders/{created['id']}"), headers={**auth(tenant), "X-Fields": "{price,rows{specification}}"})
    assert r.json() == {"price": 1.0, "rows": [{"specification": "x"}]}
    r = client.get(url("/orders/"), headers={**auth(tenant), "X-Fields": "{page,items{id}}"})
    assert r.json() == {"page": 1, "items": [{"id": created["id"]}]}


def _line_history(runtime, tenant, order_id: int):
    """The order's field changes (its lines' with them) and its timeline's change entries."""
    from polycrm.core import browse, history

    with core(runtime, tenant) as ws:
        lines = [line.id for line in browse.line_rows(ws, Order, order_id)]
        changes = {(c.entity, c.record_id, c.field, c.old_value, c.new_value, c.source)
                   for c in history.of_record(ws, Order, order_id, lines=lines)}
        events = [e for e in browse.timeline(ws, Order, ws.get(Order, order_id)).events if e.kind == "changed"]
        return changes, events


def test_order_line_changes_through_an_api_are_on_the_order_history(client, runtime, tenant, other_tenant, s):
    created = post(client, tenant, "/orders/", body(runtime, tenant, s, rows=[
        {"specification": "One", "quantityordered": 1, "price": 10}, {"specification": "Two", "quantityordered": 1, "price": 20}]))
    gone, kept = created["rows"]
    # The order created with its lines in one request records nothing: "Created" says it.
    assert _line_history(runtime, tenant, created["id"]) == (set(), [])
    updated = put(client, tenant, f"/orders/{created['id']}", {
        "rows": [{"id": kept["id"], "quantityordered": 5}, {"specification": "Three", "quantityordered": 1, "price": 1}]})
    added = updated["rows"][1]["id"]
    changes, events = _line_history(runtime, tenant, created["id"])
    assert changes == {
        ("order_line", kept["id"], "quantity", "1", "5", "cirrus"),
        ("order_line", added, "added", None, "Three · 1 × 1", "cirrus"),
        ("order_line", gone["id"], "deleted", "no", "yes", "cirrus"),
        ("sales_order", created["id"], "price", "30", "101", "cirrus"),
    }
    # One request, one entry on the order's timeline, each line's change named by the line.
    (event,) = events
    assert event.source == "cirrus" and event.user_id == tenant["user_id"]
    assert {field for field, _, _ in event.changes} == {
        f"order_line.{kept['id']}.quantity", f"order_line.{added}.added", f"order_line.{gone['id']}.deleted", "price"}
    # Another tenant's order history does not read these lines.
    from polycrm.core import history

    with core(runtime, other_tenant) as ws:
        assert history.of_record(ws, Order, created["id"], lines=[kept["id"], added, gone["id"]]) == []


def test_a_microbizz_direct_order_records_nothing_until_changed(client, runtime, tenant, s):
    mb = MB(client, tenant)
    mb.call("CreateDirectOrder", customerid=s["account"], lines=[{"productid": s["product"], "count": 2}], note="web")
    (order,) = get(client, tenant, "/orders/", accountids=str(s["account"]))["items"]
    # Created and filled in (lines, price) in one transaction: no changes recorded.
    assert _line_history(runtime, tenant, order["id"]) == (set(), [])
    (row,) = order["rows"]
    put(client, tenant, f"/orders/{order['id']}", {"rows": [{"id": row["id"], "quantityordered": 3, "price": 90}]})
    changes, events = _line_history(runtime, tenant, order["id"])
    assert changes == {
        ("order_line", row["id"], "quantity", "2", "3", "cirrus"), ("order_line", row["id"], "price", "100", "90", "cirrus"),
        ("sales_order", order["id"], "price", "200", "270", "cirrus"),
    }
    assert len(events) == 1


def test_a_refused_order_line_change_records_nothing(client, runtime, tenant, s):
    created = post(client, tenant, "/orders/", body(runtime, tenant, s, rows=[
        {"specification": "One", "quantityordered": 1, "price": 10}]))
    row = created["rows"][0]
    r = client.put(url(f"/orders/{created['id']}"), json={
        "rows": [{"id": row["id"], "quantityordered": 4}, {"article": {"id": 99999}}]}, headers=auth(tenant))
    assert (r.status_code, r.json()) == (404, {"errors": {"rows": "Article 99999 not found"},
                                               "message": "Article 99999 not found"})
    assert _line_history(runtime, tenant, created["id"]) == (set(), [])
