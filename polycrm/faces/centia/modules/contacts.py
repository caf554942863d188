"""The Contacts module: list, find and create contacts (its lookup and input
lists are :mod:`.catalogs`)."""

from __future__ import annotations

from typing import Any

from polycrm.core import contacts as core_contacts
from polycrm.core import customers, profiles, queries
from polycrm.core.errors import CoreError
from polycrm.core.models import Contact
from polycrm.faces.centia import maps
from polycrm.faces.centia.modules._common import Call, inputs_of, page_response, paging, searched_id, span, wire_named
from polycrm.faces.centia.wire import ApiError

# Core fields of a contact write as centiaCRM names them in its errors.
CONTACT_ERROR_FIELDS = {"customer_id": "company_id"}


def contact_out(call: Call, contact: Contact, *, addresses: bool, inputs: dict[str, Any] | None = None) -> dict[str, Any]:
    out = maps.to_wire(contact, maps.CONTACT)
    out["profile_id"] = contact.profile_id if contact.profile_id is not None else call.profile.id
    assistant = (contact.extra or {}).get("assistant")
    out["assistant"] = {p.name: assistant.get(p.name) for p in maps.ASSISTANT} if isinstance(assistant, dict) else None
    stored = contact.addresses or {}
    if addresses:
        out["shipping_address"] = maps.address_to_wire(stored.get("delivery") or stored.get("visiting"))
        out["billing_address"] = maps.address_to_wire(stored.get("invoice"))
    else:
        out["shipping_address"] = out["billing_address"] = None
    out["inputs"] = inputs
    return out


def contact_full(call: Call, contact: Contact) -> dict[str, Any]:
    return contact_out(call, contact, addresses=True, inputs=inputs_of(call, "contact", [contact.id])[contact.id])


def create_contact(call: Call) -> dict[str, Any]:
    values = maps.to_core(call.ws, call.profile, maps.CONTACT, call.args)
    assistant = call.args.get("assistant")
    if assistant:
        values["extra.assistant"] = assistant
    shipping, billing = call.args.get("shipping_address"), call.args.get("billing_address")
    if shipping:
        values["addresses.delivery"] = shipping
        values["addresses.visiting"] = shipping
        # The flat address columns are what the Microbizz and Cirrus contact shows.
        values["street"] = customers.street_line(shipping)
        values["zip"] = shipping["zip"]
        values["city"] = shipping["city"]
    if billing:
        values["addresses.invoice"] = billing
    try:
        contact = core_contacts.create(call.ws, values, profile=call.profile, inputs=call.args.get("inputs"))
    except CoreError as exc:
        raise wire_named(exc, CONTACT_ERROR_FIELDS) from None
    return {"contact": contact_full(call, contact)}


def get_contact(call: Call) -> dict[str, Any]:
    by, value = call.args["search_by"], call.args["search_value"].strip()
    company_id = call.args.get("company_id")
    contact = None
    if by == "id":
        if searched_id(value) is not None:
            contact = call.ws.get(Contact, searched_id(value), include_deleted=False)
    else:
        contact = core_contacts.by_email(call.ws, call.profile, value, company_id)
    if (
        contact is None
        or not profiles.owns(call.profile, contact.profile_id)
        or (company_id is not None and contact.customer_id != company_id)
    ):
        raise ApiError("contact not found")
    return {"contact": contact_full(call, contact)}


def get_contacts(call: Call) -> dict[str, Any]:
    a = call.args
    page = queries.contacts(
        call.ws,
        call.profile,
        customer_id=a.get("company_id"),
        origin_ids=a.get("origin_id"),
        title_ids=a.get("title_id"),
        position_ids=a.get("position_id"),
        department_ids=a.get("department_id"),
        created=span(call, "created_at"),
        text=a.get("query"),
        **paging(call),
    )
    inputs = inputs_of(call, "contact", [c.id for c in page.items]) if a.get("with_inputs") else {}
    items = [contact_out(call, c, addresses=bool(a.get("with_addresses")), inputs=inputs.get(c.id)) for c in page.items]
    return page_response("contacts", page, items)
