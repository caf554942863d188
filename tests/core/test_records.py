"""records.RecordService: the write path of record kinds (leads, missions, objects, ...)."""

from __future__ import annotations

import pytest

from polycrm.core import assets, bankid, missions, records
from polycrm.core.errors import Invalid
from polycrm.core.workspace import Workspace


def ws_of(runtime, tenant) -> Workspace:
    return Workspace(runtime.db, tenant["tenant_id"], tenant["user_id"])


@pytest.mark.parametrize("service,kind", [(records.LEADS, "lead"), (records.SUBSCRIPTIONS, "subscription"),
                                          (records.TEMPLATES, "template"), (missions.SERVICE, "mission"),
                                          (assets.OBJECTS, "object"), (assets.CONTRACTS, "contract")])
def test_a_record_gets_its_kind_starts_active_and_keeps_its_kind(runtime, tenant, service, kind):
    with ws_of(runtime, tenant) as ws:
        record = service.create(ws, {"name": "First", "kind": "something else"})
        assert (record.kind, record.active) == (kind, True)
        assert service.create(ws, {"name": "Idle", "active": False}).active is False
        assert service.update(ws, record, {"name": "Renamed", "kind": kind})
        with pytest.raises(Invalid) as exc:
            service.update(ws, record, {"kind": "other"})
        assert exc.value.field == "kind"
        assert record.kind == kind


def test_a_signature_nonce_is_replaced(runtime, tenant):
    with ws_of(runtime, tenant) as ws:
        record = bankid.start(ws, abstract="Sign this", nonce="first")
        bankid.set_nonce(ws, record, "second")
        assert record.extra["nonce"] == "second"
