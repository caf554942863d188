"""tickets.SERVICE: the one write path of a ticket."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from polycrm.core import lookups, opportunities, tickets
from polycrm.core.errors import Invalid, NotFound
from polycrm.core.models import Activity, Contact, Customer
from polycrm.core.workspace import Workspace


def ws_of(runtime, tenant) -> Workspace:
    return Workspace(runtime.db, tenant["tenant_id"], tenant["user_id"])


def test_open_by_default_and_status_checked(runtime, tenant):
    with ws_of(runtime, tenant) as ws:
        assert tickets.create(ws, {"title": "Broken"}).status == "open"
        with pytest.raises(Invalid) as exc:
            tickets.create(ws, {"title": "Broken", "status": "pending"})
        assert exc.value.field == "status"


@pytest.mark.parametrize("field,kind", [("origin_id", "priority"), ("case_id", "ticket_origin"),
                                        ("priority_id", "ticket_case")])
def test_lookups_must_be_of_their_kind(runtime, tenant, field, kind):
    with ws_of(runtime, tenant) as ws:
        entry = lookups.items(ws, kind)[0] if lookups.items(ws, kind) else lookups.save(ws, kind, {"name": "x"})
        with pytest.raises(Invalid) as exc:
            tickets.create(ws, {"title": "T", field: entry.id})
        assert exc.value.field == field


def test_contact_and_opportunity_belong_to_the_customer(runtime, tenant):
    with ws_of(runtime, tenant) as ws:
        mine, other = ws.create(Customer, name="Mine"), ws.create(Customer, name="Other")
        stranger = ws.create(Contact, name="S", customer_id=other.id)
        theirs = opportunities.create(ws, {"title": "Deal", "customer_id": other.id})
        with pytest.raises(Invalid, match="does not belong"):
            tickets.create(ws, {"title": "T", "customer_id": mine.id, "contact_id": stranger.id})
        with pytest.raises(Invalid, match="does not belong"):
            tickets.create(ws, {"title": "T", "customer_id": mine.id, "opportunity_id": theirs.id})


def test_another_tenants_customer_is_refused(runtime, tenant, other_tenant):
    with Workspace(runtime.db, other_tenant["tenant_id"]) as ws:
        theirs = ws.create(Customer, name="Theirs").id
    with ws_of(runtime, tenant) as ws:
        with pytest.raises(NotFound) as exc:
            tickets.create(ws, {"title": "T", "customer_id": theirs})
        assert exc.value.field == "customer_id"


def test_notify_uses_the_comment(runtime, tenant):
    with ws_of(runtime, tenant) as ws:
        made = tickets.create(ws, {"title": "T", "user_id": tenant["user_id"]}, notify=True, comment="Urgent")
        (task,) = ws.scalars(select(Activity).where(Activity.description == "Urgent"))
        assert task.extra["about_kind"] == "ticket" and task.extra["about_id"] == made.id


def test_a_70_kb_description_is_refused(runtime, tenant):
    with ws_of(runtime, tenant) as ws:
        with pytest.raises(Invalid) as exc:
            tickets.create(ws, {"title": "T", "description": "x" * 70_000})
        assert exc.value.field == "description"
