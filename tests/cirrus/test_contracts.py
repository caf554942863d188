"""Cirrus contracts group (#165-#173): contracts, placed objects, reminders."""

from __future__ import annotations

import pytest

from tests.cirrus.helpers import VALIDATION, auth, new_account, url
from polycrm.core.models import Activity, Contact
from polycrm.core.workspace import Workspace


def call(client, tenant, method, path, status=200, **kw):
    r = client.request(method, url(path), headers=auth(tenant), **kw)
    assert r.status_code == status, r.text
    return r.json()


def category(runtime, tenant, code, name):
    from polycrm.core import lookups

    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        return next(e.id for e in lookups.items(ws, "object_category") if e.code == code and e.name == name)


@pytest.fixture
def contact(client, runtime, tenant):
    account = new_account(client, tenant, name="Leasing Co")
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        c = ws.create(Contact, customer_id=account["id"], name="Eva", surname="Lund", phone="+46 8 1")
        ws.flush()
        return {"id": c.id, "account": account["id"]}


def new_contract(client, tenant, contact, **fields):
    body = {"number": "C-1", "start": "2026-01-01T00:00:00Z", "end": "2026-12-31T00:00:00Z",
            "contact": {"id": contact["id"]}, "responsible": {"id": tenant["user_id"]}, "reminderdays": 30, **fields}
    return call(client, tenant, "POST", "/contracts/", json=body)


def new_object(client, tenant, contact, **fields):
    body = {"name": "Copier", "manufacturer": {"id": contact["account"]}, **fields}
    return call(client, tenant, "POST", "/objects/", json=body)


def test_create_returns_the_contract_as_get_does(client, runtime, tenant, contact):
    status = category(runtime, tenant, "contractstatus", "Active")
    created = new_contract(client, tenant, contact, number2="X", description="Copier lease", value=1200.5,
                           financed=1, financeaccount={"id": contact["account"]}, status={"id": status},
                           installdate="2026-01-15T00:00:00Z")
    assert created == call(client, tenant, "GET", f"/contracts/{created['id']}")
    assert created["start"] == "2026-01-01T00:00:00Z" and created["installdate"] == "2026-01-15T00:00:00Z"
    assert created["status"]["name"] == "Active" and created["status"]["type"] == "contractstatus"
    assert created["contact"]["name"] == "Eva" and created["contact"]["officephone"] == "+46 8 1"
    assert created["responsible"]["id"] == tenant["user_id"] and created["financeaccount"]["name"] == "Leasing Co"
    assert (created["value"], created["financed"], created["reminderdays"]) == (1200.5, 1, 30)


def test_create_requires_the_documented_fields(client, tenant):
    r = client.post(url("/contracts/"), json={"number": "C-9"}, headers=auth(tenant))
    assert r.status_code == 400
    assert r.json() == {"errors": {n: f"'{n}' is a required property"
                                   for n in ("start", "end", "contact", "responsible", "reminderdays")},
                        "message": VALIDATION}


def test_create_with_wrong_category_type_is_404(client, runtime, tenant, contact):
    modelgroup = category(runtime, tenant, "modelgroup", "Standard")
    r = client.post(url("/contracts/"), headers=auth(tenant), json={
        "number": "C", "start": "2026-01-01T00:00:00Z", "end": "2026-02-01T00:00:00Z", "contact": {"id": contact["id"]},
        "responsible": {"id": tenant["user_id"]}, "reminderdays": 1, "type": {"id": modelgroup}})
    assert r.status_code == 404
    assert r.json() == {"errors": {"type": f"Contract type {modelgroup} not found"},
                        "message": f"Contract type {modelgroup} not found"}
    assert call(client, tenant, "GET", "/contracts/")["total"] == 0


def test_update_changes_only_the_fields_sent_and_moves_the_reminder(client, runtime, tenant, contact):
    created = new_contract(client, tenant, contact, description="keep")
    [reminder] = call(client, tenant, "GET", f"/contracts/{created['id']}/reminders")["items"]
    updated = call(client, tenant, "PUT", f"/contracts/{created['id']}", json={"end": "2027-06-30T00:00:00Z",
                                                                               "responsibleservice": None})
    assert updated["description"] == "keep" and updated["end"] == "2027-06-30T00:00:00Z"
    assert updated == call(client, tenant, "GET", f"/contracts/{created['id']}")
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        activity = ws.get(Activity, reminder["activityid"])
        assert activity.date.isoformat() == "2027-05-31" and activity.user_id == tenant["user_id"]
        assert activity.contact_id == contact["id"] and activity.customer_id == contact["account"]
    item = call(client, tenant, "GET", f"/contracts/{created['id']}/reminder/{reminder['activityid']}")
    assert item["activityid"] == reminder["activityid"]
    assert call(client, tenant, "GET", f"/contracts/{created['id']}/reminders/{reminder['activityid']}") == item


def test_unknown_contract_is_404(client, tenant):
    for method in ("GET", "PUT"):
        r = client.request(method, url("/contracts/4242"), json={}, headers=auth(tenant))
        assert r.status_code == 404
        assert r.json() == {"message": "Contract 4242 not found"}


def test_unknown_reminder_is_404(client, tenant, contact):
    created = new_contract(client, tenant, contact)
    r = client.get(url(f"/contracts/{created['id']}/reminder/999"), headers=auth(tenant))
    assert r.status_code == 404
    assert r.json() == {"message": f"Activity 999 is not a reminder of contract {created['id']}"}
    r = client.get(url("/contracts/999/reminders"), headers=auth(tenant))
    assert r.json() == {"message": "Contract 999 not found"}


def test_list_filters(client, runtime, tenant, contact):
    leasing = category(runtime, tenant, "contracttype", "Leasing")
    a = new_contract(client, tenant, contact, number="100", type={"id": leasing}, externalkey="ext-a")
    b = new_contract(client, tenant, contact, number="20", description="Printer service")
    obj = new_object(client, tenant, contact)
    call(client, tenant, "PUT", f"/contracts/{b['id']}/objects/{obj['id']}", json={"location": "Floor 2"})

    def ids(**params):
        return [c["id"] for c in call(client, tenant, "GET", "/contracts/", params=params)["items"]]

    assert ids() == [b["id"], a["id"]]  # by number, digits as numbers
    assert ids(typeids=str(leasing)) == [a["id"]]
    assert ids(fulltext="printer") == [b["id"]]
    assert ids(objectids=str(obj["id"])) == [b["id"]]
    assert ids(externalkey="EXT-A") == [a["id"]]
    assert ids(number="1%") == [a["id"]]
    assert ids(contactids=f"{contact['id']},") == [b["id"], a["id"]]
    assert ids(responsibleids="999") == []
    r = client.get(url("/contracts/?typeids=x"), headers=auth(tenant))
    assert r.status_code == 400 and r.json()["errors"] == {"typeids": "invalid literal for int() with base 10: 'x'"}


def test_objects_of_a_contract(client, tenant, contact):
    contract = new_contract(client, tenant, contact)
    obj = new_object(client, tenant, contact)
    placed = call(client, tenant, "PUT", f"/contracts/{contract['id']}/objects/{obj['id']}", json={"location": "Hall"})
    assert (placed["contractid"], placed["objectid"], placed["location"]) == (contract["id"], obj["id"], "Hall")
    assert call(client, tenant, "GET", f"/contracts/{contract['id']}/objects/{obj['id']}") == placed
    page = call(client, tenant, "GET", f"/contracts/{contract['id']}/objects", params={"location": "hall"})
    assert page["total"] == 1 and page["items"] == [placed]
    assert call(client, tenant, "GET", f"/contracts/{contract['id']}/objects", params={"location": "Roof"})["total"] == 0
    # A PUT without location keeps it.
    assert call(client, tenant, "PUT", f"/contracts/{contract['id']}/objects/{obj['id']}", json={})["location"] == "Hall"


def test_object_placement_errors(client, tenant, contact):
    contract = new_contract(client, tenant, contact)
    obj = new_object(client, tenant, contact)
    r = client.get(url(f"/contracts/{contract['id']}/objects/{obj['id']}"), headers=auth(tenant))
    assert r.status_code == 404
    assert r.json() == {"message": f"Object {obj['id']} is not connected to contract {contract['id']}"}
    r = client.put(url(f"/contracts/{contract['id']}/objects/777"), json={}, headers=auth(tenant))
    assert r.status_code == 404 and r.json() == {"message": "Object 777 not found"}
    r = client.put(url(f"/contracts/{contract['id']}/objects/{obj['id']}"), json={"location": 5}, headers=auth(tenant))
    assert r.status_code == 400
    assert r.json() == {"errors": {"location": "5 is not of type 'string'"}, "message": VALIDATION}


def test_x_fields_mask_on_a_contract_and_a_page(client, tenant, contact):
    created = new_contract(client, tenant, contact)
    h = {**auth(tenant), "X-Fields": "{id,number,responsible{id}}"}
    assert client.get(url(f"/contracts/{created['id']}"), headers=h).json() == {
        "id": created["id"], "number": "C-1", "responsible": {"id": tenant["user_id"]}}
    page = client.get(url("/contracts/"), headers={**auth(tenant), "X-Fields": "{total,items{id}}"}).json()
    assert page == {"total": 1, "items": [{"id": created["id"]}]}


def test_without_token_is_401(client):
    r = client.get(url("/contracts/"))
    assert r.status_code == 401
    assert "message" in r.json()
