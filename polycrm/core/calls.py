"""Calls: activities whose type is the ``call`` activity type."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sqlalchemy import or_, select

from polycrm.core import lookups
from polycrm.core.errors import Invalid, NotFound
from polycrm.core.models import Activity, Contact, Customer, User
from polycrm.core.workspace import Workspace


def call_type_id(ws: Workspace) -> int:
    """The id of the ``call`` activity type, recreated if someone removed it."""
    found = lookups.by_code(ws, "activity_type", "call")
    if found is None:
        found = lookups.save(ws, "activity_type", {"name": "Call", "code": "call"})
    return found.id


def _digits(number: str) -> str:
    return re.sub(r"\D", "", number or "")


def match_phone(ws: Workspace, number: str) -> tuple[int | None, int | None]:
    """The customer (and contact) a phone number belongs to, if exactly known."""
    if len(_digits(number)) < 4:
        return None, None
    contact = ws.first(
        select(Contact).where(or_(Contact.phone == number, Contact.cellphone == number), Contact.deleted.is_(False))
    )
    if contact is not None:
        return contact.customer_id, contact.id
    customer = ws.first(
        select(Customer).where(or_(Customer.phone == number, Customer.cellphone == number), Customer.deleted.is_(False))
    )
    return (customer.id if customer else None), None


def register(ws: Workspace, values: dict[str, Any]) -> Activity:
    """Record a call that already happened (it did not start in the CRM)."""
    customer_id, contact_id = match_phone(ws, values.get("phonenumber") or "")
    data = {
        "type_id": call_type_id(ws),
        "user_id": ws.user_id,
        "customer_id": customer_id,
        "contact_id": contact_id,
        "closed": True,
        **values,
    }
    _place(data)
    return ws.create(Activity, data)


def _place(data: dict[str, Any]) -> None:
    """The date of a call with a start, and its end when its length is known
    (as ``end`` does), so every API reads the same times."""
    start = data.get("start")
    if start is None:
        return
    data["date"] = start.date()
    if data.get("duration") and data.get("stop") is None:
        data["stop"] = start + dt.timedelta(minutes=data["duration"])


def minutes(duration: int | None, start: dt.datetime | None, stop: dt.datetime | None) -> int | None:
    """A call's length in minutes: as recorded, else from its start and end
    (an activity planned through another API has times, not a duration)."""
    if duration is not None:
        return duration
    if start is not None and stop is not None and stop >= start:
        return int((stop - start).total_seconds() // 60)
    return None


def create(ws: Workspace, values: dict[str, Any], user_id: int | None) -> Activity:
    """Plan a call for a user (the caller by default); it stays pending until ended."""
    owner = user_id or ws.user_id
    if owner and ws.get(User, owner) is None:
        raise NotFound(f"user {owner} not found", field="userid")
    data = {"type_id": call_type_id(ws), "closed": False, **values, "user_id": owner}
    _place(data)
    if data.get("customer_id") and ws.get(Customer, data["customer_id"]) is None:
        raise NotFound(f"customer {data['customer_id']} not found", field="customerid")
    if data.get("contact_id") and ws.get(Contact, data["contact_id"]) is None:
        raise NotFound(f"person {data['contact_id']} not found", field="personid")
    return ws.create(Activity, data)


def numbers_to_dial(ws: Workspace, activities: list[Activity]) -> dict[int, str]:
    """The number to call, by activity id, for calls that store none (a call
    planned through Cirrus or the web pages has a contact and an account,
    not a number): the contact's phone, else its mobile, else the customer's
    phone, else its mobile. Calls with a number of their own, or whose
    parties have none, are left out. Read in two queries for a whole list."""
    wanted = [a for a in activities if not a.phonenumber and (a.contact_id or a.customer_id)]
    contacts = ws.by_ids(Contact, [a.contact_id for a in wanted])
    customers = ws.by_ids(Customer, [a.customer_id for a in wanted])
    found: dict[int, str] = {}
    for a in wanted:
        for party in (contacts.get(a.contact_id), customers.get(a.customer_id)):
            number = party is not None and (party.phone or party.cellphone)
            if number:
                found[a.id] = number
                break
    return found


def pending_query(user_id: int):
    return (
        select(Activity)
        .where(Activity.user_id == user_id, Activity.closed.is_(False), Activity.deleted.is_(False))
        .where(Activity.type_id.in_(select(lookups.Lookup.id).where(lookups.Lookup.code == "call", lookups.Lookup.kind == "activity_type")))
        .order_by(Activity.start, Activity.id)
    )


def pending(ws: Workspace, user_id: int) -> list[Activity]:
    return ws.scalars(pending_query(user_id))


def end(ws: Workspace, call_id: int, *, duration: int | None, result: str | None, answer: Any) -> Activity:
    call = ws.get(Activity, call_id)
    if call is None or call.deleted or call.type_id != call_type_id(ws):
        raise NotFound(f"call {call_id} not found", field="callid")
    values: dict[str, Any] = {"closed": True}
    if duration is not None:
        if duration < 0:
            raise Invalid("duration must not be negative", field="duration")
        values["duration"] = duration
        if call.start is not None:
            values["stop"] = call.start + dt.timedelta(minutes=duration)
    if result is not None:
        values["result"] = result
    if answer is not None:
        values["extra.answer"] = answer
    ws.update(call, values)
    return call
