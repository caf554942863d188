"""Cirrus small sales lists, one table drives them all: deliveryterms
(#58–#61), deliverytypes (#62–#65), ordertypes (#108–#111), paymentterms
(#112–#115), orderstatus (#151–#154), sortgroups (#209–#212), leadstatus
(#230–#233). Each is a core lookup kind; what is written here is what the
other APIs list under that kind."""

from __future__ import annotations

import pytest

from tests.cirrus.helpers import VALIDATION, auth, url
from polycrm.core import lookups
from polycrm.core.workspace import Workspace

# path, core kind, 404 label, a full body, the fields a list filter can select on,
# the read model's fields in order.
LISTS = [
    ("/deliveryterms/", "delivery_term", "Deliveryterm", {"name": "CIF", "default": 0, "externalkey": "cif"},
     ["id", "name", "default", "externalkey"]),
    ("/deliverytypes/", "delivery_type", "Deliverytype", {"name": "Truck", "default": 0},
     ["id", "name", "default"]),
    ("/ordertypes/", "order_type", "Ordertype", {"name": "Rush", "default": 0, "sortorder": 7},
     ["id", "default", "name", "sortorder"]),
    ("/paymentterms/", "payment_term", "Paymentterm", {"name": "Net 60", "default": 0, "externalkey": "n60", "days": 60},
     ["id", "name", "default", "externalkey", "days"]),
    ("/orderstatus/", "order_status", "Orderstatus", {"name": "Shipped", "default": 0, "step": 5},
     ["id", "default", "name", "step"]),
    ("/sortgroups/", "sort_group", "Sortgroup", {"name": "Hardware", "sort": 3, "externalkey": "hw"},
     ["id", "name", "sort", "externalkey"]),
    ("/leadstatus/", "lead_status", "Leadstatus", {"name": "Hot", "sortorder": 9}, ["id", "name", "sortorder"]),
]
IDS = [row[0].strip("/") for row in LISTS]


def post(client, tenant, path, body):
    return client.post(url(path), json=body, headers=auth(tenant))


@pytest.mark.parametrize(("path", "kind", "label", "body", "fields"), LISTS, ids=IDS)
def test_create_read_update_list_entry(client, runtime, tenant, path, kind, label, body, fields):
    r = post(client, tenant, path, body)
    assert r.status_code == 200, r.text
    created = r.json()
    assert list(created) == fields
    assert {k: created[k] for k in body} == body
    got = client.get(url(f"{path}{created['id']}"), headers=auth(tenant))
    assert got.status_code == 200 and got.json() == created
    r = client.put(url(f"{path}{created['id']}"), json={"name": body["name"] + " 2"}, headers=auth(tenant))
    assert r.status_code == 200, r.text
    assert r.json() == {**created, "name": body["name"] + " 2"}
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        assert lookups.get(ws, kind, created["id"]).name == body["name"] + " 2"


@pytest.mark.parametrize(("path", "kind", "label", "body", "fields"), LISTS, ids=IDS)
def test_list_entry_errors(client, tenant, path, kind, label, body, fields):
    r = client.get(url(f"{path}987654"), headers=auth(tenant))
    assert (r.status_code, r.json()) == (404, {"message": f"{label} 987654 not found"})
    r = client.put(url(f"{path}987654"), json={"name": "x"}, headers=auth(tenant))
    assert (r.status_code, r.json()) == (404, {"message": f"{label} 987654 not found"})
    r = post(client, tenant, path, {k: v for k, v in body.items() if k != "name"})
    assert (r.status_code, r.json()) == (400, {"errors": {"name": "'name' is a required property"}, "message": VALIDATION})
    r = post(client, tenant, path, {**body, "name": 5})
    assert (r.status_code, r.json()) == (400, {"errors": {"name": "5 is not of type 'string'"}, "message": VALIDATION})
    r = client.get(url(path))
    assert r.status_code == 401 and "X-Token" in r.json()["message"]


@pytest.mark.parametrize(("path", "kind", "label", "body", "fields"), LISTS, ids=IDS)
def test_page_filters_by_name_and_sorts(client, tenant, path, kind, label, body, fields):
    post(client, tenant, path, {**body, "name": "Zulu"})
    post(client, tenant, path, {**body, "name": "Alpha"})
    page = client.get(url(path), params={"name": "zulu"}, headers=auth(tenant)).json()
    assert [i["name"] for i in page["items"]] == ["Zulu"] and page["total"] == 1
    page = client.get(url(path), params={"name": "%l%", "sorting": "name_desc", "per_page": 50}, headers=auth(tenant)).json()
    names = [i["name"] for i in page["items"]]
    assert names == sorted(names, key=str.lower, reverse=True) and "Zulu" in names and "Alpha" in names
    assert set(page) == {"page", "pages", "per_page", "total", "items"}
    r = client.get(url(path), params={"sorting": "nonsense_asc"}, headers=auth(tenant))
    assert r.status_code == 400 and list(r.json()["errors"]) == ["sorting"]


def test_a_new_default_unsets_the_old_one(client, tenant):
    first = [t for t in client.get(url("/paymentterms/"), headers=auth(tenant)).json()["items"] if t["default"]]
    assert len(first) == 1
    new = post(client, tenant, "/paymentterms/", {"name": "Cash", "default": 1, "externalkey": "c", "days": 0}).json()
    defaults = [t["id"] for t in client.get(url("/paymentterms/"), headers=auth(tenant)).json()["items"] if t["default"]]
    assert defaults == [new["id"]]


def test_typed_filters(client, tenant):
    post(client, tenant, "/paymentterms/", {"name": "Net 45", "externalkey": "n45", "days": 45})
    page = client.get(url("/paymentterms/"), params={"days": 45}, headers=auth(tenant)).json()
    assert [t["name"] for t in page["items"]] == ["Net 45"]
    page = client.get(url("/paymentterms/"), params={"sorting": "days_desc"}, headers=auth(tenant)).json()
    days = [t["days"] for t in page["items"]]
    assert days == sorted(days, reverse=True)
    post(client, tenant, "/orderstatus/", {"name": "Packed", "step": 12})
    page = client.get(url("/orderstatus/"), params={"step": 12}, headers=auth(tenant)).json()
    assert [t["name"] for t in page["items"]] == ["Packed"]
    page = client.get(url("/deliveryterms/"), params={"externalkey": "nope"}, headers=auth(tenant)).json()
    assert page["total"] == 0
    page = client.get(url("/ordertypes/"), params={"default": 1}, headers=auth(tenant)).json()
    assert [t["name"] for t in page["items"]] == ["Standard"]
    r = client.get(url("/paymentterms/"), params={"days": "many"}, headers=auth(tenant))
    assert r.status_code == 400 and r.json()["message"] == VALIDATION and "days" in r.json()["errors"]


def test_mask_on_an_item_and_a_page(client, tenant):
    created = post(client, tenant, "/sortgroups/", {"name": "Tools", "sort": 1}).json()
    r = client.get(url(f"/sortgroups/{created['id']}"), headers={**auth(tenant), "X-Fields": "{name}"})
    assert r.json() == {"name": "Tools"}
    r = client.get(url("/sortgroups/"), headers={**auth(tenant), "X-Fields": "{total,items{id}}"})
    assert r.json() == {"total": 1, "items": [{"id": created["id"]}]}


SALES_PAGES = [59, 63, 84, 88, 92, 105, 109, 113, 117, 119, 152, 198, 202, 210, 226, 229, 231]


def test_every_documented_sorting_value_is_served(client, tenant):
    from polycrm.faces.cirrus.operations import BY_NUMBER, canonical_path

    for number in SALES_PAGES:
        op = BY_NUMBER[number]
        (sorting,) = [p for p in op["query"] if p["name"] == "sorting"]
        for value in sorting["enum"]:
            r = client.get(url(canonical_path(op)), params={"sorting": value}, headers=auth(tenant))
            assert r.status_code == 200, (number, value, r.text)
            assert set(r.json()) == {"page", "pages", "per_page", "total", "items"}


SALES_OPERATIONS = [*range(58, 66), *range(83, 124), *range(151, 155), *range(197, 207), *range(209, 213),
                    *range(225, 234)]


def test_every_sales_operation_path_and_method_needs_a_token(client):
    from polycrm.faces.cirrus.operations import BY_NUMBER, all_paths, methods

    for number in SALES_OPERATIONS:
        op = BY_NUMBER[number]
        for path in all_paths(op):
            concrete = path.replace("{id}", "1")
            for method in methods(op):
                r = client.request(method, url(concrete), json={} if method in ("POST", "PUT") else None)
                assert r.status_code == 401, (number, path, method, r.text)
                assert r.json() == {"message": "Missing or invalid credentials: send X-Token or Authorization: Bearer <token>"}
