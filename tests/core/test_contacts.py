"""The contact service (polycrm.core.contacts.SERVICE): the rules every API and page share."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from polycrm.core import contacts, custom_fields, customers, lookups
from polycrm.core.errors import Invalid, NotFound
from polycrm.core.models import Contact, Profile
from polycrm.core.workspace import Workspace


def ws_of(runtime, tenant) -> Workspace:
    return Workspace(runtime.db, tenant["tenant_id"], tenant["user_id"])


def test_a_contact_needs_a_name(runtime, tenant):
    with ws_of(runtime, tenant) as ws:
        with pytest.raises(Invalid, match="name must not be empty"):
            contacts.create(ws, {"name": " ", "surname": "Holm"})
        created = contacts.create(ws, {"name": "Lise"})
        with pytest.raises(Invalid):
            contacts.update(ws, created, {"name": ""})
        assert contacts.update(ws, created, {"surname": "Holm"}) is True


def test_the_customer_and_superior_are_live_rows_of_this_tenant(runtime, tenant, other_tenant):
    with ws_of(runtime, other_tenant) as ws:
        theirs = customers.create(ws, {"name": "Theirs"})
        their_contact = contacts.create(ws, {"name": "Them", "customer_id": theirs.id})
        their_ids = (theirs.id, their_contact.id)
    with ws_of(runtime, tenant) as ws:
        with pytest.raises(NotFound, match=f"customer_id {their_ids[0]} does not exist") as err:
            contacts.create(ws, {"name": "Bad", "customer_id": their_ids[0]})
        assert err.value.field == "customer_id"
        with pytest.raises(NotFound) as err:
            contacts.create(ws, {"name": "Bad", "superior_id": their_ids[1]})
        assert err.value.field == "superior_id"
        mine = customers.create(ws, {"name": "Mine"})
        boss = contacts.create(ws, {"name": "Boss", "customer_id": mine.id})
        worker = contacts.create(ws, {"name": "Worker", "customer_id": mine.id, "superior_id": boss.id})
        with pytest.raises(Invalid, match="is the contact itself"):
            contacts.update(ws, worker, {"superior_id": worker.id})
        customers.delete(ws, mine)
        with pytest.raises(NotFound):
            contacts.create(ws, {"name": "Late", "customer_id": mine.id})
        assert contacts.update(ws, worker, {"customer_id": mine.id, "phone": "1"}) is True
        assert ws.count(select(Contact).where(Contact.name == "Bad")) == 0


def test_lookups_are_entries_of_their_list(runtime, tenant):
    with ws_of(runtime, tenant) as ws:
        customer_type = lookups.default(ws, "customer_type")
        with pytest.raises(NotFound, match=f"title_id {customer_type.id} not found"):
            contacts.create(ws, {"name": "Bad", "title_id": customer_type.id})
        origins = lookups.items(ws, "contact_origin")
        if origins:
            assert contacts.create(ws, {"name": "Good", "origin_id": origins[0].id}).origin_id == origins[0].id


def test_a_profile_contact_gets_the_profile_and_its_inputs(runtime, tenant):
    with ws_of(runtime, tenant) as ws:
        profile = ws.get(Profile, tenant["profile_id"])
        custom_fields.define(ws, "contact", "Shoe size", field_type="text", profile_id=profile.id)
        created = contacts.create(ws, {"name": "Ana"}, profile=profile, inputs={"shoe_size": "38"})
        assert created.profile_id == profile.id
        assert custom_fields.values(ws, "contact", created.id, profile.id) == {"shoe_size": "38"}
        with pytest.raises(Invalid, match="unknown input"):
            contacts.create(ws, {"name": "Bo"}, profile=profile, inputs={"hat": "L"})


def test_a_text_longer_than_its_column_is_refused(runtime, tenant):
    with ws_of(runtime, tenant) as ws:
        with pytest.raises(Invalid, match="phone must be at most 64 characters"):
            contacts.create(ws, {"name": "Long", "phone": "1" * 65})
