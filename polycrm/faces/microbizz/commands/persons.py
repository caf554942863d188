"""Persons, their to-dos and interface-hook session tokens.

A Microbizz *person* is a core contact. ``GetPersonByEmail`` answers
``persons``: every live contact with that e-mail (case-insensitive), in the
:data:`PERSON` shape; each person also carries its fields under ``values``,
which is where one public client reads ``persons[0].values.personid``.
``GetTodosByPersonID`` answers ``todos``: the contact's open activities in
the :data:`OPEN_ACTIVITY` shape. ``ValidateSessionToken`` checks a token an interface
hook (a customer tab) was opened with.
"""

from __future__ import annotations

from typing import Any

from polycrm.core import calls, contacts
from polycrm.core.models import Contact
from polycrm.faces.microbizz import wire
from polycrm.faces.microbizz.commands import Call
from polycrm.faces.microbizz.commands._shared import rows_of
from polycrm.faces.microbizz.fields import (
    FieldMap, boolean, date, integer, name_of, ref, stamps, text,
)

PERSON = FieldMap("person", [
    integer("personid", "id"),
    integer("id", "id"),
    ref("customerid", "customer_id"),
    name_of("customertext", "customer_id", "customer"),
    text("firstname", "name"),
    text("lastname", "surname"),
    text("email", "email"),
    text("phone", "phone"),
    text("cellphone", "cellphone"),
    text("title", "jobtitle"),
    text("department", "department"),
    boolean("isprimary", "is_primary"),
    boolean("isclosed", "active", inverted=True),
    *stamps(),
])

OPEN_ACTIVITY = FieldMap("todo", [
    integer("id", "id"),
    text("title", "description"),
    text("note", "note"),
    date("date", "date"),
    ref("customerid", "customer_id"),
    name_of("customertext", "customer_id", "customer"),
    ref("personid", "contact_id"),
    name_of("persontext", "contact_id", "contact"),
    ref("userid", "user_id"),
    name_of("usertext", "user_id", "user"),
    name_of("typetext", "type_id", "lookup"),
    boolean("done", "closed"),
    *stamps(),
])


def person_out(row: Any, ctx: Any) -> dict[str, Any]:
    """One person: its fields, and the same fields again under ``values``."""
    person = PERSON.to_wire(row, ctx)
    return {**person, "values": dict(person)}


def get_person_by_email(call: Call) -> dict[str, Any]:
    email = call.str("email", required=True)
    rows = rows_of(contacts.all_by_email(call.ws, email))
    if rows:
        call.ctx.prefetch("customer", [r["customer_id"] for r in rows])
    return {"persons": [person_out(r, call.ctx) for r in rows]}


def get_todos_by_person(call: Call) -> dict[str, Any]:
    person_id = call.id("personid", required=True)
    if call.ws.get(Contact, person_id, include_deleted=False) is None:
        return {"todos": []}
    return {"todos": OPEN_ACTIVITY.many(rows_of(calls.open_of_contact(call.ws, person_id)), call.ctx)}


def validate_session_token(call: Call) -> dict[str, Any]:
    """``{result: 1, userid}`` for a live session token of this contract; else a failed command."""
    from polycrm.platform import apps

    token = call.raw("sessiontoken")
    if token in (None, ""):
        raise wire.missing("sessiontoken")
    user_id = apps.session_token_user(call.ws.session, call.ws.tenant_id, token)
    if user_id is None:
        raise wire.CommandError("Invalid session token: unknown, expired or of another contract")
    return {"result": 1, "userid": user_id}
