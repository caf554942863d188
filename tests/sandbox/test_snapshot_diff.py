"""Restore writes only what differs from the snapshot: the paths that decide what that is.

Each test compares the tenant's whole state (every table a snapshot covers,
with each row's digest) before and after, and the other tenant's too.
"""

from __future__ import annotations

import threading

import zlib

import orjson
import pytest
from sqlalchemy import func, literal_column, select, text, update

from polycrm.core import auth, contacts, customers
from polycrm.core.errors import Conflict
from polycrm.core.models import Contact, Customer, IndividualPrice, Product, Tenant
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


def scanned_names(runtime, tenant, model, term: str) -> list[str]:
    """Names of the tenant's live rows whose search text holds ``term`` (Python's substring test), as sorted() does."""
    with auth.system_session(runtime.db) as session:
        rows = session.execute(select(model.name, model.search_text).where(
            model.tenant_id == tenant["tenant_id"], model.deleted.is_(False))).all()
    return sorted(name for name, text in rows if term.casefold() in text)


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


def older_document(runtime, tenant_id: int, version: int) -> bytes:
    """A snapshot document as polycrm wrote it before version 3: JSON of the
    Python values (decimals as strings, datetimes as ISO text), and from
    version 2 each row's digest."""
    tables = {}
    with runtime.db.engine.connect() as conn:
        kind = snapshots._digest_kind(conn)
        for table in snapshots.tenant_tables():
            query = select(table, literal_column(snapshots._digest_sql(conn.dialect, table)))
            rows = conn.execute(query.where(text(snapshots._scope_sql(table))).order_by(table.c.id),
                                snapshots._scope_params(tenant_id)).all()
            if rows:
                entry = {"columns": [c.name for c in table.c], "rows": [list(r[:-1]) for r in rows]}
                if version >= 2:
                    entry["digests"] = [r[-1] for r in rows]
                tables[str(table.name)] = entry
        settings = conn.scalar(select(Tenant.settings).where(Tenant.id == tenant_id))
    doc = {"version": version, "settings": settings or {}, "tables": tables}
    if version >= 2:
        doc["digest"] = kind
    return zlib.compress(orjson.dumps(doc, default=snapshots._encode))


@pytest.mark.parametrize("version", [1, 2])
def test_a_snapshot_made_by_an_older_version_restores_exactly(runtime, tenant, world, version):
    """Version 1 (no digests: compared row by row) and version 2 (digests, values as JSON of the Python values)."""
    raw(runtime, update(Customer.__table__).where(Customer.id == world["acme"])
        .values(latitude=55.1, extra={"note": "x"}, addresses={"main": {"city": "Aarhus"}}))
    snapshots.save(runtime.db, tenant["tenant_id"], "old")
    before = state(runtime, tenant["tenant_id"])
    t = Snapshot.__table__
    with runtime.db.engine.begin() as conn:
        conn.execute(update(t).where(t.c.tenant_id == tenant["tenant_id"], t.c.name == "old")
                     .values(data=older_document(runtime, tenant["tenant_id"], version)))
    with workspace(runtime, tenant) as ws:
        customers.update(ws, ws.get(Customer, world["acme"]), {"name": "Changed"})
        customers.create(ws, {"name": "Added"})
    raw(runtime, text("DELETE FROM contact WHERE id = :id"), {"id": world["boss"]})
    raw(runtime, text("DELETE FROM individual_price WHERE tenant_id = :t"), {"t": tenant["tenant_id"]})
    snapshots.restore(runtime.db, tenant["tenant_id"], "old")
    assert state(runtime, tenant["tenant_id"]) == before
    # And into the empty tenant: every row from the older document.
    snapshots.reset(runtime.db, tenant["tenant_id"], "empty")
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
    # 1-2 character terms: the short-gram index (migration 0025), filled set-wise too.
    assert searched(client, tenant, "accounts", "17") == scanned_names(runtime, tenant, Customer, "17")
    assert "Customer 117" in searched(client, tenant, "accounts", "17")
    assert searched(client, tenant, "contacts", "42") == scanned_names(runtime, tenant, Contact, "42")
    assert "Contact 42" in searched(client, tenant, "contacts", "42")
    with workspace(runtime, tenant) as ws:
        customers.create(ws, {"name": "Written afterwards"})
    assert searched(client, tenant, "accounts", "afterwards") == ["Written afterwards"]
    assert searched(client, tenant, "accounts", "w") == ["Written afterwards"]
    snapshots.restore(runtime.db, tenant["tenant_id"], "many")
    assert searched(client, tenant, "accounts", "afterwards") == []
    assert searched(client, tenant, "accounts", "w") == []
    assert state(runtime, tenant["tenant_id"]) == before


def test_a_snapshot_of_another_kind_of_database_is_refused(runtime, tenant, world):
    """Values in another driver's form cannot go in as they are: 409, and nothing changes."""
    snapshots.save(runtime.db, tenant["tenant_id"], "elsewhere")
    other = "postgresql" if runtime.db.is_sqlite else "sqlite"
    rewrite_snapshot(runtime, tenant, "elsewhere", lambda doc: doc.update(values=other))
    with workspace(runtime, tenant) as ws:
        customers.create(ws, {"name": "Kept"})
    before = state(runtime, tenant["tenant_id"])
    with pytest.raises(Conflict, match=f"taken on {other}"):
        snapshots.restore(runtime.db, tenant["tenant_id"], "elsewhere")
    assert state(runtime, tenant["tenant_id"]) == before


def test_a_restore_of_many_customers_keeps_the_spatial_index(runtime, tenant):
    """Enough customers for the set-wise fill of the R*Tree (SQLite): nearto finds the restored
    customers at their points, and a customer written afterwards (the trigger is back)."""
    from polycrm.core import query as q
    from tests.core.test_spatial_index import index_agrees

    with workspace(runtime, tenant) as ws:
        for i in range(60):
            customers.create(ws, {"name": f"Near {i}", "latitude": 55.6 + i / 1000, "longitude": 12.5})
        customers.create(ws, {"name": "No point"})
    snapshots.save(runtime.db, tenant["tenant_id"], "points")
    before = state(runtime, tenant["tenant_id"])
    snapshots.reset(runtime.db, tenant["tenant_id"], "empty")
    snapshots.restore(runtime.db, tenant["tenant_id"], "points")
    assert state(runtime, tenant["tenant_id"]) == before
    index_agrees(runtime)
    with workspace(runtime, tenant) as ws:
        customers.create(ws, {"name": "Written afterwards", "latitude": 55.61, "longitude": 12.5})
    with workspace(runtime, tenant) as ws:
        found = q.search(ws, Customer, near_to=q.Near(55.61, 12.5, 0.2), per_page=100)
        assert sorted(c.name for c in found.items) == ["Near 10", "Near 11", "Near 9", "Written afterwards"]
    index_agrees(runtime)


def test_a_blob_stored_by_sqlite_comes_back_as_a_blob(runtime, tenant, world):
    """SQLite stores what it is given: a blob written by raw SQL into a text column is restored as that blob."""
    if not runtime.db.is_sqlite:
        pytest.skip("PostgreSQL columns keep their types")
    raw(runtime, text("UPDATE customer SET description = X'00ff10' WHERE id = :id"), {"id": world["acme"]})
    snapshots.save(runtime.db, tenant["tenant_id"], "blob")
    before = state(runtime, tenant["tenant_id"])
    snapshots.reset(runtime.db, tenant["tenant_id"], "empty")
    snapshots.restore(runtime.db, tenant["tenant_id"], "blob")
    assert state(runtime, tenant["tenant_id"]) == before
    with runtime.db.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT description FROM customer WHERE id = ?", (world["acme"],)).scalar() \
            == b"\x00\xff\x10"


def test_a_restore_over_many_other_rows_deletes_them_all_and_only_them(runtime, client, tenant, other_tenant):
    """More rows to delete than one statement took before (500 ids): every row of the tenant the
    snapshot lacks goes (contacts pointing at deleted customers and at a deleted superior among
    them), the search indexes with them, and nothing of the other tenant."""
    with workspace(runtime, tenant) as ws:
        kept = customers.create(ws, {"name": "Kept"})
    snapshots.save(runtime.db, tenant["tenant_id"], "small")
    before = state(runtime, tenant["tenant_id"])
    with workspace(runtime, other_tenant) as ws:
        theirs = customers.create(ws, {"name": "Theirs"})
        contacts.create(ws, {"name": "Their contact", "customer_id": theirs.id})
    others = state(runtime, other_tenant["tenant_id"])
    with workspace(runtime, tenant) as ws:
        boss = contacts.create(ws, {"name": "Boss", "customer_id": kept.id})
        for i in range(520):
            made = customers.create(ws, {"name": f"Later {i}", "latitude": 55 + i / 1000, "longitude": 12.5})
            contacts.create(ws, {"name": f"Later contact {i}", "customer_id": made.id, "superior_id": boss.id})
    snapshots.restore(runtime.db, tenant["tenant_id"], "small")
    assert state(runtime, tenant["tenant_id"]) == before
    assert state(runtime, other_tenant["tenant_id"]) == others
    assert searched(client, tenant, "accounts", "later") == []
    assert searched(client, tenant, "contacts", "later") == []
    # The short-gram and spatial indexes let go of the deleted rows too, and keep the other tenant's.
    assert searched(client, tenant, "accounts", "la") == scanned_names(runtime, tenant, Customer, "la") == []
    assert searched(client, tenant, "contacts", "la") == []
    assert searched(client, other_tenant, "contacts", "th") == ["Their contact"]
    from tests.core.test_spatial_index import index_agrees

    index_agrees(runtime)
    if runtime.db.is_sqlite:
        # The integrity check is a write: BEGIN IMMEDIATE (a deferred transaction
        # upgraded while the journal writer commits fails at once with "locked").
        with runtime.db.engine.connect().execution_options(polycrm_write=True) as conn, conn.begin():
            for table in ("customer", "contact"):
                conn.exec_driver_sql(f"INSERT INTO {table}_fts({table}_fts) VALUES ('integrity-check')")
                # A contentless table keeps a row's tokens unless told them on delete: 'la' is 6C61.
                assert conn.exec_driver_sql(
                    f"SELECT rowid FROM {table}_short WHERE {table}_short MATCH '\"6C61\"' "
                    f"AND rowid NOT IN (SELECT id FROM {table})").all() == []
    # The delete triggers are back: a row deleted afterwards leaves the indexes by them.
    with workspace(runtime, tenant) as ws:
        customers.create(ws, {"name": "Written afterwards"})
    raw(runtime, text("DELETE FROM customer WHERE name = 'Written afterwards'"))
    assert searched(client, tenant, "accounts", "wr") == []
    assert searched(client, tenant, "accounts", "afterwards") == []


def test_a_restore_writes_the_tenant_row_once(runtime, tenant, world):
    """The settings and the revision in one UPDATE of the tenant row, as the transaction's last statement."""
    from sqlalchemy import event

    with workspace(runtime, tenant) as ws:
        customers.update(ws, ws.get(Customer, world["acme"]), {"name": "Changed"})
    snapshots.save(runtime.db, tenant["tenant_id"], "settings")
    with runtime.db.engine.begin() as conn:
        conn.execute(update(Tenant.__table__).where(Tenant.id == tenant["tenant_id"]).values(settings={"x": 1}))
        revision = conn.scalar(select(Tenant.revision).where(Tenant.id == tenant["tenant_id"]))
    statements: list[str] = []
    restoring = threading.get_ident()

    def seen(conn, cursor, statement, *args) -> None:
        # The restore's own statements: not those of a server's threads on the same engine
        # (the webhook deliverer's poll).
        if threading.get_ident() == restoring:
            statements.append(" ".join(statement.split()))

    event.listen(runtime.db.engine, "before_cursor_execute", seen)
    try:
        snapshots.restore(runtime.db, tenant["tenant_id"], "settings")
    finally:
        event.remove(runtime.db.engine, "before_cursor_execute", seen)
    writes = [s for s in statements if s.upper().startswith("UPDATE TENANT ")]
    assert len(writes) == 1, writes
    assert statements[-1] == writes[0]
    with runtime.db.engine.connect() as conn:
        row = conn.execute(select(Tenant.settings, Tenant.revision).where(Tenant.id == tenant["tenant_id"])).one()
    assert row.settings == state(runtime, tenant["tenant_id"])["settings"] != {"x": 1}
    assert row.revision == revision + 1


def test_a_row_between_the_snapshot_s_ids_is_told_apart_and_one_beyond_them_too(runtime, tenant, world):
    """Rows outside a table's range of snapshot ids get no digest (they cannot be in it); one
    inside the range but not in the snapshot is still found and deleted."""
    with workspace(runtime, tenant) as ws:
        gap = customers.create(ws, {"name": "Gap"}).id
        last = customers.create(ws, {"name": "Last"}).id
    raw(runtime, text("DELETE FROM customer WHERE id = :id"), {"id": gap})
    snapshots.save(runtime.db, tenant["tenant_id"], "base")
    before = state(runtime, tenant["tenant_id"])
    t = Customer.__table__
    with runtime.db.engine.begin() as conn:  # a row under the free id, past the core
        row = dict(conn.execute(select(t).where(t.c.id == last)).mappings().one())
        conn.execute(t.insert().values({**row, "id": gap, "name": "Between"}))
    with workspace(runtime, tenant) as ws:
        customers.create(ws, {"name": "Beyond"})
    assert state(runtime, tenant["tenant_id"]) != before
    snapshots.restore(runtime.db, tenant["tenant_id"], "base")
    assert state(runtime, tenant["tenant_id"]) == before
