"""Cirrus articles group (#30-#51): articles are core products, groups and units lookups."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.cirrus.helpers import VALIDATION, auth, lookup_id, new_account, url
from polycrm.core import lookups
from polycrm.core.models import Product
from sqlalchemy import select
from polycrm.core.workspace import Workspace

LISTS = {
    "brands": "brand", "budgetgroups": "budget_group", "discountgroups": "discount_group", "materials": "material",
    "servicelevels": "service_level", "volumegroups": "volume_group", "warehouses": "warehouse",
    "warehousestatuses": "warehouse_status",
}


def add_entry(runtime, tenant, kind, name, **values):
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        return lookups.save(ws, kind, {"name": name, **values}).id


def new_article(client, tenant, **fields):
    body = {"name": "Drill", "price": 499.5, "description": "Cordless drill", "vat": 25, **fields}
    r = client.post(url("/articles/"), json=body, headers=auth(tenant))
    assert r.status_code == 200, r.text
    return r.json()


def names(client, tenant, path="/articles/", **params):
    r = client.get(url(path), params=params, headers=auth(tenant))
    assert r.status_code == 200, r.text
    return [a["name"] for a in r.json()["items"]]


def test_create_and_read_an_article(client, runtime, tenant):
    brand = add_entry(runtime, tenant, "brand", "Bosch")
    supplier = new_account(client, tenant, name="Supplier")
    unit = lookup_id(runtime, tenant, "unit", "hour")
    a = new_article(client, tenant, number="D-100", buyprice=300, commision=2.5, brandid=brand, unitid=unit,
                    accountid=supplier["id"], suppliername="Tools Inc", supplierarticlenumber="T-9",
                    stockbalance=7, stockbalancewarningtreshold=2, area=1.5, sortorder=3)
    assert (a["price"], a["buyprice"], a["vat"], a["commision"]) == (499.5, 300.0, 25.0, 2.5)
    assert (a["brandid"], a["unitid"], a["accountid"], a["stockbalancewarningtreshold"]) == (brand, unit, supplier["id"], 2)
    assert a["active"] == 1 and a["tags"] == []
    assert client.get(url(f"/articles/{a['id']}"), headers=auth(tenant)).json() == a
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        p = ws.get(Product, a["id"])
        assert (p.price, p.cost_price, p.unit_id, p.number) == (Decimal("499.5"), Decimal("300"), unit, "D-100")


def test_create_errors(client, tenant):
    r = client.post(url("/articles/"), json={"name": "x", "price": "cheap"}, headers=auth(tenant))
    assert r.status_code == 400
    assert r.json() == {"errors": {"price": "'cheap' is not of type 'number'",
                                   "description": "'description' is a required property",
                                   "vat": "'vat' is a required property"}, "message": VALIDATION}
    r = client.post(url("/articles/"), json={"name": "x", "price": 1, "description": "d", "vat": 0, "brandid": 4242},
                    headers=auth(tenant))
    assert r.status_code == 404
    assert r.json() == {"errors": {"brandid": "Brand 4242 not found"}, "message": "Brand 4242 not found"}


def test_update_is_partial(client, tenant):
    a = new_article(client, tenant, number="1")
    r = client.put(url(f"/articles/{a['id']}"), json={"price": 10, "active": 0}, headers=auth(tenant))
    assert r.status_code == 200
    assert (r.json()["price"], r.json()["active"], r.json()["name"], r.json()["number"]) == (10.0, 0, "Drill", "1")


def test_update_and_get_unknown_article(client, tenant):
    r = client.put(url("/articles/8080"), json={"price": 1}, headers=auth(tenant))
    assert r.status_code == 404 and r.json() == {"message": "Article 8080 not found"}
    r = client.get(url("/articles/8080"), headers=auth(tenant))
    assert r.status_code == 404 and r.json() == {"message": "Article 8080 not found"}


def test_article_filters_and_sorting(client, runtime, tenant):
    warehouse = add_entry(runtime, tenant, "warehouse", "North")
    group = lookup_id(runtime, tenant, "product_group")
    new_article(client, tenant, name="Bolt", number="10", warehouseid=warehouse, groupid=group, supplierarticlenumber="S-1")
    new_article(client, tenant, name="Nut", number="9", active=0, businessareaid=3, externalkey="erp-9")
    new_article(client, tenant, name="Screw", number="100", description="steel screw")
    assert names(client, tenant) == ["Nut", "Bolt", "Screw"]
    assert names(client, tenant, sorting="number_desc") == ["Screw", "Bolt", "Nut"]
    assert names(client, tenant, sorting="name_asc") == ["Bolt", "Nut", "Screw"]
    assert names(client, tenant, active=1, sorting="name_asc") == ["Bolt", "Screw"]
    assert names(client, tenant, warehouseid=warehouse) == ["Bolt"]
    assert names(client, tenant, groupid=str(group)) == ["Bolt"]
    assert names(client, tenant, groupid="abc") == []
    assert names(client, tenant, supplierarticlenumber="s-%") == ["Bolt"]
    assert names(client, tenant, **{"businessareaid'": 3}) == ["Nut"]
    assert names(client, tenant, businessareaid=3) == ["Nut"]
    assert names(client, tenant, externalkey="erp-9") == ["Nut"]
    assert names(client, tenant, number="1%", sorting="name_asc") == ["Bolt", "Screw"]
    assert names(client, tenant, fulltext="steel") == ["Screw"]
    r = client.get(url("/articles/?sorting=price_asc"), headers=auth(tenant))
    assert r.status_code == 400
    assert r.json() == {"errors": {"sorting": "The value 'price_asc' is not a valid choice for 'sorting'."}, "message": VALIDATION}


@pytest.mark.parametrize("path,kind", sorted(LISTS.items()))
def test_article_lists(client, runtime, tenant, path, kind):
    second = add_entry(runtime, tenant, kind, "Second", sortorder=2)
    first = add_entry(runtime, tenant, kind, "First", sortorder=1)
    r = client.get(url(f"/articles/{path}"), headers=auth(tenant))
    assert r.status_code == 200
    assert r.json() == [{"id": first, "name": "First"}, {"id": second, "name": "Second"}]
    assert client.get(url(f"/articles/{path}")).status_code == 401


def test_article_groups(client, tenant):
    h = auth(tenant)
    g = client.post(url("/articlegroups/"), json={"name": "Tools", "externalkey": "g-1", "sortorder": 5}, headers=h)
    assert g.status_code == 200
    group = g.json()
    assert group == {"id": group["id"], "name": "Tools", "externalkey": "g-1", "sortorder": 5}
    assert client.get(url(f"/articlegroups/{group['id']}"), headers=h).json() == group
    r = client.put(url(f"/articlegroups/{group['id']}"), json={"name": "Power tools"}, headers=h)
    assert r.json() == {**group, "name": "Power tools"}
    page = client.get(url("/articlegroups/"), params={"name": "pow"}, headers=h).json()
    assert page["items"] == [{"id": group["id"], "name": "Power tools", "externalkey": "g-1"}]
    assert "Power tools" in [g["name"] for g in client.get(url("/articles/groups"), headers=h).json()]
    assert names(client, tenant, "/articlegroups/", externalkey="g-1") == ["Power tools"]


def test_article_group_errors(client, tenant):
    h = auth(tenant)
    assert client.get(url("/articlegroups/999"), headers=h).json() == {"message": "Articlegroup 999 not found"}
    r = client.post(url("/articlegroups/"), json={"name": "Tools", "sortorder": "first"}, headers=h)
    assert r.status_code == 400
    assert r.json() == {"errors": {"sortorder": "'first' is not of type 'integer'"}, "message": VALIDATION}


def test_article_units(client, tenant):
    h = auth(tenant)
    unit = client.post(url("/articleunits/"), json={"name": "box", "externalkey": "BX"}, headers=h).json()
    assert client.get(url(f"/articleunits/{unit['id']}"), headers=h).json() == {"id": unit["id"], "name": "box", "externalkey": "BX"}
    assert client.put(url(f"/articleunits/{unit['id']}"), json={"name": "crate"}, headers=h).json()["name"] == "crate"
    assert names(client, tenant, "/articleunits/", name="cr") == ["crate"]
    assert names(client, tenant, "/articleunits/", sorting="id_desc")[0] == "crate"
    assert {"id": unit["id"], "name": "crate", "externalkey": "BX"} in client.get(url("/articles/units"), headers=h).json()


def test_article_unit_errors(client, tenant):
    h = auth(tenant)
    r = client.put(url("/articleunits/777"), json={"name": "x"}, headers=h)
    assert r.status_code == 404 and r.json() == {"message": "Articleunit 777 not found"}
    r = client.post(url("/articleunits/"), json={"name": 5}, headers=h)
    assert r.json() == {"errors": {"name": "5 is not of type 'string'"}, "message": VALIDATION}


def test_an_article_number_in_use_is_a_conflict(client, runtime, tenant):
    new_article(client, tenant, name="Drill", number="D-1")
    r = client.post(url("/articles/"), json={"name": "Saw", "price": 10, "description": "", "vat": 25, "number": "d-1 "}, headers=auth(tenant))
    assert (r.status_code, r.json()) == (409, {"message": "number d-1 is already used by Drill"})
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        assert [p.name for p in ws.scalars(select(Product))] == ["Drill"]
