"""The existence checks of a write (lookups.exists, rows.is_live): live rows of
this tenant only, the right list for a lookup, and what the same transaction
wrote and did not flush yet."""

from __future__ import annotations

import pytest

from polycrm.core import customers, lookups
from polycrm.core.errors import NotFound
from polycrm.core.models import Customer
from polycrm.core.query import rows
from polycrm.core.workspace import Workspace


def writing(runtime, tenant) -> Workspace:
    return Workspace(runtime.db, tenant["tenant_id"], tenant["user_id"], blobs=runtime.blobs)


def test_a_lookup_exists_only_live_and_in_its_own_list(runtime, tenant, other_tenant):
    with writing(runtime, tenant) as ws:
        live = lookups.SERVICE.create(ws, {"kind": "customer_type", "name": "Live"}).id
        gone = lookups.SERVICE.create(ws, {"kind": "customer_type", "name": "Gone"})
        lookups.SERVICE.delete(ws, gone)
    with writing(runtime, tenant) as ws:
        assert lookups.exists(ws, "customer_type", live)
        assert not lookups.exists(ws, "industry", live)
        assert not lookups.exists(ws, "customer_type", gone.id)
        assert not lookups.exists(ws, "customer_type", "abc")
        assert not lookups.exists(ws, "customer_type", 99999999999999999999)
    with writing(runtime, other_tenant) as ws:
        assert not lookups.exists(ws, "customer_type", live)


def test_a_row_created_in_the_same_transaction_is_live(runtime, tenant, other_tenant):
    with writing(runtime, tenant) as ws:
        obj = ws.create(Customer, name="New")
        assert rows.is_live(ws, Customer, obj.id)
        ws.delete(obj)
        assert not rows.is_live(ws, Customer, obj.id)
    with writing(runtime, other_tenant) as ws:
        assert not rows.is_live(ws, Customer, obj.id)


def test_a_customer_naming_a_deleted_type_is_refused(runtime, tenant):
    with writing(runtime, tenant) as ws:
        gone = lookups.SERVICE.create(ws, {"kind": "customer_type", "name": "Gone"})
        lookups.SERVICE.delete(ws, gone)
    with pytest.raises(NotFound, match=f"type_id {gone.id} not found"), writing(runtime, tenant) as ws:
        customers.SERVICE.create(ws, {"name": "A", "type_id": gone.id})
    with pytest.raises(NotFound, match="user_id 999999 does not exist"), writing(runtime, tenant) as ws:
        customers.SERVICE.create(ws, {"name": "A", "user_id": 999999})
