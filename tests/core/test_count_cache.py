"""List counts kept per tenant revision (core/query/counts.py): counted once
per revision and list, counted again after any committed write of the tenant
(through this engine or another one on the same database, as another server
process), never for another tenant's write, never in a writing workspace."""

from __future__ import annotations

import contextlib
import datetime as dt

import pytest
from sqlalchemy import event

from polycrm.core import query as q
from polycrm.core.models import Contact, Customer
from polycrm.core.query import counts
from polycrm.core.workspace import Workspace
from polycrm.store.engine import Database


@contextlib.contextmanager
def count_statements(db):
    """How many statements that count rows the engine runs in the block."""
    seen: list[str] = []

    def note(_conn, _cursor, statement, *_args):
        if "count(" in statement.lower():
            seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", note)


def listed(db, tenant, *criteria, **kw) -> q.Page:
    with Workspace(db, tenant["tenant_id"], write=False) as ws:
        return q.search(ws, Customer, list(criteria), per_page=2, **kw)


def add_customers(db, tenant, *names) -> None:
    with Workspace(db, tenant["tenant_id"], tenant["user_id"]) as ws:
        for name in names:
            ws.create(Customer, name=name)


NAMED = q.Criterion("like", "name", "Count%")


def test_a_count_is_made_once_per_revision(runtime, tenant):
    add_customers(runtime.db, tenant, "Count A", "Count B", "Count C", "Other")
    with count_statements(runtime.db) as seen:
        first = listed(runtime.db, tenant, NAMED)
        again = listed(runtime.db, tenant, NAMED, page=2)
    assert (first.total, again.total) == (3, 3)
    assert [c.name for c in again.items] == ["Count C"]
    assert len(seen) == 1
    add_customers(runtime.db, tenant, "Count D")
    with count_statements(runtime.db) as seen:
        assert listed(runtime.db, tenant, NAMED).total == 4
        assert listed(runtime.db, tenant, NAMED).total == 4
    assert len(seen) == 1


def test_each_list_has_its_own_count(runtime, tenant):
    add_customers(runtime.db, tenant, "Count A", "Count B", "Other")
    assert listed(runtime.db, tenant, NAMED).total == 2
    assert listed(runtime.db, tenant).total == 3  # every live customer
    assert listed(runtime.db, tenant, q.Criterion("like", "name", "Other")).total == 1
    with Workspace(runtime.db, tenant["tenant_id"], tenant["user_id"]) as ws:
        other = [c for c in q.every(ws, Customer) if c.name == "Other"][0]
        ws.update(other, {"deleted": True})
    assert listed(runtime.db, tenant).total == 2
    assert listed(runtime.db, tenant, include_deleted=True).total == 3
    with Workspace(runtime.db, tenant["tenant_id"], write=False) as ws:
        assert q.search(ws, Contact, [NAMED]).total == 0  # another table, same criteria


def test_the_same_criteria_in_another_order_share_a_count(runtime, tenant):
    add_customers(runtime.db, tenant, "Count A", "Count B")
    active = q.Criterion("active", "active", 1)
    listed(runtime.db, tenant, NAMED, active)
    with count_statements(runtime.db) as seen:
        assert listed(runtime.db, tenant, active, NAMED).total == 2
    assert seen == []


def test_another_tenants_write_keeps_the_count(runtime, tenant, other_tenant):
    add_customers(runtime.db, tenant, "Count A")
    listed(runtime.db, tenant, NAMED)
    add_customers(runtime.db, other_tenant, "Count elsewhere")
    with count_statements(runtime.db) as seen:
        assert listed(runtime.db, tenant, NAMED).total == 1
    assert seen == []
    assert listed(runtime.db, other_tenant, NAMED).total == 1


def test_a_write_through_another_engine_is_counted_at_once(runtime, tenant):
    add_customers(runtime.db, tenant, "Count A")
    assert listed(runtime.db, tenant, NAMED).total == 1
    other = Database(runtime.db.url)  # its own pool and cache: to the database, another server process
    try:
        assert listed(other, tenant, NAMED).total == 1
        add_customers(other, tenant, "Count B")
        assert listed(runtime.db, tenant, NAMED).total == 2
        add_customers(runtime.db, tenant, "Count C")
        assert listed(other, tenant, NAMED).total == 3
    finally:
        other.dispose()


def test_a_rolled_back_write_keeps_the_count(runtime, tenant):
    add_customers(runtime.db, tenant, "Count A")
    listed(runtime.db, tenant, NAMED)
    with Workspace(runtime.db, tenant["tenant_id"], tenant["user_id"]) as ws:
        ws.create(Customer, name="Count never")
        ws.rollback()
    with count_statements(runtime.db) as seen:
        assert listed(runtime.db, tenant, NAMED).total == 1
    assert seen == []


def test_a_writing_workspace_counts_its_own_rows(runtime, tenant):
    add_customers(runtime.db, tenant, "Count A")
    listed(runtime.db, tenant, NAMED)
    with Workspace(runtime.db, tenant["tenant_id"], tenant["user_id"]) as ws:
        ws.create(Customer, name="Count B")
        with count_statements(runtime.db) as seen:
            assert q.search(ws, Customer, [NAMED]).total == 2
        assert len(seen) == 1


def test_the_cache_is_bounded(runtime, tenant, monkeypatch):
    add_customers(runtime.db, tenant, "Count A")
    cache = counts.cache_of(runtime.db)
    monkeypatch.setattr(cache, "size", 2)
    for letter in "ABC":
        listed(runtime.db, tenant, q.Criterion("like", "name", f"Count {letter}%"))
    assert len(cache) == 2
    with count_statements(runtime.db) as seen:
        listed(runtime.db, tenant, q.Criterion("like", "name", "Count C%"))  # the newest: kept
        listed(runtime.db, tenant, q.Criterion("like", "name", "Count A%"))  # the oldest: gone
    assert len(seen) == 1


def test_criteria_keys_tell_values_and_types_apart():
    key = counts.criteria_key
    assert key([q.Criterion("eq", "a", 1), q.Criterion("eq", "b", 2)]) == key(
        [q.Criterion("eq", "b", 2), q.Criterion("eq", "a", 1)])
    assert key([q.Criterion("eq", "a", 1)]) != key([q.Criterion("eq", "a", "1")])
    assert key([q.Criterion("eq", "a", 1)]) != key([q.Criterion("eq", "a", True)])
    assert key([q.Criterion("from", "d", dt.date(2026, 1, 1))]) != key([q.Criterion("from", "d", dt.date(2026, 1, 2))])
    linked = q.Criterion("linked", "id", q.LinkedTo("file", "customer", (1, 2)))
    assert key([linked]) == key([q.Criterion("linked", "id", q.LinkedTo("file", "customer", (1, 2)))])
    assert key([linked]) != key([q.Criterion("linked", "id", q.LinkedTo("file", "customer", (1, 3)))])
    has = q.Criterion("has", "id", q.Has(Contact, "customer_id", (NAMED,)))
    assert key([has]) != key([q.Criterion("has", "id", q.Has(Customer, "parent_id", (NAMED,)))])


def test_criteria_of_other_values_are_counted_every_time(runtime, tenant):
    add_customers(runtime.db, tenant, "Count A")

    class Odd:  # not a plain value: no key
        def __str__(self):
            return "Count A"

    with count_statements(runtime.db) as seen:
        assert listed(runtime.db, tenant, q.Criterion("like", "name", Odd())).total == 1
        assert listed(runtime.db, tenant, q.Criterion("like", "name", Odd())).total == 1
    assert len(seen) == 2
    with pytest.raises(Exception):
        counts.criteria_key([q.Criterion("like", "name", Odd())])
