"""Cirrus objects group (#174-#187): objects, object categories, an object's contracts and relations."""

from __future__ import annotations

import pytest

from tests.cirrus.helpers import VALIDATION, auth, new_account, url
from polycrm.core import custom_fields
from polycrm.core.models import Contact
from polycrm.core.workspace import Workspace


def call(client, tenant, method, path, status=200, **kw):
    r = client.request(method, url(path), headers=auth(tenant), **kw)
    assert r.status_code == status, r.text
    return r.json()


@pytest.fixture
def maker(client, tenant):
    return new_account(client, tenant, name="Canon")


def new_object(client, tenant, maker, **fields):
    return call(client, tenant, "POST", "/objects/", json={"name": "Copier", "manufacturer": {"id": maker["id"]}, **fields})


def test_create_returns_the_object_as_get_does(client, runtime, tenant, maker):
    group = call(client, tenant, "POST", "/objects/categories/", json={"type": "modelgroup", "name": "Printers"})
    created = new_object(client, tenant, maker, serialnumber="SN-1", description="A3 colour", url="https://x",
                         image1="a.png", modelgroup={"id": group["id"]}, externalkey="o-1")
    assert created == call(client, tenant, "GET", f"/objects/{created['id']}")
    assert created["manufacturer"]["name"] == "Canon" and created["modelgroup"]["name"] == "Printers"
    assert created["serialnumber"] == "SN-1" and created["image1"] == "a.png" and created["image2"] is None
    assert created["created"].endswith("Z") and created["tags"] == []


def test_create_requires_name_and_manufacturer(client, tenant):
    r = client.post(url("/objects/"), json={"serialnumber": "x"}, headers=auth(tenant))
    assert r.status_code == 400
    assert r.json() == {"errors": {"name": "'name' is a required property",
                                   "manufacturer": "'manufacturer' is a required property"}, "message": VALIDATION}


def test_unknown_manufacturer_or_modelgroup_is_404(client, runtime, tenant, maker):
    r = client.post(url("/objects/"), json={"name": "X", "manufacturer": {"id": 9999}}, headers=auth(tenant))
    assert r.status_code == 404
    assert r.json() == {"errors": {"manufacturer": "Account 9999 not found"}, "message": "Account 9999 not found"}
    status = call(client, tenant, "GET", "/objects/categories/", params={"type": "contractstatus"})["items"][0]["id"]
    r = client.post(url("/objects/"), json={"name": "X", "manufacturer": {"id": maker["id"]},
                                            "modelgroup": {"id": status}}, headers=auth(tenant))
    assert r.status_code == 404 and r.json()["errors"] == {"modelgroup": f"Model group {status} not found"}


def test_update_changes_only_the_fields_sent(client, tenant, maker):
    created = new_object(client, tenant, maker, serialnumber="SN-1")
    updated = call(client, tenant, "PUT", f"/objects/{created['id']}", json={"name": "Big copier", "image3": "c.png"})
    assert updated["name"] == "Big copier" and updated["serialnumber"] == "SN-1" and updated["image3"] == "c.png"
    assert updated == call(client, tenant, "GET", f"/objects/{created['id']}")
    r = client.put(url("/objects/5151"), json={"name": "x"}, headers=auth(tenant))
    assert r.status_code == 404 and r.json() == {"message": "Object 5151 not found"}
    r = client.get(url("/objects/5151"), headers=auth(tenant))
    assert r.status_code == 404 and r.json() == {"message": "Object 5151 not found"}


def test_list_filters(client, runtime, tenant, maker):
    other = new_account(client, tenant, name="Ricoh")
    a = new_object(client, tenant, maker, name="Copier A", serialnumber="AB-100", externalkey="k1")
    b = new_object(client, tenant, other, name="Printer B", serialnumber="CD-200", description="colour laser")
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        field = custom_fields.define(ws, "record", "Floor")
        custom_fields.set_values(ws, "record", b["id"], {"floor": "3"})
        ws.flush()
        field_id = field.id

    def ids(**params):
        return [o["id"] for o in call(client, tenant, "GET", "/objects/", params=params)["items"]]

    assert ids() == [a["id"], b["id"]]
    assert ids(serialnumber="AB%") == [a["id"]]
    assert ids(name="printer b") == [b["id"]]
    assert ids(manufacturerids=f"{other['id']}") == [b["id"]]
    assert ids(fulltext="laser") == [b["id"]]
    assert ids(externalkey="k1") == [a["id"]]
    assert ids(dynamicfield_id=field_id, dynamicfield_val="3") == [b["id"]]
    r = client.get(url("/objects/?per_page=51"), headers=auth(tenant))
    assert r.status_code == 400
    assert r.json() == {"errors": {"per_page": "51 is greater than the maximum of 50"}, "message": VALIDATION}


def test_categories(client, tenant):
    created = call(client, tenant, "POST", "/objects/categories/", json={"type": "contracttype", "name": "Rental",
                                                                         "sort": 9, "default": 0})
    assert (created["type"], created["name"], created["sort"], created["default"]) == ("contracttype", "Rental", 9, 0)
    assert created == call(client, tenant, "GET", f"/objects/categories/{created['id']}")
    updated = call(client, tenant, "PUT", f"/objects/categories/{created['id']}", json={"name": "Rent"})
    assert updated["name"] == "Rent" and updated["sort"] == 9
    names = [c["name"] for c in call(client, tenant, "GET", "/objects/categories/",
                                     params={"type": "contracttype", "sorting": "name_desc"})["items"]]
    assert names == ["Service", "Rent", "Leasing"]
    assert call(client, tenant, "GET", "/objects/categories/", params={"default": 1, "type": "modelgroup"})["total"] == 1


def test_category_errors(client, tenant):
    r = client.post(url("/objects/categories/"), json={"type": "colour", "name": "Red"}, headers=auth(tenant))
    assert r.status_code == 400
    assert r.json() == {"errors": {"type": "'colour' is not one of ['modelgroup', 'contracttype', 'contractstatus']"},
                        "message": VALIDATION}
    r = client.get(url("/objects/categories/?type=colour"), headers=auth(tenant))
    assert r.status_code == 400
    assert r.json() == {"errors": {"type": "The value 'colour' is not a valid choice for 'type'."}, "message": VALIDATION}
    r = client.get(url("/objects/categories/8888"), headers=auth(tenant))
    assert r.status_code == 404 and r.json() == {"message": "Object category 8888 not found"}


def _contract(client, runtime, tenant, maker):
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        contact = ws.create(Contact, customer_id=maker["id"], name="Ann")
        ws.flush()
        contact_id = contact.id
    return call(client, tenant, "POST", "/contracts/", json={
        "number": "K-1", "start": "2026-01-01T00:00:00Z", "end": "2026-12-31T00:00:00Z", "contact": {"id": contact_id},
        "responsible": {"id": tenant["user_id"]}, "reminderdays": 10})


def test_contracts_of_an_object_and_relations(client, runtime, tenant, maker):
    obj = new_object(client, tenant, maker)
    contract = _contract(client, runtime, tenant, maker)
    placed = call(client, tenant, "PUT", f"/objects/{obj['id']}/contracts/{contract['id']}", json={"location": "Lobby"})
    assert (placed["contractid"], placed["objectid"], placed["location"]) == (contract["id"], obj["id"], "Lobby")
    assert call(client, tenant, "GET", f"/objects/{obj['id']}/contracts/{contract['id']}") == placed
    # The same placement seen from the contract.
    assert call(client, tenant, "GET", f"/contracts/{contract['id']}/objects/{obj['id']}") == placed
    assert call(client, tenant, "GET", f"/objects/{obj['id']}/contracts")["items"] == [placed]
    relations = call(client, tenant, "GET", f"/objects/{obj['id']}/relations")
    assert relations["items"] == [{"type": "contract", "objectid": obj["id"], "otherid": contract["id"]},
                                  {"type": "manufacturer", "objectid": obj["id"], "otherid": maker["id"]}]
    only = call(client, tenant, "GET", f"/objects/{obj['id']}/relations/manufacturer")
    assert only["total"] == 1
    assert call(client, tenant, "GET", f"/objects/{obj['id']}/relations/contract/{contract['id']}") == \
        {"type": "contract", "objectid": obj["id"], "otherid": contract["id"]}


def test_relation_and_placement_errors(client, runtime, tenant, maker):
    obj = new_object(client, tenant, maker)
    contract = _contract(client, runtime, tenant, maker)
    r = client.get(url(f"/objects/{obj['id']}/contracts/{contract['id']}"), headers=auth(tenant))
    assert r.status_code == 404
    assert r.json() == {"message": f"Object {obj['id']} is not connected to contract {contract['id']}"}
    r = client.get(url(f"/objects/{obj['id']}/relations/colour"), headers=auth(tenant))
    assert r.status_code == 404
    assert r.json() == {"message": "Unknown relation type 'colour': use one of contract, manufacturer"}
    r = client.get(url(f"/objects/{obj['id']}/relations/contract/{contract['id']}"), headers=auth(tenant))
    assert r.status_code == 404
    assert r.json() == {"message": f"Object {obj['id']} has no contract relation to {contract['id']}"}
    r = client.get(url(f"/objects/{obj['id']}/relations?page=3"), headers=auth(tenant))
    assert r.status_code == 400
    assert r.json() == {"errors": {"page": "page 3 is out of range"}, "message": VALIDATION}
    r = client.get(url("/objects/4444/relations"), headers=auth(tenant))
    assert r.status_code == 404 and r.json() == {"message": "Object 4444 not found"}


def test_x_fields_mask(client, tenant, maker):
    created = new_object(client, tenant, maker)
    h = {**auth(tenant), "X-Fields": "{name,manufacturer{name}}"}
    assert client.get(url(f"/objects/{created['id']}"), headers=h).json() == {"name": "Copier", "manufacturer": {"name": "Canon"}}
    page = client.get(url("/objects/"), headers={**auth(tenant), "X-Fields": "{page,items{id}}"}).json()
    assert page == {"page": 1, "items": [{"id": created["id"]}]}


def test_without_token_is_401(client):
    r = client.get(url("/objects/"))
    assert r.status_code == 401
