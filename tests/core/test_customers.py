"""The customer service (polycrm.core.customers.SERVICE): the rules every API and page share."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from polycrm.core import custom_fields, customers, lookups
from polycrm.core.errors import Conflict, Invalid, NotFound
from polycrm.core.models import Contact, Customer, Lookup, Profile, User
from polycrm.core.workspace import Workspace


def ws_of(runtime, tenant) -> Workspace:
    return Workspace(runtime.db, tenant["tenant_id"], tenant["user_id"])


def test_a_new_customer_gets_the_default_type_and_the_acting_user(runtime, tenant):
    with ws_of(runtime, tenant) as ws:
        created = customers.create(ws, {"name": "Defaults"})
        assert created.type_id == lookups.default(ws, "customer_type").id
        assert created.user_id == tenant["user_id"]
        given = customers.create(ws, {"name": "Given", "type_id": None, "user_id": None})
        assert (given.type_id, given.user_id) == (None, None)


@pytest.mark.parametrize("name", ["", "   ", None])
def test_the_name_is_required(runtime, tenant, name):
    with ws_of(runtime, tenant) as ws:
        with pytest.raises(Invalid, match="name must not be empty") as err:
            customers.create(ws, {"name": name})
        assert err.value.field == "name"
        kept = customers.create(ws, {"name": "Kept"})
        with pytest.raises(Invalid):
            customers.update(ws, kept, {"name": " "})
        assert customers.update(ws, kept, {"phone": "1"}) is True  # the name need not be sent again


def test_numbers_are_unique_after_trimming_and_ignoring_case(runtime, tenant):
    with ws_of(runtime, tenant) as ws:
        first = customers.create(ws, {"name": "First", "number": "C-1"})
        for clash in ("c-1", " C-1 ", "C-1"):
            with pytest.raises(Conflict, match=f"number {clash} is already used") as err:
                customers.create(ws, {"name": "Second", "number": clash})
            assert err.value.field == "number" and err.value.holder.id == first.id
        other = customers.create(ws, {"name": "Other", "number": "C-2"})
        with pytest.raises(Conflict):
            customers.update(ws, other, {"number": "c-1"})
        # Saving back its own number, even in another case, is no clash.
        assert customers.update(ws, first, {"number": "c-1"}) is True
        # A deleted customer's number is free again.
        customers.delete(ws, other)
        assert customers.create(ws, {"name": "Reuse", "number": "C-2"}).number == "C-2"
        # Without a number nothing is assigned unless asked.
        assert customers.create(ws, {"name": "Plain"}).number is None


def test_numbers_of_another_tenant_do_not_clash(runtime, tenant, other_tenant):
    with ws_of(runtime, tenant) as ws:
        customers.create(ws, {"name": "Mine", "number": "X-1"})
    with ws_of(runtime, other_tenant) as ws:
        assert customers.create(ws, {"name": "Theirs", "number": "x-1"}).number == "x-1"


def test_centia_claims_the_next_free_number(runtime, tenant):
    with ws_of(runtime, tenant) as ws:
        customers.create(ws, {"name": "Text", "number": "C-900"})
        customers.create(ws, {"name": "Given", "number": "41"})
        claimed = customers.create(ws, {"name": "Claimed"}, assign_number=True)
        assert claimed.number == "42"
        assert customers.create(ws, {"name": "Blank", "number": " "}, assign_number=True).number == "43"
        with pytest.raises(Conflict):
            customers.create(ws, {"name": "Taken", "number": "42"}, assign_number=True)


def test_visiting_coordinates_are_the_customer_coordinates(runtime, tenant):
    with ws_of(runtime, tenant) as ws:
        by_column = customers.create(ws, {"name": "Columns", "latitude": 55.5, "longitude": 12.25})
        assert by_column.addresses["visiting"] == {"latitude": 55.5, "longitude": 12.25}
        by_address = customers.create(ws, {"name": "Address", "addresses.visiting.latitude": 56.1})
        assert (by_address.latitude, by_address.longitude) == (56.1, None)
        whole = customers.create(ws, {"name": "Whole", "addresses.visiting": {"city": "Aarhus", "longitude": 10.2}})
        assert (whole.latitude, whole.longitude) == (None, 10.2)
        customers.update(ws, whole, {"latitude": 57.0})
        assert whole.addresses["visiting"] == {"city": "Aarhus", "longitude": 10.2, "latitude": 57.0}
        customers.update(ws, whole, {"addresses.visiting.longitude": None})
        assert whole.longitude is None
        # Another address keeps its own coordinates.
        customers.update(ws, whole, {"addresses.postal.latitude": 1.0})
        assert whole.latitude == 57.0


def test_the_parent_exists_and_makes_no_cycle(runtime, tenant):
    with ws_of(runtime, tenant) as ws:
        grand = customers.create(ws, {"name": "Grand"})
        child = customers.create(ws, {"name": "Child", "parent_id": grand.id})
        with pytest.raises(Invalid, match="would make the customer its own ancestor") as err:
            customers.update(ws, grand, {"parent_id": child.id})
        assert err.value.field == "parent_id"
        with pytest.raises(Invalid):
            customers.update(ws, grand, {"parent_id": grand.id})
        with pytest.raises(NotFound, match="parent_id 999999 does not exist"):
            customers.create(ws, {"name": "Orphan", "parent_id": 999999})
        customers.delete(ws, grand)
        with pytest.raises(NotFound):
            customers.create(ws, {"name": "Late", "parent_id": grand.id})
        # Saving back a parent that went away is not refused.
        assert customers.update(ws, child, {"parent_id": grand.id, "phone": "2"}) is True
        assert customers.update(ws, child, {"parent_id": 0}) is True and child.parent_id is None


def test_lookups_and_references_must_be_of_this_tenant(runtime, tenant, other_tenant):
    with ws_of(runtime, other_tenant) as ws:
        their_type = lookups.default(ws, "customer_type").id
        their_group = ws.first(select(Lookup).where(Lookup.kind == "maingroup"))
        their_user = other_tenant["user_id"]
        their_customer = customers.create(ws, {"name": "Theirs"})
        their_contact = ws.create(Contact, name="Them", customer_id=their_customer.id)
        their_ids = (their_group.id if their_group else None, their_customer.id, their_contact.id)
    with ws_of(runtime, tenant) as ws:
        refused = [
            ({"type_id": their_type}, "type_id", "not found"),
            ({"user_id": their_user}, "user_id", "does not exist"),
            ({"extra.ourreference": their_user}, "extra.ourreference", "does not exist"),
            ({"extra.theirreference": their_ids[2]}, "extra.theirreference", "does not exist"),
            ({"parent_id": their_ids[1]}, "parent_id", "does not exist"),
            ({"maingroup_id": 999999}, "maingroup_id", "not found"),
        ]
        if their_ids[0]:
            refused.append(({"maingroup_id": their_ids[0]}, "maingroup_id", "not found"))
        for values, path, words in refused:
            with pytest.raises(NotFound, match=words) as err:
                customers.create(ws, {"name": "Bad", **values})
            assert err.value.field == path
        # A lookup of the wrong list is refused too.
        industry = ws.first(select(Lookup).where(Lookup.kind == "industry"))
        if industry is not None:
            with pytest.raises(NotFound):
                customers.create(ws, {"name": "Bad", "type_id": industry.id})
        assert ws.count(select(Customer).where(Customer.name == "Bad")) == 0
        assert ws.get(User, tenant["user_id"]) is not None


def test_a_text_longer_than_its_column_is_refused(runtime, tenant):
    with ws_of(runtime, tenant) as ws:
        with pytest.raises(Invalid, match="name must be at most 255 characters"):
            customers.create(ws, {"name": "x" * 256})
        with pytest.raises(Invalid, match="number must be at most 100 characters"):
            customers.create(ws, {"name": "Long", "number": "9" * 101})


def test_custom_inputs_are_written_with_the_customer(runtime, tenant):
    with ws_of(runtime, tenant) as ws:
        profile = ws.get(Profile, tenant["profile_id"])
        custom_fields.define(ws, "customer", "Region", required=True, profile_id=profile.id)
        with pytest.raises(Invalid, match="missing required input: region"):
            customers.create(ws, {"name": "No region"}, profile=profile)
        created = customers.create(ws, {"name": "North"}, profile=profile, inputs={"region": "North"})
        assert created.profile_id == profile.id
        assert custom_fields.values(ws, "customer", created.id, profile.id) == {"region": "North"}
        assert customers.update(ws, created, {}, profile=profile, inputs={"region": "South"}) is True
        assert custom_fields.values(ws, "customer", created.id, profile.id) == {"region": "South"}
        # Without a profile (Microbizz, Cirrus) no inputs are asked for.
        assert customers.create(ws, {"name": "Elsewhere"}).id
