"""Cirrus price lists and price groups (#116–#123)."""

from __future__ import annotations

import pytest

from tests.cirrus.sales_helpers import core, get, post, put, seed
from tests.cirrus.helpers import VALIDATION, auth, url
from polycrm.core import pricelists
from polycrm.core.models import Record


@pytest.fixture
def s(runtime, tenant):
    return seed(runtime, tenant)


def group(client, tenant, s, name="1-9", low=1, high=9):
    return post(client, tenant, "/pricelists/pricegroups/", {"name": name, "unit": {"id": s["unit"]}, "min": low, "max": high})


def pricelist(s, pg, **fields):
    return {"name": "Retail", "active": True, "start": "2026-01-01T00:00:00Z", "stop": "2026-12-31T00:00:00Z",
            "default": False, "strict": True, "currencyid": 752,
            "prices": [{"price": 90, "discountpercent": 5, "pricegroup": {"id": pg["id"]}, "article": {"id": s["product"]}}],
            **fields}


def test_price_groups(client, tenant, s):
    small = group(client, tenant, s)
    assert small == {"id": small["id"], "name": "1-9", "unit": {"id": s["unit"], "name": "pcs"}, "min": 1, "max": 9}
    big = group(client, tenant, s, "10+", 10, 1000)
    assert get(client, tenant, f"/pricelists/pricegroups/{big['id']}") == big
    assert get(client, tenant, "/pricelists/groups/")["total"] == 2
    assert [g["id"] for g in get(client, tenant, "/pricelists/pricegroups/", quantity=12)["items"]] == [big["id"]]
    assert [g["id"] for g in get(client, tenant, "/pricelists/pricegroups/", sorting="quantity_desc")["items"]] == [big["id"], small["id"]]
    assert get(client, tenant, "/pricelists/pricegroups/", unitid=s["unit"])["total"] == 2
    assert put(client, tenant, f"/pricelists/pricegroups/{small['id']}", {"max": 8})["max"] == 8
    r = client.put(url(f"/pricelists/pricegroups/{small['id']}"), json={"min": 50}, headers=auth(tenant))
    assert (r.status_code, r.json()) == (400, {"errors": {"min": "50 is greater than max 8"}, "message": VALIDATION})
    r = client.post(url("/pricelists/pricegroups/"), json={"name": "x", "unit": {"id": 4040}, "min": 1, "max": 2}, headers=auth(tenant))
    assert (r.status_code, r.json()) == (404, {"errors": {"unit": "Articleunit 4040 not found"}, "message": "Articleunit 4040 not found"})
    r = client.post(url("/pricelists/pricegroups/"), json={"name": "x"}, headers=auth(tenant))
    assert r.status_code == 400 and set(r.json()["errors"]) == {"unit", "min", "max"}
    r = client.get(url("/pricelists/pricegroups/4040"), headers=auth(tenant))
    assert (r.status_code, r.json()) == (404, {"message": "Pricegroup 4040 not found"})


def test_price_lists(client, runtime, tenant, s):
    pg = group(client, tenant, s)
    made = post(client, tenant, "/pricelists/", pricelist(s, pg, accountid=s["account"]))
    assert made == get(client, tenant, f"/pricelists/{made['id']}")
    assert made["start"] == "2026-01-01T00:00:00Z" and made["strict"] is True and made["default"] is False
    (price,) = made["prices"]
    assert price["price"] == 90.0 and price["article"] == {"id": s["product"], "name": "Widget", "number": "W-1"}
    assert price["pricegroup"]["id"] == pg["id"]
    changed = put(client, tenant, f"/pricelists/{made['id']}", {
        "default": True, "prices": [{"id": price["id"], "price": 80}, {"price": 70, "article": {"id": s["product"]}}]})
    assert changed["default"] is True and changed["name"] == "Retail"
    assert [(p["id"] == price["id"], p["price"]) for p in changed["prices"]] == [(True, 80.0), (False, 70.0)]
    dropped = put(client, tenant, f"/pricelists/{made['id']}", {"prices": []})
    assert dropped["prices"] == []
    with core(runtime, tenant) as ws:
        assert pricelists.prices_of(ws, made["id"]) == [] and ws.get(Record, price["id"]).deleted


def test_price_list_filters_and_errors(client, tenant, s):
    pg = group(client, tenant, s)
    a = post(client, tenant, "/pricelists/", pricelist(s, pg, name="Alpha", accountid=s["account"]))
    b = post(client, tenant, "/pricelists/", pricelist(s, pg, name="Beta", start="2026-06-01T00:00:00Z", active=False,
                                                        default=True, strict=False, currencyid=978))

    def ids(**params):
        return [p["id"] for p in get(client, tenant, "/pricelists/", **params)["items"]]

    assert ids() == [a["id"], b["id"]] and ids(sorting="start_desc") == [b["id"], a["id"]]
    assert ids(active=0) == [b["id"]] and ids(default=1) == [b["id"]] and ids(strict=1) == [a["id"]]
    assert ids(start="2026-06-01") == [b["id"]] and ids(stop="2026-12-31") == [a["id"], b["id"]]
    assert ids(accountid=s["account"]) == [a["id"]] and ids(accountnumber="1001") == [a["id"]]
    assert ids(currencyid=978) == [b["id"]]
    r = client.post(url("/pricelists/"), json={"name": "x"}, headers=auth(tenant))
    assert r.status_code == 400 and set(r.json()["errors"]) == {"active", "start", "stop", "default", "strict", "prices"}
    r = client.post(url("/pricelists/"), json=pricelist(s, pg, prices=[{"article": {"id": 5151}}]), headers=auth(tenant))
    assert (r.status_code, r.json()) == (404, {"errors": {"prices": "Article 5151 not found"}, "message": "Article 5151 not found"})
    r = client.get(url("/pricelists/5151"), headers=auth(tenant))
    assert (r.status_code, r.json()) == (404, {"message": "Pricelist 5151 not found"})
    r = client.put(url("/pricelists/5151"), json={}, headers=auth(tenant))
    assert (r.status_code, r.json()) == (404, {"message": "Pricelist 5151 not found"})
    r = client.get(url(f"/pricelists/{a['id']}"), headers={**auth(tenant), "X-Fields": "{name,prices{price}}"})
    assert r.json() == {"name": "Alpha", "prices": [{"price": 90.0}]}
    assert client.get(url("/pricelists/")).status_code == 401
