"""The product write service: name, lookups, the number rule, limits, tenancy."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from polycrm.core import lookups, products
from polycrm.core.errors import Conflict, Invalid, NotFound
from polycrm.core.models import Customer, Product
from polycrm.core.workspace import Workspace


def ws_of(runtime, tenant) -> Workspace:
    return Workspace(runtime.db, tenant["tenant_id"], tenant["user_id"])


def test_create_defaults_and_a_trimmed_number(runtime, tenant):
    with ws_of(runtime, tenant) as ws:
        product = products.create(ws, {"name": "Bolt", "number": "  P-1 "})
        assert (product.number, product.active, product.prices_hidden, product.deleted) == ("P-1", True, False, False)


@pytest.mark.parametrize("name", [None, "", "   "])
def test_a_product_needs_a_name(runtime, tenant, name):
    with ws_of(runtime, tenant) as ws:
        with pytest.raises(Invalid) as caught:
            products.create(ws, {"name": name} if name is not None else {"number": "X"})
        assert caught.value.field == "name"
        product = products.create(ws, {"name": "Bolt"})
        with pytest.raises(Invalid):
            products.update(ws, product, {"name": " "})


def test_a_number_is_unique_among_live_products_trimmed_and_in_any_case(runtime, tenant):
    with ws_of(runtime, tenant) as ws:
        bolt = products.create(ws, {"name": "Bolt", "number": "P-1"})
        with pytest.raises(Conflict, match="number p-1 is already used by Bolt") as caught:
            products.create(ws, {"name": "Nut", "number": " p-1 "})
        assert caught.value.field == "number"
        nut = products.create(ws, {"name": "Nut", "number": "P-2"})
        with pytest.raises(Conflict):
            products.update(ws, nut, {"number": "P-1"})
        # Keeping (or re-sending) one's own number is no conflict; blank numbers never clash.
        assert products.update(ws, bolt, {"number": "p-1", "price": 3}) is True
        products.create(ws, {"name": "A", "number": ""})
        products.create(ws, {"name": "B", "number": ""})
        # A deleted product frees its number; bringing it back checks again.
        products.delete_product(ws, nut)
        products.update(ws, bolt, {"number": "P-2"})
        with pytest.raises(Conflict):
            products.update(ws, nut, {"deleted": False})


def test_numbers_of_other_tenants_do_not_clash(runtime, tenant, other_tenant):
    with ws_of(runtime, tenant) as ws:
        products.create(ws, {"name": "Bolt", "number": "P-1"})
    with ws_of(runtime, other_tenant) as ws:
        assert products.create(ws, {"name": "Bolt", "number": "P-1"}).number == "P-1"


def test_unit_and_group_must_be_entries_of_their_lists(runtime, tenant, other_tenant):
    with ws_of(runtime, other_tenant) as ws:
        theirs = lookups.items(ws, "unit")[0].id
    with ws_of(runtime, tenant) as ws:
        unit = lookups.items(ws, "unit")[0].id
        group = lookups.items(ws, "product_group")[0].id
        product = products.create(ws, {"name": "Bolt", "unit_id": unit, "group_id": group})
        assert (product.unit_id, product.group_id) == (unit, group)
        with pytest.raises(NotFound) as caught:
            products.update(ws, product, {"group_id": unit})  # a unit is not a product group
        assert caught.value.field == "group_id"
        with pytest.raises(NotFound) as caught:
            products.create(ws, {"name": "Nut", "unit_id": theirs})
        assert caught.value.field == "unit_id"


def test_text_limits_are_checked(runtime, tenant):
    with ws_of(runtime, tenant) as ws:
        with pytest.raises(Invalid) as caught:
            products.create(ws, {"name": "Bolt", "number": "N" * 101})
        assert caught.value.field == "number"
        with pytest.raises(Invalid):
            products.create(ws, {"name": "Bolt", "description": "x" * (64 * 1024 + 1)})
        assert ws.count(select(Product)) == 0


def test_custom_inputs_are_written_with_the_product(runtime, tenant):
    from polycrm.core import custom_fields

    with ws_of(runtime, tenant) as ws:
        custom_fields.define(ws, "product", "Colour", required=True)
        with pytest.raises(Invalid, match="missing required input: colour"):
            products.create(ws, {"name": "Bolt"}, inputs={})
        # Without inputs (Microbizz, Cirrus) no custom value is touched.
        bolt = products.create(ws, {"name": "Bolt"})
        assert products.update(ws, bolt, {}, inputs={"colour": "red"}) is True
        assert custom_fields.values(ws, "product", bolt.id) == {"colour": "red"}


def test_by_number_or_key_finds_the_product_a_client_means(runtime, tenant):
    with ws_of(runtime, tenant) as ws:
        bolt = products.create(ws, {"name": "Bolt", "number": "P-1"})
        assert products.by_number_or_key(ws, "p-1 ") is bolt
        assert products.by_number_or_key(ws, "P-9") is None
        ws.create(Customer, name="unrelated")
