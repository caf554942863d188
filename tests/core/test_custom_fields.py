"""The custom field definition service: entity, name, type, slug, fixed columns."""

from __future__ import annotations

import pytest

from polycrm.core import custom_fields
from polycrm.core.errors import Conflict, Invalid
from polycrm.core.models import Product
from polycrm.core.workspace import Workspace


def ws_of(runtime, tenant) -> Workspace:
    return Workspace(runtime.db, tenant["tenant_id"], tenant["user_id"])


def test_define_change_and_retire_a_field(runtime, tenant):
    with ws_of(runtime, tenant) as ws:
        field = custom_fields.define(ws, "product", "  Größe & Co. ", field_type="select", options=[1, 2])
        assert (field.name, field.slug, field.options, field.required) == ("Größe & Co.", "grosse_co", ["1", "2"], False)
        product = ws.create(Product, name="Bolt")
        custom_fields.set_values(ws, "product", product.id, {"grosse_co": "1"})
        assert custom_fields.update(ws, field, {"required": 1, "options": ["1", "2", "3"]}) is True
        assert field.required is True
        custom_fields.remove(ws, field)
        assert custom_fields.fields(ws, "product") == []
        assert custom_fields.values(ws, "product", product.id) == {}


def test_definition_rules(runtime, tenant):
    with ws_of(runtime, tenant) as ws:
        with pytest.raises(Invalid) as caught:
            custom_fields.define(ws, "nowhere", "X")
        assert caught.value.field == "entity"
        with pytest.raises(Invalid) as caught:
            custom_fields.define(ws, "product", " ")
        assert caught.value.field == "name"
        with pytest.raises(Invalid) as caught:
            custom_fields.define(ws, "product", "X", field_type="colour")
        assert caught.value.field == "field_type"
        field = custom_fields.define(ws, "product", "Colour")
        with pytest.raises(Conflict):
            custom_fields.define(ws, "product", "colour")
        with pytest.raises(Invalid):
            custom_fields.update(ws, field, {"slug": "other"})
        with pytest.raises(Invalid):
            custom_fields.update(ws, field, {"name": ""})
        with pytest.raises(Invalid):
            custom_fields.define(ws, "product", "n" * 1000)


def test_slugs_of_other_tenants_do_not_clash(runtime, tenant, other_tenant):
    with ws_of(runtime, tenant) as ws:
        custom_fields.define(ws, "product", "Colour")
    with ws_of(runtime, other_tenant) as ws:
        assert custom_fields.define(ws, "product", "Colour").slug == "colour"
