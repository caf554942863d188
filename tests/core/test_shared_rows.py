"""Reference records shared by the read transactions of one tenant revision
(core/query/shared_rows.py): a read sees a rename at once, a writing
workspace never takes them, and another tenant's are its own."""

from __future__ import annotations

from sqlalchemy import event

from polycrm.core import lookups
from polycrm.core.models import Lookup, User
from polycrm.core.query import Loader, shared_rows
from polycrm.core.workspace import Workspace


def reading(runtime, tenant) -> Workspace:
    return Workspace(runtime.db, tenant["tenant_id"], write=False)


def writing(runtime, tenant) -> Workspace:
    return Workspace(runtime.db, tenant["tenant_id"], tenant["user_id"], blobs=runtime.blobs)


def a_lookup(runtime, tenant, name="Kind A") -> int:
    with writing(runtime, tenant) as ws:
        return lookups.SERVICE.create(ws, {"kind": "customer_type", "name": name}).id


def a_lookup_in(ws, name) -> int:
    return lookups.SERVICE.create(ws, {"kind": "customer_type", "name": name}).id


class Statements:
    """Counts the statements that read a table (the prebuilt reads go through
    SQLAlchemy while a listener watches, so each is seen)."""

    def __init__(self, engine, table: str):
        self.engine, self.table, self.count = engine, table, 0

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self.seen)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self.seen)

    def seen(self, _conn, _cursor, statement, *_args):
        if statement.lstrip().upper().startswith("SELECT") and f"FROM {self.table}" in statement:
            self.count += 1


def test_a_second_read_at_the_same_revision_takes_the_shared_record(runtime, tenant):
    shared_rows.clear()
    lookup_id = a_lookup(runtime, tenant)
    with reading(runtime, tenant) as ws:
        assert Loader(ws).get(Lookup, lookup_id).name == "Kind A"
    with Statements(runtime.db.engine, "lookup") as seen, reading(runtime, tenant) as ws:
        assert Loader(ws).get(Lookup, lookup_id).name == "Kind A"
        assert Loader(ws).get(User, tenant["user_id"]) is not None
    assert seen.count == 0


def test_a_read_after_a_write_sees_the_write(runtime, tenant):
    shared_rows.clear()
    lookup_id = a_lookup(runtime, tenant)
    with reading(runtime, tenant) as ws:
        assert Loader(ws).get(Lookup, lookup_id).name == "Kind A"
    with writing(runtime, tenant) as ws:
        lookups.SERVICE.update(ws, ws.get(Lookup, lookup_id), {"name": "Kind B"})
    with reading(runtime, tenant) as ws:
        assert Loader(ws).get(Lookup, lookup_id).name == "Kind B"


def test_a_missing_row_is_not_kept_past_the_write_that_adds_it(runtime, tenant):
    shared_rows.clear()
    with writing(runtime, tenant) as ws:
        next_id = max(ws.get(Lookup, i).id for i in [a_lookup_in(ws, "First")]) + 1
    with reading(runtime, tenant) as ws:
        assert Loader(ws).get(Lookup, next_id) is None  # kept as missing at this revision
    assert a_lookup(runtime, tenant, "Later") == next_id
    with reading(runtime, tenant) as ws:
        assert Loader(ws).get(Lookup, next_id).name == "Later"


def test_a_writing_workspace_reads_for_itself(runtime, tenant):
    shared_rows.clear()
    lookup_id = a_lookup(runtime, tenant)
    with reading(runtime, tenant) as ws:
        Loader(ws).get(Lookup, lookup_id)
    with writing(runtime, tenant) as ws:
        assert shared_rows.for_workspace(ws) is None
        with Statements(runtime.db.engine, "lookup") as seen:
            assert Loader(ws).get(Lookup, lookup_id).name == "Kind A"
        assert seen.count == 1


def test_tenants_share_nothing(runtime, tenant, other_tenant):
    shared_rows.clear()
    lookup_id = a_lookup(runtime, tenant)
    with reading(runtime, tenant) as ws:
        assert Loader(ws).get(Lookup, lookup_id) is not None
    with reading(runtime, other_tenant) as ws:
        assert Loader(ws).get(Lookup, lookup_id) is None


def test_two_databases_with_the_same_tenant_id_share_nothing(tmp_path):
    """A process serving two databases (as this suite does) keeps each one's records apart."""
    from polycrm.core import tenants
    from polycrm.store.engine import Database

    shared_rows.clear()
    made = []
    for name in ("one", "two"):
        db = Database(f"sqlite:///{tmp_path / name}.sqlite3")
        db.upgrade()
        made.append((db, tenants.create(db, tenants.NewTenant(name=name))))
    (first, a), (second, b) = made
    assert a["tenant_id"] == b["tenant_id"]
    for db, tenant, name in ((first, a, "In one"), (second, b, "In two")):
        with Workspace(db, tenant["tenant_id"], tenant["user_id"]) as ws:
            lookup_id = lookups.SERVICE.create(ws, {"kind": "customer_type", "name": name}).id
    for db, tenant, name in ((first, a, "In one"), (second, b, "In two"), (first, a, "In one")):
        with Workspace(db, tenant["tenant_id"], write=False) as ws:
            assert Loader(ws).get(Lookup, lookup_id).name == name
    first.dispose()
    second.dispose()
