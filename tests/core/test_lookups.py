"""The lookups write service: kind, name, the default flag, tenancy."""

from __future__ import annotations

import pytest

from polycrm.core import lookups
from polycrm.core.errors import Invalid, NotFound
from polycrm.core.workspace import Workspace


def ws_of(runtime, tenant) -> Workspace:
    return Workspace(runtime.db, tenant["tenant_id"], tenant["user_id"])


def test_an_entry_names_a_known_list_and_stays_in_it(runtime, tenant):
    with ws_of(runtime, tenant) as ws:
        entry = lookups.save(ws, "unit", {"name": "box"})
        assert (entry.kind, entry.sortorder, entry.is_default) == ("unit", 0, False)
        with pytest.raises(Invalid) as caught:
            lookups.save(ws, "no_such_list", {"name": "x"})
        assert caught.value.field == "kind"
        with pytest.raises(Invalid):
            lookups.save(ws, "unit", {"kind": "brand"}, entry)
        with pytest.raises(Invalid):
            lookups.save(ws, "brand", {"name": "y"}, entry)


@pytest.mark.parametrize("name", [None, "", "  "])
def test_an_entry_needs_a_name(runtime, tenant, name):
    with ws_of(runtime, tenant) as ws:
        with pytest.raises(Invalid) as caught:
            lookups.save(ws, "unit", {} if name is None else {"name": name})
        assert caught.value.field == "name"
        entry = lookups.save(ws, "unit", {"name": "box"})
        with pytest.raises(Invalid):
            lookups.save(ws, "unit", {"name": ""}, entry)


def test_a_list_keeps_one_default(runtime, tenant):
    with ws_of(runtime, tenant) as ws:
        assert [e.name for e in lookups.items(ws, "unit") if e.is_default] == ["pcs"]
        lookups.save(ws, "unit", {"name": "box", "is_default": True})
        assert [e.name for e in lookups.items(ws, "unit") if e.is_default] == ["box"]
        # Other lists keep theirs.
        assert [e.name for e in lookups.items(ws, "priority") if e.is_default] == ["Normal"]


def test_object_categories_keep_one_default_per_code(runtime, tenant):
    with ws_of(runtime, tenant) as ws:
        lookups.save(ws, "object_category", {"name": "Rental", "code": "contracttype", "is_default": True})
        defaults = {(e.code, e.name) for e in lookups.items(ws, "object_category") if e.is_default}
        assert defaults == {("modelgroup", "Standard"), ("contracttype", "Rental"), ("contractstatus", "Active")}


def test_another_tenants_entry_is_not_found(runtime, tenant, other_tenant):
    with ws_of(runtime, other_tenant) as ws:
        theirs = lookups.save(ws, "unit", {"name": "theirs"}).id
    with ws_of(runtime, tenant) as ws:
        assert lookups.get(ws, "unit", theirs) is None
        with pytest.raises(NotFound):
            lookups.ref(ws, "unit", theirs, "unit_id")
        with pytest.raises(NotFound):
            lookups.ref(ws, "unit", 2**70, "unit_id")


def test_a_long_name_is_refused(runtime, tenant):
    with ws_of(runtime, tenant) as ws:
        with pytest.raises(Invalid) as caught:
            lookups.save(ws, "unit", {"name": "u" * 10_000})
        assert caught.value.field == "name"
