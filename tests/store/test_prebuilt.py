"""Prebuilt statements run on the DBAPI cursor (polycrm/store/prebuilt.py) give
the same values, of the same types, as SQLAlchemy's own execution of them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import event

from polycrm.core import revision
from polycrm.core.models import Customer, Product
from polycrm.core.query import rows
from polycrm.core.workspace import Workspace
from polycrm.store import prebuilt


@pytest.fixture
def seen_by_sqlalchemy(runtime):
    """Statements SQLAlchemy's execution sees; attaching it sends prebuilt ones through SQLAlchemy too."""
    seen: list[str] = []

    def note(_conn, _cursor, statement, *_args):
        seen.append(statement)

    return seen, note


def _read(runtime, tenant, model, ids, listener=None):
    with Workspace(runtime.db, tenant["tenant_id"], write=False) as ws:
        if listener is not None:
            event.listen(ws.session.connection(), "before_cursor_execute", listener)
        return rows.by_ids(ws, model, ids)


def test_values_and_types_match_sqlalchemys(runtime, tenant, seen_by_sqlalchemy, monkeypatch):
    with Workspace(runtime.db, tenant["tenant_id"], tenant["user_id"]) as ws:
        customer = ws.create(Customer, name="Prebuilt AB", active=False, latitude=59.5,
                             addresses={"visiting": {"city": "Malmö", "street": "Gatan 1"}})
        product = ws.create(Product, name="Widget", price=Decimal("12.5000"), prices_hidden=True)
        ws.session.flush()
        ids = (customer.id, product.id)
    ran: list[str] = []
    plain_run = prebuilt.Compiled.run
    monkeypatch.setattr(prebuilt.Compiled, "run", lambda self, *a: ran.append(self.sql) or plain_run(self, *a))

    fast_customer = _read(runtime, tenant, Customer, [ids[0]])[ids[0]]
    fast_product = _read(runtime, tenant, Product, [ids[1]])[ids[1]]
    assert len(ran) == 2  # both on the cursor

    seen, note = seen_by_sqlalchemy
    slow_customer = _read(runtime, tenant, Customer, [ids[0]], note)[ids[0]]
    slow_product = _read(runtime, tenant, Product, [ids[1]], note)[ids[1]]
    assert len(ran) == 2 and len(seen) >= 2  # a listener sees them: they went through SQLAlchemy

    assert fast_customer == slow_customer and fast_product == slow_product
    for fast, slow in ((fast_customer, slow_customer), (fast_product, slow_product)):
        assert [type(v) for v in fast] == [type(v) for v in slow]
    assert fast_customer.active is False and fast_customer.deleted is False
    assert isinstance(fast_customer.created_at, dt.datetime)
    assert fast_customer.addresses["visiting"]["city"] == "Malmö"
    assert fast_product.price == Decimal("12.5") and isinstance(fast_product.price, Decimal)
    assert fast_product.prices_hidden is True


def test_an_expanding_list_goes_through_sqlalchemy(runtime, tenant, monkeypatch):
    with Workspace(runtime.db, tenant["tenant_id"], tenant["user_id"]) as ws:
        made = [ws.create(Customer, name=f"Many {i}") for i in range(rows.INLINE_VALUES + 3)]
        ws.session.flush()
        ids = [c.id for c in made]
    ran: list[str] = []
    plain_run = prebuilt.Compiled.run
    monkeypatch.setattr(prebuilt.Compiled, "run", lambda self, *a: ran.append(self.sql) or plain_run(self, *a))
    found = _read(runtime, tenant, Customer, ids)
    assert sorted(found) == sorted(ids) and not ran
    assert [found[i].name for i in ids] == [f"Many {i}" for i in range(len(ids))]


def test_prebuilt_reads_stay_in_their_tenant(runtime, tenant, other_tenant):
    with Workspace(runtime.db, other_tenant["tenant_id"], other_tenant["user_id"]) as ws:
        theirs = ws.create(Customer, name="Theirs")
        ws.session.flush()
        their_id = theirs.id
    assert _read(runtime, tenant, Customer, [their_id]) == {}
    assert set(_read(runtime, other_tenant, Customer, [their_id])) == {their_id}


def test_the_revision_read_sees_committed_writes(runtime, tenant):
    def now() -> int:
        with runtime.db.engine.connect() as conn:
            return revision.read(conn, tenant["tenant_id"])

    before = now()
    with Workspace(runtime.db, tenant["tenant_id"], tenant["user_id"]) as ws:
        ws.create(Customer, name="Counted")
    assert now() == before + 1
    with runtime.db.engine.connect() as conn:
        assert revision.read(conn, 2**31 - 1) == 0  # no such tenant
