"""calls.SERVICE: the one write path of an activity (and of a lead activity)."""

from __future__ import annotations

import datetime as dt

import pytest

from polycrm.core import calls, lookups
from polycrm.core.errors import Invalid, NotFound
from polycrm.core.models import Contact, Customer, Record, User
from polycrm.core.workspace import Workspace


def ws_of(runtime, tenant) -> Workspace:
    return Workspace(runtime.db, tenant["tenant_id"], tenant["user_id"])


def test_defaults_type_owner_open_and_times(runtime, tenant):
    with ws_of(runtime, tenant) as ws:
        start = dt.datetime(2026, 3, 2, 9, 0)
        activity = calls.SERVICE.create(ws, {"description": "Visit", "start": start, "duration": 30})
        assert activity.type_id == lookups.default(ws, "activity_type").id
        assert (activity.user_id, activity.closed) == (tenant["user_id"], False)
        assert activity.date == start.date() and activity.stop == start + dt.timedelta(minutes=30)
        meeting = lookups.by_code(ws, "activity_type", "meeting")
        given = calls.SERVICE.create(ws, {"type_id": meeting.id, "date": dt.date(2026, 1, 1), "start": start})
        assert given.type_id == meeting.id and given.date == dt.date(2026, 1, 1)


def test_a_call_gets_the_call_type_and_ends_through_the_service(runtime, tenant):
    with ws_of(runtime, tenant) as ws:
        call = calls.create(ws, {"phonenumber": "1", "start": dt.datetime(2026, 1, 1, 10)}, None)
        assert call.type_id == calls.call_type_id(ws) and not call.closed
        calls.end(ws, call.id, duration=5, result="ok", answer=None)
        assert call.closed and call.stop == dt.datetime(2026, 1, 1, 10, 5)
        with pytest.raises(Invalid):
            calls.end(ws, call.id, duration=-1, result=None, answer=None)


def test_mark_done_closes_and_sets_the_progression(runtime, tenant):
    with ws_of(runtime, tenant) as ws:
        activity = calls.SERVICE.create(ws, {"description": "x"})
        assert calls.mark_done(ws, activity) is True
        assert activity.closed and activity.progressionstate_id == lookups.by_name(ws, "activity_progression", "Done").id


@pytest.mark.parametrize("field,kind", [("type_id", "priority"), ("priority_id", "activity_type"),
                                        ("progressionstate_id", "activity_type")])
def test_lookups_must_be_of_their_kind(runtime, tenant, field, kind):
    with ws_of(runtime, tenant) as ws:
        wrong = lookups.items(ws, kind)[0]
        with pytest.raises(Invalid) as exc:
            calls.SERVICE.create(ws, {field: wrong.id})
        assert exc.value.field == field


@pytest.mark.parametrize("field,model", [("customer_id", Customer), ("contact_id", Contact), ("user_id", User)])
def test_another_tenants_records_are_refused(runtime, tenant, other_tenant, field, model):
    with Workspace(runtime.db, other_tenant["tenant_id"]) as ws:
        customer = ws.create(Customer, name="Theirs")
        theirs = {Customer: lambda: customer,
                  Contact: lambda: ws.create(Contact, name="Pia", customer_id=customer.id),
                  User: lambda: ws.get(User, other_tenant["user_id"])}[model]().id
    with ws_of(runtime, tenant) as ws:
        with pytest.raises(NotFound) as exc:
            calls.SERVICE.create(ws, {"description": "x", field: theirs})
        assert exc.value.field == field


def test_a_70_kb_description_is_refused(runtime, tenant):
    with ws_of(runtime, tenant) as ws:
        with pytest.raises(Invalid) as exc:
            calls.SERVICE.create(ws, {"description": "x" * 70_000})
        assert exc.value.field == "description"


def test_lead_activities_hang_off_a_lead(runtime, tenant):
    with ws_of(runtime, tenant) as ws:
        lead = ws.create(Record, kind="lead", name="Lead")
        other = ws.create(Record, kind="mission", name="Not a lead")
        made = calls.LEAD_ACTIVITIES.create(ws, {"parent_id": lead.id})
        assert (made.kind, made.active) == ("lead_activity", True)
        with pytest.raises(NotFound):
            calls.LEAD_ACTIVITIES.create(ws, {"parent_id": other.id})
        with pytest.raises(Invalid):
            calls.LEAD_ACTIVITIES.create(ws, {"extra.type_id": lookups.items(ws, "priority")[0].id})
