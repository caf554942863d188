"""Activities, and calls: activities whose type is the ``call`` activity type.

:data:`SERVICE` is the one write path of an activity, whichever API or page
writes it: the live-reference and lookup checks, the defaults (type, owner,
open) and the derived times (date from the start, end from the length).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sqlalchemy import or_, select

from polycrm.core import lookups
from polycrm.core.errors import Invalid, NotFound
from polycrm.core.models import Activity, Contact, Customer, Opportunity, Record, TenantScoped, User
from polycrm.core.service import Service, Write, live_references
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
    return SERVICE.create(ws, {"customer_id": customer_id, "contact_id": contact_id, "closed": True, **values}, call=True)


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
    return SERVICE.create(ws, {**values, "closed": False, "user_id": user_id or ws.user_id}, call=True)


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
    """End a pending call: closed, with its length (and so its end) and its note."""
    call = ws.get(Activity, call_id)
    if call is None or call.deleted or call.type_id != call_type_id(ws):
        raise NotFound(f"call {call_id} not found", field="callid")
    values: dict[str, Any] = {"closed": True}
    if duration is not None:
        values["duration"] = duration
    if result is not None:
        values["result"] = result
    if answer is not None:
        values["extra.answer"] = answer
    SERVICE.update(ws, call, values)
    return call


def mark_done(ws: Workspace, activity: Activity) -> bool:
    """Close an activity and, where the progression list has one, set it to "Done"."""
    done = lookups.by_name(ws, "activity_progression", "Done")
    values: dict[str, Any] = {"closed": True}
    if done is not None:
        values["progressionstate_id"] = done.id
    return SERVICE.update(ws, activity, values)


# -- the write path of every activity ---------------------------------------------------------
# core field -> (model, the word a missing one is named by: "customer 7 not found").
REFERENCES: dict[str, tuple[type[TenantScoped], str]] = {
    "customer_id": (Customer, "customer"),
    "contact_id": (Contact, "contact"),
    "opportunity_id": (Opportunity, "opportunity"),
    "user_id": (User, "user"),
}


def _defaults(write: Write) -> None:
    """A new activity: its type is the call type for a call, else the type list's
    default; its owner is the acting user; it is open unless said otherwise."""
    if not write.creating:
        return
    values = write.values
    if not values.get("type_id"):
        if write.context.get("call"):
            values["type_id"] = call_type_id(write.ws)
        else:
            default = lookups.default(write.ws, "activity_type")
            values["type_id"] = default.id if default is not None else None
    if not values.get("user_id"):
        values["user_id"] = write.ws.user_id
    if values.get("closed") is None:
        values["closed"] = False


def _duration(write: Write) -> None:
    if (write.values.get("duration") or 0) < 0:
        raise Invalid("duration must not be negative", field="duration")


def _place(write: Write) -> None:
    """The date of an activity with a start (unless a date is given), and the
    end of one whose length is known, so every API reads the same times."""
    values = write.values
    start = values.get("start")
    if start is not None and not values.get("date"):
        values["date"] = start.date()
    duration = values.get("duration")
    if duration and values.get("stop") is None:
        start = write.get("start")
        if start is not None:
            values["stop"] = start + dt.timedelta(minutes=duration)


SERVICE: Service[Activity] = Service(
    Activity, "activity",
    lookups=lookups.LOOKUP_FIELDS[Activity],
    rules=[live_references(REFERENCES), _defaults, _duration, _place],
)


# -- lead activities ------------------------------------------------------------------------
LEAD_ACTIVITY_KIND = "lead_activity"


def _of_a_lead(write: Write) -> None:
    """A lead activity hangs off a live lead (a record of kind ``lead``), when it names one."""
    lead_id = write.values.get("parent_id")
    if lead_id:
        lead = write.ws.get(Record, lead_id, include_deleted=False)
        if lead is None or lead.kind != "lead":
            raise NotFound(f"lead {lead_id} not found", field="parent_id")


LEAD_ACTIVITIES: Service[Record] = Service(
    Record, "lead activity",
    defaults={"kind": LEAD_ACTIVITY_KIND, "active": True},
    lookups={"extra.type_id": "lead_activity_type"},
    rules=[live_references({"user_id": (User, "user")}), _of_a_lead],
)


def open_of_contact(ws: Workspace, contact_id: int) -> list[Activity]:
    """A contact's open (not done) live activities, by date then id."""
    return ws.scalars(
        select(Activity)
        .where(Activity.contact_id == contact_id, Activity.closed.is_(False), Activity.deleted.is_(False))
        .order_by(Activity.date, Activity.id)
    )
