"""Ticket rules shared by every API: :data:`SERVICE` is a ticket's one write path.

A ticket names live records of this tenant (customer, contact, opportunity,
user) and entries of its lists (origin, case, priority); a contact and an
opportunity given with a customer belong to that customer; the status is
``open`` (the default) or ``closed``; ``notify=True`` tells the ticket's
user about a new ticket. A ticket written for a profile (``profile=``) names
that profile's user, customer and opportunity.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from polycrm.core import contacts, lookups, notifications, profiles
from polycrm.core.errors import Invalid
from polycrm.core.models import Contact, Customer, Opportunity, Profile, Ticket, User
from polycrm.core.service import Service, Write, live_references

STATUSES = ("open", "closed")

REFERENCES = {
    "customer_id": (Customer, "customer"),
    "contact_id": (Contact, "contact"),
    "opportunity_id": (Opportunity, "opportunity"),
    "user_id": (User, "user"),
}


def _status(write: Write) -> None:
    if write.creating or write.given("status"):
        status = write.values.get("status") or ("open" if write.creating else None)
        if status not in STATUSES:
            raise Invalid(f"status must be one of {', '.join(STATUSES)}", field="status")
        write.values["status"] = status


def _of_the_customer(write: Write) -> None:
    """A contact or an opportunity written with a customer belongs to that customer."""
    if not any(write.given(p) for p in ("customer_id", "contact_id", "opportunity_id")):
        return
    customer_id = write.get("customer_id")
    if customer_id is None:
        return
    contact_id = write.get("contact_id")
    if contact_id:
        contacts.require_of_customer(write.ws, contact_id, customer_id)
    opportunity_id = write.get("opportunity_id")
    if opportunity_id:
        opportunity = write.ws.get(Opportunity, opportunity_id, include_deleted=False)
        if opportunity is not None and opportunity.customer_id not in (None, customer_id):
            raise Invalid(
                f"opportunity {opportunity_id} does not belong to company {customer_id}", field="opportunity_id"
            )


SERVICE: Service[Ticket] = Service(
    Ticket, "ticket",
    lookups=lookups.LOOKUP_FIELDS[Ticket],
    rules=[
        profiles.of_the_profile(
            {"customer_id": (Customer, "company"), "opportunity_id": (Opportunity, "opportunity")},
            members=("user_id",),
        ),
        live_references(REFERENCES), _status, _of_the_customer,
    ],
    after=[notifications.on_create("ticket", "ticket")],
)


def create(ws, values: Mapping[str, Any], *, notify: bool = False, comment: str | None = None,
           profile: Profile | None = None) -> Ticket:
    """Create a ticket (see :data:`SERVICE`); ``notify`` tells its user, in
    ``comment``'s words if given; ``profile`` limits its references to that profile's."""
    return SERVICE.create(ws, values, notify=notify, comment=comment, profile=profile)
