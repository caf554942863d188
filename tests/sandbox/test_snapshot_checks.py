"""A restore with the per-row foreign-key work aside (SQLite ``foreign_keys`` off around
its transaction, PostgreSQL ``session_replication_role = replica`` inside it), checked
set-wise: the usual restore takes that path once; where a foreign key's action or
refusal was due, the restore runs again with the checks on and ends as that does.
"""

from __future__ import annotations

import pytest
from sqlalchemy import event, select, text, update

from polycrm.core import auth, contacts, customers, signin
from polycrm.core.errors import Conflict
from polycrm.core.models import Contact, Customer, User
from polycrm.sandbox import snapshots
from tests.sandbox.helpers import state, workspace
from tests.sandbox.test_snapshot_diff import raw, rewrite_snapshot


@pytest.fixture
def runs(monkeypatch):
    """The checks_aside of each transaction a restore ran."""
    seen: list[bool] = []
    restore = snapshots._restore

    def spy(*args, checks_aside, **kw):
        seen.append(checks_aside)
        return restore(*args, checks_aside=checks_aside, **kw)

    monkeypatch.setattr(snapshots, "_restore", spy)
    return seen


@pytest.fixture
def statements(runtime):
    seen: list[str] = []

    def note(conn, cursor, statement, *args) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(runtime.db.engine, "before_cursor_execute", note)
    yield seen
    event.remove(runtime.db.engine, "before_cursor_execute", note)


@pytest.fixture
def world(runtime, tenant, other_tenant):
    with workspace(runtime, tenant) as ws:
        acme = customers.create(ws, {"name": "Acme Tools"})
        boss = contacts.create(ws, {"name": "Ada Boss", "customer_id": acme.id})
        contacts.create(ws, {"name": "Bo Worker", "customer_id": acme.id, "superior_id": boss.id})
    with workspace(runtime, other_tenant) as ws:
        theirs = customers.create(ws, {"name": "Theirs"})
        their_contact = contacts.create(ws, {"name": "Their contact", "customer_id": theirs.id})
    return {"acme": acme.id, "boss": boss.id, "their_contact": their_contact.id}


def test_the_usual_restore_runs_once_with_the_checks_aside(runtime, tenant, other_tenant, world, runs, statements):
    snapshots.save(runtime.db, tenant["tenant_id"], "base")
    before, others = state(runtime, tenant["tenant_id"]), state(runtime, other_tenant["tenant_id"])
    with workspace(runtime, tenant) as ws:
        later = customers.create(ws, {"name": "Later"})
        contacts.create(ws, {"name": "Later contact", "customer_id": later.id})
        customers.update(ws, ws.get(Customer, world["acme"]), {"name": "Renamed"})
    raw(runtime, text("DELETE FROM contact WHERE id = :id"), {"id": world["boss"]})  # SET NULL on Bo's superior
    statements.clear()
    snapshots.restore(runtime.db, tenant["tenant_id"], "base")
    assert runs == [True]
    assert state(runtime, tenant["tenant_id"]) == before
    assert state(runtime, other_tenant["tenant_id"]) == others
    if not runtime.db.is_sqlite:
        aside = statements.index("SET LOCAL session_replication_role = replica")
        back = statements.index("SET LOCAL session_replication_role = DEFAULT")
        assert aside < back < len(statements) - 1


def test_foreign_keys_are_on_again_on_every_connection_after_restores(runtime, tenant, world):
    """SQLite: the pragma is the connection's, and pooled connections are used again."""
    if not runtime.db.is_sqlite:
        pytest.skip("SQLite's foreign_keys pragma")
    checked_in: list[int] = []

    def note(dbapi_conn, record) -> None:
        checked_in.append(dbapi_conn.execute("PRAGMA foreign_keys").fetchone()[0])

    snapshots.save(runtime.db, tenant["tenant_id"], "base")
    event.listen(runtime.db.engine, "checkin", note)
    try:
        snapshots.restore(runtime.db, tenant["tenant_id"], "base")
        with pytest.raises(Exception):
            snapshots.restore(runtime.db, tenant["tenant_id"], "no-such-snapshot")
    finally:
        event.remove(runtime.db.engine, "checkin", note)
    assert checked_in and set(checked_in) == {1}
    with pytest.raises(Exception, match="FOREIGN KEY"):
        raw(runtime, text("UPDATE contact SET customer_id = 999999999 WHERE id = :id"), {"id": world["boss"]})


def test_a_kept_sign_in_of_a_user_the_snapshot_lacks_goes_with_the_user(runtime, tenant, world, runs):
    """The web session is kept by restores, but its user's deletion cascades to it: the set-wise
    check sees the session point at the deleted user and the restore runs again with the checks."""
    snapshots.save(runtime.db, tenant["tenant_id"], "base")
    before = state(runtime, tenant["tenant_id"])
    with workspace(runtime, tenant) as ws:
        user = User(tenant_id=tenant["tenant_id"], username="later", name="Later")
        ws.session.add(user)
        ws.session.flush()
        user_id = user.id
    session_id = signin.open_session(runtime.db, auth.Principal(tenant["tenant_id"], user_id))
    assert signin.session_principal(runtime.db, session_id) is not None
    snapshots.restore(runtime.db, tenant["tenant_id"], "base")
    assert runs == [True, False]
    assert signin.session_principal(runtime.db, session_id) is None
    assert state(runtime, tenant["tenant_id"]) == before


def test_a_row_of_another_tenant_pointing_at_a_deleted_row_gets_the_key_s_action(
        runtime, tenant, other_tenant, world, runs):
    """Raw SQL made the other tenant's contact point at a customer the snapshot lacks: the
    restore deletes that customer and ON DELETE SET NULL clears the pointer, as always."""
    snapshots.save(runtime.db, tenant["tenant_id"], "base")
    before = state(runtime, tenant["tenant_id"])
    with workspace(runtime, tenant) as ws:
        later = customers.create(ws, {"name": "Later"}).id
    raw(runtime, update(Contact.__table__).where(Contact.id == world["their_contact"]).values(customer_id=later))
    snapshots.restore(runtime.db, tenant["tenant_id"], "base")
    assert runs == [True, False]
    assert state(runtime, tenant["tenant_id"]) == before
    with auth.system_session(runtime.db) as session:
        assert session.scalar(select(Contact.customer_id).where(Contact.id == world["their_contact"])) is None


def test_a_snapshot_row_pointing_at_no_row_is_refused_and_nothing_changes(runtime, tenant, world, runs):
    """A document whose contact points at a customer that exists nowhere: the set-wise check finds
    it, the restore with the checks on refuses it (409), the tenant stays as it was."""
    snapshots.save(runtime.db, tenant["tenant_id"], "broken")

    def dangling(doc):
        entry = doc["tables"]["contact"]
        at, to = entry["columns"].index("id"), entry["columns"].index("customer_id")
        for row in entry["rows"]:
            if row[at] == world["boss"]:
                row[to] = 999999999

    rewrite_snapshot(runtime, tenant, "broken", dangling)
    raw(runtime, text("DELETE FROM contact WHERE id = :id"), {"id": world["boss"]})
    with workspace(runtime, tenant) as ws:
        customers.create(ws, {"name": "Kept"})
    before = state(runtime, tenant["tenant_id"])
    with pytest.raises(Conflict, match="cannot come back"):
        snapshots.restore(runtime.db, tenant["tenant_id"], "broken")
    assert runs == [True, False]
    assert state(runtime, tenant["tenant_id"]) == before


def test_a_row_the_database_refuses_is_refused_with_the_checks_on(runtime, tenant, other_tenant, world, runs):
    """An id the snapshot needs is taken by another tenant's row (docs/sandbox.md, "Known limit"):
    the restore with the checks aside hits it, runs again with them on, and that one's 409 stands."""
    snapshots.save(runtime.db, tenant["tenant_id"], "base")
    raw(runtime, text("DELETE FROM customer WHERE id = :id"), {"id": world["acme"]})
    t = Customer.__table__
    with runtime.db.engine.begin() as conn:
        theirs = conn.scalar(select(t.c.id).where(t.c.tenant_id == other_tenant["tenant_id"]))
        row = dict(conn.execute(select(t).where(t.c.id == theirs)).mappings().one())
        conn.execute(t.insert().values({**row, "id": world["acme"], "name": "Took the id"}))
    before = state(runtime, tenant["tenant_id"])
    with pytest.raises(Conflict, match="cannot come back"):
        snapshots.restore(runtime.db, tenant["tenant_id"], "base")
    assert runs == [True, False]
    assert state(runtime, tenant["tenant_id"]) == before


def test_a_foreign_key_that_cannot_be_checked_set_wise_restores_with_the_checks(
        runtime, tenant, world, runs, monkeypatch):
    """A key of several columns (none in polycrm's schema) leaves no catalog to check by."""
    snapshots.save(runtime.db, tenant["tenant_id"], "base")
    before = state(runtime, tenant["tenant_id"])
    with workspace(runtime, tenant) as ws:
        customers.create(ws, {"name": "Later"})
    monkeypatch.setattr(snapshots, "_foreign_keys", lambda conn: None)
    snapshots.restore(runtime.db, tenant["tenant_id"], "base")
    assert runs == [True, False]
    assert state(runtime, tenant["tenant_id"]) == before


def test_the_catalog_has_every_key_of_the_models(runtime):
    from polycrm.core.models import Base

    with runtime.db.engine.connect() as conn:
        keys = snapshots._foreign_keys(conn)
    assert keys is not None
    found = {(k.child, k.column, k.parent, k.pointed) for ks in keys.of.values() for k in ks}
    expected = {(t.name, fk.parent.name, fk.column.table.name, fk.column.name)
                for t in Base.metadata.tables.values() for fk in t.foreign_keys}
    assert expected <= found


def test_postgresql_without_the_right_to_set_the_replication_role_restores_with_the_checks(
        runtime, tenant, world, runs, statements, monkeypatch):
    if runtime.db.is_sqlite:
        pytest.skip("PostgreSQL's session_replication_role")
    with runtime.db.engine.connect() as conn, conn.begin():
        assert snapshots._may_set_checks_aside(conn) is True  # the tests' role is a superuser
        conn.connection.info.pop(snapshots._MAY_SET_ASIDE)
        conn.exec_driver_sql("SET LOCAL ROLE pg_monitor")  # a built-in role without that right
        assert snapshots._may_set_checks_aside(conn) is False
        conn.connection.info.pop(snapshots._MAY_SET_ASIDE)
    snapshots.save(runtime.db, tenant["tenant_id"], "base")
    before = state(runtime, tenant["tenant_id"])
    with workspace(runtime, tenant) as ws:
        customers.delete(ws, ws.get(Customer, world["acme"]))
    monkeypatch.setattr(snapshots, "_may_set_checks_aside", lambda conn: False)
    statements.clear()
    snapshots.restore(runtime.db, tenant["tenant_id"], "base")
    assert runs == [True]
    assert not [s for s in statements if "session_replication_role" in s]
    assert state(runtime, tenant["tenant_id"]) == before


def test_postgresql_has_no_trigger_a_replica_role_would_skip(runtime):
    """session_replication_role = replica skips every ordinary trigger, not only the foreign
    keys' internal ones: a restore relies on there being none (a new one must be kept by it)."""
    if runtime.db.is_sqlite:
        pytest.skip("PostgreSQL's triggers")
    with runtime.db.engine.connect() as conn:
        found = conn.exec_driver_sql("SELECT tgrelid::regclass::text, tgname FROM pg_trigger "
                                     "WHERE NOT tgisinternal").all()
    assert found == []


def test_postgresql_reads_the_keys_again_when_its_constraints_change(runtime):
    """The catalog's keys are kept per connection while the foreign-key constraints are the same:
    a key added or dropped meanwhile is seen at once."""
    if runtime.db.is_sqlite:
        pytest.skip("PostgreSQL's kept catalog")

    def probe_keys(conn) -> set:
        keys = snapshots._foreign_keys(conn)
        conn.rollback()
        return {(k.child, k.column) for k in keys.into.get("restore_probe", [])}

    with runtime.db.engine.connect() as conn:
        assert probe_keys(conn) == set()
        assert snapshots._foreign_keys(conn) is snapshots._foreign_keys(conn)  # kept
        conn.rollback()
        raw(runtime, text("CREATE TABLE restore_probe (id integer PRIMARY KEY)"))
        try:
            raw(runtime, text("ALTER TABLE contact ADD CONSTRAINT fk_contact_probe FOREIGN KEY (profile_id) "
                              "REFERENCES restore_probe (id) NOT VALID"))
            assert probe_keys(conn) == {("contact", "profile_id")}
        finally:
            raw(runtime, text("ALTER TABLE contact DROP CONSTRAINT IF EXISTS fk_contact_probe"))
            raw(runtime, text("DROP TABLE restore_probe"))
        assert probe_keys(conn) == set()
