"""opportunities.SERVICE: the one write path of an opportunity."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from polycrm.core import lookups, opportunities
from polycrm.core.errors import Invalid, NotFound
from polycrm.core.models import Activity, Contact, Customer, User
from polycrm.core.workspace import Workspace


def ws_of(runtime, tenant) -> Workspace:
    return Workspace(runtime.db, tenant["tenant_id"], tenant["user_id"])


def test_defaults_status_registering_and_changing_user(runtime, tenant):
    with ws_of(runtime, tenant) as ws:
        made = opportunities.create(ws, {"title": "Deal"})
        assert made.status == "active" and made.status_id == lookups.default(ws, "opportunity_status").id
        assert made.extra["reguser_id"] == made.extra["changeuser_id"] == tenant["user_id"]
        assert not made.closed and made.closed_at is None


def test_status_and_closed_follow_the_status_list(runtime, tenant):
    with ws_of(runtime, tenant) as ws:
        made = opportunities.create(ws, {"title": "Deal"})
        won = lookups.by_code(ws, "opportunity_status", "won")
        assert opportunities.update(ws, made, {"status_id": won.id}) is True
        assert (made.status, made.closed) == ("won", True) and made.closed_at is not None
        opportunities.update(ws, made, {"status_id": lookups.default(ws, "opportunity_status").id})
        assert (made.status, made.closed, made.closed_at) == ("active", False, None)
        opportunities.delete(ws, made)
        assert made.deleted


@pytest.mark.parametrize("field,kind", [("stage_id", "priority"), ("status_id", "stage"),
                                        ("source_id", "opportunity_type"), ("extra.lostreason_id", "win_reason")])
def test_lookups_must_be_of_their_kind(runtime, tenant, field, kind):
    with ws_of(runtime, tenant) as ws:
        with pytest.raises(Invalid) as exc:
            opportunities.create(ws, {"title": "Deal", field: lookups.items(ws, kind)[0].id})
        assert exc.value.field == field


@pytest.mark.parametrize("field", ["customer_id", "contact_id", "user_id"])
def test_another_tenants_records_are_refused(runtime, tenant, other_tenant, field):
    with Workspace(runtime.db, other_tenant["tenant_id"]) as ws:
        customer = ws.create(Customer, name="Theirs")
        ids = {"customer_id": customer.id, "contact_id": ws.create(Contact, name="P", customer_id=customer.id).id,
               "user_id": other_tenant["user_id"]}
    with ws_of(runtime, tenant) as ws:
        with pytest.raises(NotFound) as exc:
            opportunities.create(ws, {"title": "Deal", field: ids[field]})
        assert exc.value.field == field


def test_the_contact_must_be_the_customers_where_asked(runtime, tenant):
    with ws_of(runtime, tenant) as ws:
        mine, other = ws.create(Customer, name="Mine"), ws.create(Customer, name="Other")
        stranger = ws.create(Contact, name="S", customer_id=other.id)
        values = {"title": "Deal", "customer_id": mine.id, "contact_id": stranger.id}
        with pytest.raises(Invalid, match="does not belong"):
            opportunities.create(ws, values, contact_of_customer=True)
        assert opportunities.create(ws, values).contact_id == stranger.id


def test_notify_tells_the_user_once(runtime, tenant):
    with ws_of(runtime, tenant) as ws:
        made = opportunities.create(ws, {"title": "Deal", "user_id": tenant["user_id"]}, notify=True)
        (task,) = ws.scalars(select(Activity).where(Activity.opportunity_id == made.id))
        assert (task.user_id, task.description) == (tenant["user_id"], "New opportunity: Deal")
        assert ws.get(User, tenant["user_id"]) is not None


def test_a_70_kb_description_is_refused(runtime, tenant):
    with ws_of(runtime, tenant) as ws:
        with pytest.raises(Invalid) as exc:
            opportunities.create(ws, {"title": "Deal", "description": "x" * 70_000})
        assert exc.value.field == "description"
