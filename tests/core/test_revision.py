"""The tenant's change revision (core/revision.py): one more per committed
transaction that wrote the tenant's data, nothing for reads, rollbacks or other
tenants; seen at once through another engine on the same database (what
another server process is to the database)."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from polycrm.core import revision, tenants
from polycrm.core.errors import Invalid
from polycrm.core.models import Customer
from polycrm.core.workspace import Workspace
from polycrm.sandbox import snapshots
from polycrm.store.engine import Database
from tests.test_cli import polycrm_command


def stored_revision(db, tenant) -> int:
    return revision.stored(db, tenant["tenant_id"])


def writing(runtime, tenant) -> Workspace:
    return Workspace(runtime.db, tenant["tenant_id"], tenant["user_id"], blobs=runtime.blobs)


def test_a_committed_write_counts_once(runtime, tenant, other_tenant):
    before, others = stored_revision(runtime.db, tenant), stored_revision(runtime.db, other_tenant)
    with writing(runtime, tenant) as ws:
        first = ws.create(Customer, name="One")
        ws.create(Customer, name="Two")
        ws.update(first, {"name": "One again"})
    assert stored_revision(runtime.db, tenant) == before + 1
    assert stored_revision(runtime.db, other_tenant) == others


def test_savepoints_count_with_their_transaction(runtime, tenant):
    before = stored_revision(runtime.db, tenant)
    with writing(runtime, tenant) as ws:
        for name in ("A", "B", "C"):  # as a Microbizz batch runs its commands
            with ws.atomic():
                ws.create(Customer, name=name)
        with pytest.raises(Invalid), ws.atomic():
            ws.create(Customer, name="D")
            raise Invalid("refused")
    assert stored_revision(runtime.db, tenant) == before + 1


def test_reads_rollbacks_and_empty_transactions_do_not_count(runtime, tenant):
    before = stored_revision(runtime.db, tenant)
    with Workspace(runtime.db, tenant["tenant_id"], write=False) as ws:
        assert revision.current(ws) == before
        ws.scalars(Customer.__table__.select())
    with writing(runtime, tenant):
        pass  # a writing workspace that wrote nothing
    with pytest.raises(Invalid), writing(runtime, tenant) as ws:
        ws.create(Customer, name="Never")
        raise Invalid("refused")
    with writing(runtime, tenant) as ws:
        ws.create(Customer, name="Undone")
        ws.rollback()
    assert stored_revision(runtime.db, tenant) == before


def test_a_read_only_workspace_keeps_the_revision_it_first_saw(runtime, tenant):
    with Workspace(runtime.db, tenant["tenant_id"], write=False) as reader:
        seen = revision.current(reader)
        with writing(runtime, tenant) as ws:
            ws.create(Customer, name="Meanwhile")
        # The reader's data may be older than the write; so is the revision it keeps.
        assert revision.current(reader) == seen
    with Workspace(runtime.db, tenant["tenant_id"], write=False) as reader:
        assert revision.current(reader) == seen + 1
    with writing(runtime, tenant) as ws:
        assert revision.current(ws) == seen + 1
        ws.create(Customer, name="Mine")
        assert revision.current(ws) == seen + 1  # counted when it commits
    assert stored_revision(runtime.db, tenant) == seen + 2


def test_a_write_through_another_engine_is_seen_at_once(runtime, tenant):
    other = Database(runtime.db.url)  # its own pool: to the database, another server process
    try:
        before = stored_revision(runtime.db, tenant)
        with Workspace(other, tenant["tenant_id"], tenant["user_id"]) as ws:
            ws.create(Customer, name="From elsewhere")
        assert stored_revision(runtime.db, tenant) == before + 1
    finally:
        other.dispose()


def test_a_load_in_another_process_counts_once(runtime, tenant, tmp_path):
    path = tmp_path / "customers.jsonl"
    path.write_text("".join(json.dumps({"name": f"Loaded {i}"}) + "\n" for i in range(5)))
    before = stored_revision(runtime.db, tenant)
    done = subprocess.run(
        [*polycrm_command(), "load", "--tenant", tenant["tenant"], str(path), "--entity", "customers",
         "--database", runtime.db.url],
        env=dict(os.environ), capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert stored_revision(runtime.db, tenant) == before + 1


def test_a_failed_load_does_not_count(runtime, tenant, tmp_path):
    path = tmp_path / "customers.jsonl"
    path.write_text(json.dumps({"name": "Fine"}) + "\n" + json.dumps({"name": " "}) + "\n")
    before = stored_revision(runtime.db, tenant)
    done = subprocess.run(
        [*polycrm_command(), "load", "--tenant", tenant["tenant"], str(path), "--entity", "customers",
         "--database", runtime.db.url],
        env=dict(os.environ), capture_output=True, text=True, timeout=300,
    )
    assert done.returncode != 0
    assert stored_revision(runtime.db, tenant) == before


def test_snapshot_restore_and_reset_count(runtime, tenant):
    snapshots.save(runtime.db, tenant["tenant_id"], "before")
    with writing(runtime, tenant) as ws:
        ws.create(Customer, name="After the snapshot")
    before = stored_revision(runtime.db, tenant)
    snapshots.restore(runtime.db, tenant["tenant_id"], "before")
    assert stored_revision(runtime.db, tenant) == before + 1
    snapshots.reset(runtime.db, tenant["tenant_id"], "empty")
    assert stored_revision(runtime.db, tenant) == before + 2
    with pytest.raises(Exception):
        snapshots.restore(runtime.db, tenant["tenant_id"], "no-such-snapshot")
    assert stored_revision(runtime.db, tenant) == before + 2


def test_a_new_tenant_starts_from_its_own_revision(runtime):
    made = tenants.create(runtime.db, tenants.NewTenant(name="revision-fresh-" + os.urandom(4).hex()))
    # Its creation wrote its admin, profile and lists: one transaction.
    assert stored_revision(runtime.db, made) == 1
