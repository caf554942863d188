"""The Tickets module: list and create tickets (its lookup lists are :mod:`.catalogs`)."""

from __future__ import annotations

from typing import Any

from polycrm.core import queries, tickets
from polycrm.core.errors import CoreError
from polycrm.faces.centia import maps
from polycrm.faces.centia.modules._common import Call, wire_named

# Core fields of a ticket write as centiaCRM names them in its errors.
TICKET_ERROR_FIELDS = {"customer_id": "company_id"}


def ticket_out(call: Call, ticket: Any) -> dict[str, Any]:
    out = maps.to_wire(ticket, maps.TICKET)
    out["profile_id"] = ticket.profile_id if ticket.profile_id is not None else call.profile.id
    return out


def get_tickets(call: Call) -> dict[str, Any]:
    return {"tickets": [ticket_out(call, t) for t in queries.tickets(call.ws, call.profile)]}


def create_ticket(call: Call) -> dict[str, Any]:
    a = call.args
    values = maps.to_core(call.ws, call.profile, maps.TICKET, a)
    # 0 (or nothing) means "no contact" and "no opportunity".
    for key in ("contact_id", "opportunity_id"):
        if not values.get(key):
            values.pop(key, None)
    values["profile_id"] = call.profile.id
    try:
        ticket = tickets.create(call.ws, values, notify=a["notify"], comment=a.get("comment"), profile=call.profile)
    except CoreError as exc:
        raise wire_named(exc, TICKET_ERROR_FIELDS) from None
    return {"ticket": ticket_out(call, ticket)}
