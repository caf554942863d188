"""Snapshots, restore and reset through the admin API, and the admin key itself."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from polycrm.core import auth, customers, demo
from polycrm.core.models import Customer
from tests.sandbox.helpers import state, workspace


def add_customer(runtime, tenant, name: str, **values) -> int:
    with workspace(runtime, tenant) as ws:
        return customers.create(ws, {"name": name, **values}).id


def cirrus_accounts(client, tenant) -> list[str]:
    response = client.get("/cirrus/accounts/", headers={"X-Token": tenant["cirrus"]["x_token"]})
    assert response.status_code == 200, response.text
    return sorted(a["name"] for a in response.json()["items"])


def customer_names(runtime, tenant) -> list[str]:
    with auth.system_session(runtime.db) as session:
        return sorted(session.scalars(select(Customer.name).where(Customer.tenant_id == tenant["tenant_id"])))


# -- the admin key ----------------------------------------------------------------
@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer"}, {"Authorization": "Basic abc"},
                                     {"Authorization": "Bearer not-a-key"}])
def test_the_admin_api_needs_a_valid_admin_key(client, tenant, headers):
    response = client.get("/_polycrm/snapshots", headers=headers)
    assert response.status_code == 401
    assert set(response.json()) == {"error"}


def test_another_api_credential_is_no_admin_key(client, tenant):
    response = client.get("/_polycrm/snapshots", headers={"Authorization": f"Bearer {tenant['cirrus']['x_token']}"})
    assert response.status_code == 401
    assert response.json() == {"error": "invalid admin key"}


def test_an_admin_key_sees_only_its_own_tenant(runtime, admin, other_admin, tenant, other_tenant):
    assert admin.post("/snapshots", {"name": "mine"}).status_code == 201
    assert other_admin.get("/snapshots").json() == {"snapshots": []}
    assert other_admin.post("/snapshots/mine/restore").status_code == 404
    assert other_admin.delete("/snapshots/mine").status_code == 404
    assert [s["name"] for s in admin.get("/snapshots").json()["snapshots"]] == ["mine"]


def test_the_demo_tenant_has_the_documented_admin_key(runtime, client):
    demo.ensure(runtime.db, runtime.blobs)
    response = client.get("/_polycrm/snapshots", headers={"Authorization": "Bearer demo-admin"})
    assert response.status_code == 200


# -- snapshots --------------------------------------------------------------------
def test_save_list_and_delete(admin):
    made = admin.post("/snapshots", {"name": "before-sync"})
    assert made.status_code == 201
    body = made.json()
    assert body["name"] == "before-sync" and body["rows"] > 0 and body["size"] > 0
    listed = admin.get("/snapshots").json()["snapshots"]
    assert [(s["name"], s["rows"]) for s in listed] == [("before-sync", body["rows"])]
    assert admin.delete("/snapshots/before-sync").status_code == 204
    assert admin.get("/snapshots").json() == {"snapshots": []}


def test_saving_under_a_taken_name_replaces_the_snapshot(runtime, admin, tenant):
    admin.post("/snapshots", {"name": "s"})
    add_customer(runtime, tenant, "Later")
    admin.post("/snapshots", {"name": "s"})
    assert len(admin.get("/snapshots").json()["snapshots"]) == 1
    admin.post("/snapshots/s/restore")
    assert "Later" in [n for n in state(runtime, tenant["tenant_id"])["tables"]["customer"]["rows"][0]]


@pytest.mark.parametrize("body,message", [
    ({}, "name must be 1-100 letters, digits, '.', '_' or '-', starting with a letter or digit"),
    ({"name": ""}, "name must be 1-100 letters, digits, '.', '_' or '-', starting with a letter or digit"),
    ({"name": 5}, "name must be 1-100 letters, digits, '.', '_' or '-', starting with a letter or digit"),
    ({"name": "a/b"}, "name must be 1-100 letters, digits, '.', '_' or '-', starting with a letter or digit"),
    ({"name": "x" * 101}, "name must be 1-100 letters, digits, '.', '_' or '-', starting with a letter or digit"),
    ({"name": "empty"}, "name 'empty' is reserved (a reset target)"),
    ({"name": "demo"}, "name 'demo' is reserved (a reset target)"),
])
def test_a_bad_snapshot_name_is_400(admin, body, message):
    response = admin.post("/snapshots", body)
    assert response.status_code == 400
    assert response.json() == {"error": message}


@pytest.mark.parametrize("raw,message", [(b"{", "the body is not valid JSON"),
                                         (b"[1]", "the body must be a JSON object")])
def test_a_body_that_is_no_json_object_is_400(admin, raw, message):
    response = admin.client.post("/_polycrm/snapshots", headers=admin.headers(), content=raw)
    assert response.status_code == 400
    assert response.json() == {"error": message}


def test_unknown_snapshots_are_404(admin):
    assert admin.post("/snapshots/nope/restore").json() == {"error": "no snapshot named 'nope'"}
    assert admin.post("/snapshots/nope/restore").status_code == 404
    assert admin.delete("/snapshots/nope").status_code == 404


def test_restore_puts_back_exactly_what_was_saved(runtime, client, admin, tenant, other_tenant):
    kept = add_customer(runtime, tenant, "Kept", number="K-1", extra={"note": "x"})
    gone = add_customer(runtime, tenant, "Deleted later")
    add_customer(runtime, other_tenant, "Other's")
    before = state(runtime, tenant["tenant_id"])
    others_before = state(runtime, other_tenant["tenant_id"])
    assert admin.post("/snapshots", {"name": "base"}).status_code == 201

    with workspace(runtime, tenant) as ws:
        customers.update(ws, ws.get(Customer, kept), {"name": "Renamed", "number": "K-2"})
        customers.delete(ws, ws.get(Customer, gone))
    add_customer(runtime, tenant, "New")
    assert state(runtime, tenant["tenant_id"]) != before

    restored = admin.post("/snapshots/base/restore")
    assert restored.status_code == 200, restored.text
    assert restored.json()["restored"] == "base"
    assert state(runtime, tenant["tenant_id"]) == before
    assert state(runtime, other_tenant["tenant_id"]) == others_before
    # The API credentials of the snapshot work, and new rows get fresh ids.
    assert cirrus_accounts(client, tenant) == ["Deleted later", "Kept"]
    assert add_customer(runtime, tenant, "After") > gone


def test_restore_brings_back_custom_fields_and_tenant_settings(runtime, admin, tenant):
    with runtime.db.session() as session, session.begin():
        from polycrm.core.models import Tenant

        session.get(Tenant, tenant["tenant_id"]).settings = {"currency": "EUR"}
    before = state(runtime, tenant["tenant_id"])
    admin.post("/snapshots", {"name": "s"})
    with runtime.db.session() as session, session.begin():
        from polycrm.core.models import Tenant

        session.get(Tenant, tenant["tenant_id"]).settings = {}
    admin.post("/snapshots/s/restore")
    after = state(runtime, tenant["tenant_id"])
    assert after["settings"] == {"currency": "EUR"} and after == before


# -- reset ------------------------------------------------------------------------
def test_reset_to_empty_keeps_credentials_and_the_admin_key(runtime, client, admin, tenant):
    fresh = state(runtime, tenant["tenant_id"])
    add_customer(runtime, tenant, "Temporary")
    response = admin.post("/reset", {"to": "empty"})
    assert response.status_code == 200 and response.json() == {"reset": "empty"}
    assert state(runtime, tenant["tenant_id"]) == fresh
    assert cirrus_accounts(client, tenant) == []
    assert admin.get("/snapshots").status_code == 200


def test_reset_to_demo_loads_the_sample_data(runtime, client, admin, tenant):
    add_customer(runtime, tenant, "Temporary")
    assert admin.post("/reset", {"to": "demo"}).json() == {"reset": "demo"}
    expected = sorted(c["name"] for c in demo.sample_data()["customers"])
    assert customer_names(runtime, tenant) == expected
    assert "Temporary" not in cirrus_accounts(client, tenant)
    # Twice in a row gives the same world (no duplicates).
    admin.post("/reset", {"to": "demo"})
    assert customer_names(runtime, tenant) == expected


def test_reset_to_a_snapshot(runtime, client, admin, tenant):
    add_customer(runtime, tenant, "In the snapshot")
    admin.post("/snapshots", {"name": "one"})
    add_customer(runtime, tenant, "Not in it")
    assert admin.post("/reset", {"to": "one"}).json() == {"reset": "one"}
    assert cirrus_accounts(client, tenant) == ["In the snapshot"]


@pytest.mark.parametrize("body,status,message", [
    ({}, 400, 'to must be "empty", "demo" or the name of a snapshot'),
    ({"to": 3}, 400, 'to must be "empty", "demo" or the name of a snapshot'),
    ({"to": "missing"}, 404, "no snapshot named 'missing'"),
])
def test_a_bad_reset_target(admin, body, status, message):
    response = admin.post("/reset", body)
    assert response.status_code == status
    assert response.json() == {"error": message}


def test_a_tenant_without_an_initial_state_cannot_reset_to_empty(runtime, admin, tenant):
    from sqlalchemy import delete

    from polycrm.sandbox.models import Snapshot

    with runtime.db.engine.begin() as conn:
        conn.execute(delete(Snapshot.__table__).where(Snapshot.tenant_id == tenant["tenant_id"]))
    response = admin.post("/reset", {"to": "empty"})
    assert response.status_code == 409
    assert response.json() == {
        "error": "this tenant was created before snapshots existed: it has no empty state to reset to"}


def test_a_restore_of_many_rows_counts_them(runtime, admin, tenant):
    with workspace(runtime, tenant) as ws:
        for i in range(50):
            customers.create(ws, {"name": f"C{i}", "parent_id": None})
    made = admin.post("/snapshots", {"name": "fifty"}).json()
    with auth.system_session(runtime.db) as session:
        live = session.scalar(select(func.count()).select_from(Customer).where(Customer.tenant_id == tenant["tenant_id"]))
    assert live == 50
    admin.post("/reset", {"to": "empty"})
    assert admin.post("/snapshots/fifty/restore").json() == {"restored": "fifty", "rows": made["rows"]}
    assert len(state(runtime, tenant["tenant_id"])["tables"]["customer"]["rows"]) == 50
