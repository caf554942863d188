"""Core rules: tenancy, partial updates, derived fields, the change feed."""

from __future__ import annotations

import pytest
from sqlalchemy import event, select

from polycrm.core import lookups
from polycrm.core.changes import changed_since
from polycrm.core.errors import TenancyError
from polycrm.core.models import Customer, Lookup
from polycrm.core.workspace import Workspace


def test_queries_are_scoped_to_the_tenant(runtime, tenant, other_tenant):
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        mine = ws.create(Customer, name="Mine")
    with Workspace(runtime.db, other_tenant["tenant_id"]) as ws:
        ws.create(Customer, name="Theirs")
        assert ws.get(Customer, mine.id) is None
        assert [c.name for c in ws.scalars(select(Customer))] == ["Theirs"]


def test_get_reads_a_row_once_per_unit_of_work(runtime, tenant, other_tenant):
    """A face checks a reference, the service checks it again, the reply shows
    it: one query, even when the caller kept no reference to the row."""
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        ids = ws.create(Customer, name="Mine").id, ws.create(Customer, name="Gone", deleted=True).id
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        ran: list[str] = []
        event.listen(ws.session.connection(), "before_cursor_execute", lambda *args: ran.append(args[2]))
        for _ in range(3):
            assert ws.get(Customer, ids[0]).name == "Mine"
            assert ws.get(Customer, ids[1], include_deleted=False) is None
        assert ws.get(Customer, ids[1]).name == "Gone"
        assert len(ran) == 2
    with Workspace(runtime.db, tenant["tenant_id"], write=False) as theirs:
        row = theirs.get(Customer, ids[0])
    with Workspace(runtime.db, other_tenant["tenant_id"]) as ws:
        assert ws.get(Customer, ids[0]) is None
        ws.session.merge(row, load=False)  # another tenant's row in this session's identity map
        assert ws.get(Customer, ids[0]) is None


def test_a_session_without_tenant_refuses_tenant_queries(runtime):
    with runtime.db.session() as session, pytest.raises(TenancyError):
        session.scalars(select(Customer)).all()


def test_writing_another_tenants_row_is_refused(runtime, tenant, other_tenant):
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        mine = ws.create(Customer, name="Mine")
    ws = Workspace(runtime.db, other_tenant["tenant_id"])
    with pytest.raises(TenancyError):
        with ws:
            obj = ws.session.merge(mine)
            obj.name = "stolen"
            ws.flush()
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        assert ws.get(Customer, mine.id).name == "Mine"


def test_partial_update_keeps_other_fields_and_json_parts(runtime, tenant):
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        c = ws.create(Customer, {"name": "Acme", "phone": "1", "addresses.visiting.city": "Aarhus", "extra.trade": "x"})
        ws.update(c, {"addresses.visiting.zip": "8000", "extra.team": 4})
        assert c.addresses == {"visiting": {"city": "Aarhus", "zip": "8000"}}
        assert c.extra == {"trade": "x", "team": 4}
        assert c.phone == "1"
        assert c.name_folded == "acme"
        assert "aarhus" in c.search_text


def test_unchanged_update_keeps_changed_at(runtime, tenant):
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        c = ws.create(Customer, name="Acme")
        before = c.changed_at
        assert ws.update(c, {"name": "Acme"}) is False
        assert c.changed_at == before


def test_change_feed_pages_in_id_order(runtime, tenant):
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        ids = [ws.create(Customer, name=f"c{i}").id for i in range(5)]
        page1 = changed_since(ws, Customer, None, limit=3)
        page2 = changed_since(ws, Customer, None, after_id=page1[-1]["id"], limit=3)
        assert [r["id"] for r in page1 + page2] == ids


def test_new_tenant_has_usable_defaults(runtime, tenant):
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        assert lookups.by_code(ws, "activity_type", "call") is not None
        assert lookups.default(ws, "customer_type").name == "Customer"
        assert len(ws.scalars(select(Lookup).where(Lookup.kind == "stage"))) == 5
