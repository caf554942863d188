"""The Companies module: list, find and create companies (core customers;
its lookup and input lists are :mod:`.catalogs`)."""

from __future__ import annotations

from typing import Any

from polycrm.core import contacts as core_contacts
from polycrm.core import customers, profiles, queries
from polycrm.core.errors import CoreError, renamed
from polycrm.core.models import Contact, Customer
from polycrm.faces.centia import maps
from polycrm.faces.centia.modules._common import Call, inputs_of, page_response, paging, searched_id, span
from polycrm.faces.centia.modules.contacts import contact_out
from polycrm.faces.centia.wire import ApiError

# Core fields of a company write as centiaCRM names them in its errors.
COMPANY_ERROR_FIELDS = {"number": "client_number", "type_id": "type_id", "industry_id": "industry_id"}


def company_out(
    call: Call,
    customer: Customer,
    *,
    addresses: bool,
    inputs: dict[str, Any] | None = None,
    contacts: list[Contact] | None = None,
) -> dict[str, Any]:
    out = maps.to_wire(customer, maps.COMPANY)
    out["profile_id"] = customer.profile_id if customer.profile_id is not None else call.profile.id
    stored = customer.addresses or {}
    if addresses:
        out["shipping_address"] = maps.address_to_wire(main_address(customer))
        out["billing_address"] = maps.address_to_wire(stored.get("invoice"))
    else:
        out["shipping_address"] = out["billing_address"] = None
    out["contacts"] = [contact_out(call, c, addresses=False) for c in contacts] if contacts is not None else None
    out["inputs"] = inputs
    return out


def main_address(customer: Customer) -> dict[str, Any]:
    """The company's one main address: the visiting address Microbizz shows as
    ``address/zip/city`` and Cirrus as ``addresses.visiting``, with the
    customer's coordinates (the visiting address's, whichever API set them)."""
    address = dict((customer.addresses or {}).get("visiting") or {})
    for axis in ("latitude", "longitude"):
        if getattr(customer, axis) is not None:
            address[axis] = getattr(customer, axis)
    return address


def company_full(call: Call, customer: Customer) -> dict[str, Any]:
    contacts = core_contacts.of_customers(call.ws, [customer.id])[customer.id]
    return company_out(
        call, customer, addresses=True, inputs=inputs_of(call, "customer", [customer.id])[customer.id], contacts=contacts
    )


def create_company(call: Call) -> dict[str, Any]:
    values = maps.to_core(call.ws, call.profile, maps.COMPANY, call.args)
    values["user_id"] = call.principal.user_id
    shipping, billing = call.args.get("shipping_address"), call.args.get("billing_address")
    if shipping:
        # The shipping address is the main (visiting) address, the one the
        # other APIs show first (the core makes its coordinates the customer's).
        values["addresses.visiting"] = shipping
    if billing:
        # The billing name lives in the invoice address: keep it when the address is set whole.
        name = values.pop("addresses.invoice.name", None)
        values["addresses.invoice"] = {**billing, "name": name} if name is not None else billing
    try:
        # A given number must be free; without one the next free number is assigned.
        customer = customers.create(
            call.ws, values, profile=call.profile, inputs=call.args.get("inputs"), assign_number=True
        )
    except CoreError as exc:
        raise renamed(exc, COMPANY_ERROR_FIELDS) from None
    return {"company": company_full(call, customer)}


def get_company(call: Call) -> dict[str, Any]:
    by, value = call.args["search_by"], call.args["search_value"].strip()
    customer = None
    if by == "id":
        if searched_id(value) is not None:
            customer = call.ws.get(Customer, searched_id(value), include_deleted=False)
    else:
        customer = customers.by_number_in_profile(call.ws, call.profile, value)
    if customer is None or not profiles.owns(call.profile, customer.profile_id):
        raise ApiError("company not found")
    return {"company": company_full(call, customer)}


def get_companies(call: Call) -> dict[str, Any]:
    a = call.args
    page = queries.customers(
        call.ws,
        call.profile,
        type_ids=a.get("company_type"),
        industry_ids=a.get("company_industry"),
        created=span(call, "created_at"),
        text=a.get("query"),
        **paging(call),
    )
    ids = [c.id for c in page.items]
    inputs = inputs_of(call, "customer", ids) if a.get("with_inputs") else {}
    contacts = core_contacts.of_customers(call.ws, ids) if a.get("with_contacts") else {}
    items = [
        company_out(
            call,
            c,
            addresses=bool(a.get("with_addresses")),
            inputs=inputs.get(c.id),
            contacts=contacts.get(c.id) if a.get("with_contacts") else None,
        )
        for c in page.items
    ]
    return page_response("companies", page, items)
