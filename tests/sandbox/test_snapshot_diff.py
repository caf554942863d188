"""Restore writes only what differs from the snapshot: the paths that decide what that is.

Each test compares the tenant's whole state (every table a snapshot covers,
with each row's digest) before and after, and the other tenant's too.
"""

from __future__ import annotations

import zlib

import orjson
import pytest
from sqlalchemy import func, select, text, update

from polycrm.core import auth, contacts, customers
from polycrm.core.models import Contact, Customer, IndividualPrice, Product
from polycrm.sandbox import snapshots
from polycrm.sandbox.models import Snapshot
from tests.sandbox.helpers import state, workspace


def raw(runtime, statement, params=None) -> None:
    """A write that bypasses the core (no changed_at, no history): a restore must see it all the same."""
    with runtime.db.engine.begin() as conn:
        conn.execute(statement, params or {})


def rewrite_snapshot(runtime, tenant, name: str, change) -> None:
    """Edit a stored snapshot document (as an older polycrm would have written it)."""
    t = Snapshot.__table__
    with runtime.db.engine.begin() as conn:
        data = conn.scalar(select(t.c.data).where(t.c.tenant_id == tenant["tenant_id"], t.c.name == name))
        doc = orjson.loads(zlib.decompress(data))
        change(doc)
        conn.execute(update(t).where(t.c.tenant_id == tenant["tenant_id"], t.c.name == name)
                     .values(data=zlib.compress(orjson.dumps(doc))))


def searched(client, tenant, kind: str, term: str) -> list[str]:
    response = client.get(f"/cirrus/{kind}/", params={"fulltext": term},
                          headers={"X-Token": tenant["cirrus"]["x_token"]})
    assert response.status_code == 200, response.text
    return sorted(item["name"] for item in response.json()["items"])


@pytest.fixture
def world(runtime, tenant, other_tenant):
    """A tenant with customers, contacts (one reporting to another), a product and a price."""
    with workspace(runtime, tenant) as ws:
        acme = customers.create(ws, {"name": "Acme Tools", "number": "A-1", "phone": "+45 70 20 30 40"})
        beta = customers.create(ws, {"name": "Beta Paints", "parent_id": acme.id})
        boss = contacts.create(ws, {"name": "Ada Boss", "customer_id": acme.id, "email": "ada@example.com"})
        contacts.create(ws, {"name": "Bo Worker", "customer_id": acme.id, "superior_id": boss.id})
        contacts.create(ws, {"name": "Cy Painter", "customer_id": beta.id})
        product = Product(tenant_id=tenant["tenant_id"], name="Hammer", number="H-1")
        ws.session.add(product)
        ws.session.flush()
        ws.session.add(IndividualPrice(tenant_id=tenant["tenant_id"], customer_id=beta.id, product_id=product.id,
                                       price_minor=1250))
    with workspace(runtime, other_tenant) as ws:
        customers.create(ws, {"name": "Other's customer"})
    return {"acme": acme.id, "beta": beta.id, "boss": boss.id, "product": product.id}


def test_creates_updates_and_deletes_in_several_tables_are_undone(runtime, client, tenant, other_tenant, world):
    snapshots.save(runtime.db, tenant["tenant_id"], "base")
    before, others = state(runtime, tenant["tenant_id"]), state(runtime, other_tenant["tenant_id"])
    with workspace(runtime, tenant) as ws:
        customers.update(ws, ws.get(Customer, world["acme"]), {"name": "Acme Renamed", "number": "A-2"})
        customers.delete(ws, ws.get(Customer, world["beta"]))
        added = customers.create(ws, {"name": "Added Later"})
        contacts.create(ws, {"name": "Dee New", "customer_id": added.id})
        contacts.update(ws, ws.get(Contact, world["boss"]), {"email": "boss@example.com"})
    raw(runtime, text("DELETE FROM individual_price WHERE tenant_id = :t"), {"t": tenant["tenant_id"]})
    assert state(runtime, tenant["tenant_id"]) != before

    snapshots.restore(runtime.db, tenant["tenant_id"], "base")
    assert state(runtime, tenant["tenant_id"]) == before
    assert state(runtime, other_tenant["tenant_id"]) == others
    # The search indexes follow the rows brought back.
    assert searched(client, tenant, "accounts", "acme") == ["Acme Tools"]
    assert searched(client, tenant, "accounts", "renamed") == []
    assert searched(client, tenant, "accounts", "added") == []


def test_a_change_that_bypasses_the_core_is_undone(runtime, tenant, world):
    """No changed_at moves: only the row's value tells (a float one ulp off, a JSON value)."""
    raw(runtime, update(Customer.__table__).where(Customer.id == world["acme"]).values(latitude=55.1))
    snapshots.save(runtime.db, tenant["tenant_id"], "base")
    before = state(runtime, tenant["tenant_id"])
    raw(runtime, update(Customer.__table__).where(Customer.id == world["acme"])
        .values(latitude=55.10000000000001, extra={"note": "x"}))
    assert state(runtime, tenant["tenant_id"]) != before
    snapshots.restore(runtime.db, tenant["tenant_id"], "base")
    assert state(runtime, tenant["tenant_id"]) == before
    with auth.system_session(runtime.db) as session:
        assert session.get(Customer, world["acme"]).latitude == 55.1


def test_a_row_removed_by_a_cascade_comes_back(runtime, tenant, world):
    """The price moved to a customer made after the snapshot: deleting that one takes the price along."""
    snapshots.save(runtime.db, tenant["tenant_id"], "base")
    before = state(runtime, tenant["tenant_id"])
    with workspace(runtime, tenant) as ws:
        later = customers.create(ws, {"name": "Later"}).id
    raw(runtime, update(IndividualPrice.__table__).where(IndividualPrice.tenant_id == tenant["tenant_id"])
        .values(customer_id=later))
    # And a contact moved there too (ON DELETE SET NULL on the way).
    raw(runtime, update(Contact.__table__).where(Contact.id == world["boss"]).values(customer_id=later))
    snapshots.restore(runtime.db, tenant["tenant_id"], "base")
    assert state(runtime, tenant["tenant_id"]) == before


def test_restoring_twice_in_a_row_changes_nothing_the_second_time(runtime, tenant, world):
    snapshots.save(runtime.db, tenant["tenant_id"], "base")
    before = state(runtime, tenant["tenant_id"])
    with workspace(runtime, tenant) as ws:
        customers.create(ws, {"name": "Temporary"})
    snapshots.restore(runtime.db, tenant["tenant_id"], "base")
    snapshots.restore(runtime.db, tenant["tenant_id"], "base")
    assert state(runtime, tenant["tenant_id"]) == before


def test_a_restore_after_a_reset_to_empty_brings_everything_back(runtime, client, tenant, world):
    snapshots.save(runtime.db, tenant["tenant_id"], "base")
    before = state(runtime, tenant["tenant_id"])
    snapshots.reset(runtime.db, tenant["tenant_id"], "empty")
    assert "customer" not in state(runtime, tenant["tenant_id"])["tables"]
    snapshots.restore(runtime.db, tenant["tenant_id"], "base")
    assert state(runtime, tenant["tenant_id"]) == before
    assert searched(client, tenant, "accounts", "paints") == ["Beta Paints"]
    assert searched(client, tenant, "contacts", "painter") == ["Cy Painter"]
    # New rows get ids after the restored ones.
    with workspace(runtime, tenant) as ws:
        assert customers.create(ws, {"name": "After"}).id > world["beta"]


def test_a_snapshot_without_digests_is_compared_row_by_row(runtime, tenant, world):
    """What polycrm saved before row digests (document version 1) restores as exactly."""
    snapshots.save(runtime.db, tenant["tenant_id"], "old")
    before = state(runtime, tenant["tenant_id"])

    def as_version_1(doc):
        doc["version"] = 1
        del doc["digest"]
        for entry in doc["tables"].values():
            del entry["digests"]

    rewrite_snapshot(runtime, tenant, "old", as_version_1)
    with workspace(runtime, tenant) as ws:
        customers.update(ws, ws.get(Customer, world["acme"]), {"name": "Changed"})
        customers.create(ws, {"name": "Added"})
    raw(runtime, text("DELETE FROM contact WHERE id = :id"), {"id": world["boss"]})
    snapshots.restore(runtime.db, tenant["tenant_id"], "old")
    assert state(runtime, tenant["tenant_id"]) == before


def test_a_snapshot_taken_on_an_older_schema_restores_its_columns(runtime, tenant, world):
    """A column the snapshot does not know keeps its value on kept rows and takes its default on new ones;
    the table's digests no longer describe its rows, so that table is compared row by row."""
    snapshots.save(runtime.db, tenant["tenant_id"], "older")
    before = state(runtime, tenant["tenant_id"])

    def without_vat(doc):
        entry = doc["tables"]["customer"]
        at = entry["columns"].index("vat")
        del entry["columns"][at]
        for row in entry["rows"]:
            del row[at]

    rewrite_snapshot(runtime, tenant, "older", without_vat)
    with workspace(runtime, tenant) as ws:
        customers.update(ws, ws.get(Customer, world["acme"]), {"name": "Changed"})
        customers.delete(ws, ws.get(Customer, world["beta"]))
    snapshots.restore(runtime.db, tenant["tenant_id"], "older")
    assert state(runtime, tenant["tenant_id"]) == before


def test_the_digest_of_a_row_is_the_same_as_long_as_the_row_is(runtime, tenant, world):
    first = state(runtime, tenant["tenant_id"])["tables"]["customer"]
    with workspace(runtime, tenant) as ws:
        customers.update(ws, ws.get(Customer, world["beta"]), {"name": "Beta Renamed"})
    second = state(runtime, tenant["tenant_id"])["tables"]["customer"]
    assert len(first["digests"]) == len(first["rows"]) == 2
    ids = [row[first["columns"].index("id")] for row in first["rows"]]
    acme, beta = ids.index(world["acme"]), ids.index(world["beta"])
    assert first["digests"][acme] == second["digests"][acme]
    assert first["digests"][beta] != second["digests"][beta]


def test_many_rows_restore_into_an_empty_tenant(runtime, client, tenant):
    """Enough rows for the bulk paths (one INSERT from JSON on PostgreSQL, the
    FTS index filled in one statement on SQLite): the search finds them, and
    finds a row written afterwards (the index's trigger is back)."""
    with workspace(runtime, tenant) as ws:
        for i in range(120):
            made = customers.create(ws, {"name": f"Customer {i}"})
            contacts.create(ws, {"name": f"Contact {i}", "customer_id": made.id})
    snapshots.save(runtime.db, tenant["tenant_id"], "many")
    before = state(runtime, tenant["tenant_id"])
    snapshots.reset(runtime.db, tenant["tenant_id"], "empty")
    snapshots.restore(runtime.db, tenant["tenant_id"], "many")
    assert state(runtime, tenant["tenant_id"]) == before
    with auth.system_session(runtime.db) as session:
        assert session.scalar(select(func.count()).select_from(Contact)
                              .where(Contact.tenant_id == tenant["tenant_id"])) == 120
    assert searched(client, tenant, "accounts", "customer 117") == ["Customer 117"]
    assert searched(client, tenant, "contacts", "contact 42") == ["Contact 42"]
    with workspace(runtime, tenant) as ws:
        customers.create(ws, {"name": "Written afterwards"})
    assert searched(client, tenant, "accounts", "afterwards") == ["Written afterwards"]
    snapshots.restore(runtime.db, tenant["tenant_id"], "many")
    assert searched(client, tenant, "accounts", "afterwards") == []
    assert state(runtime, tenant["tenant_id"]) == before
