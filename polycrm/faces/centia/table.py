"""The 38 centiaCRM v1 methods as a table, and the handlers behind them.

Each :class:`Method` names its module, its parameters and a handler; lookup
lists and input lists are generic handlers parameterised by the table.
Handlers get a :class:`Call` (workspace, caller, checked profile, parsed
parameters) and return the ``response`` object.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from polycrm.core import (
    auth,
    custom_fields,
    customers,
    geo,
    lookups,
    opportunities,
    profiles,
    queries,
    signin,
    tickets,
)
from polycrm.core import contacts as core_contacts
from polycrm.core import products
from polycrm.core.errors import CoreError
from polycrm.core.auth import Principal
from polycrm.core.errors import renamed
from polycrm.core.models import Contact, Customer, Lookup, Opportunity, Product, Profile, TenantScoped, User
from polycrm.core.queries import DateRange
from polycrm.core.query import Page
from polycrm.core.workspace import Workspace
from polycrm.faces.centia import maps as E
from polycrm.faces.centia.wire import (
    AUTH_STATUS,
    MAX_INT,
    ApiError,
    AuthError,
    Param,
    invalid,
    out_datetime,
    out_money,
    out_number,
)

PROFILE = Param("profile_id", "int", True)
PAGINATION = (Param("pagination", "int"), Param("page", "int"))
DEFAULT_PER_PAGE = 500
MAX_PER_PAGE = 5000


@dataclass
class Call:
    ws: Workspace
    principal: Principal
    profile: Profile | None
    args: dict[str, Any]


@dataclass(frozen=True)
class Method:
    module: str
    name: str
    handler: Callable[[Call], dict[str, Any]]
    params: tuple[Param, ...] = ()
    auth: bool = True
    writes: bool = False
    # Login and Logout work on credentials, not in a workspace: their handler
    # is called as ``handler(runtime, args, token)``.
    on_credentials: bool = False

    @property
    def takes_profile(self) -> bool:
        return any(p.name == "profile_id" for p in self.params)


# -- shared helpers -----------------------------------------------------------------
def in_profile(call: Call, model: type[TenantScoped], id_: Any, what: str, field_name: str) -> Any:
    """A live record of the call's profile, or a clear error naming the field."""
    obj = call.ws.get(model, id_, include_deleted=False)
    if obj is None or not profiles.owns(call.profile, getattr(obj, "profile_id", None)):
        raise invalid(field_name, f"{what} {id_} not found in this profile")
    return obj


def searched_id(text: str) -> int | None:
    """The id a ``search_value`` names, if it can be one."""
    return int(text) if text.isdigit() and int(text) <= MAX_INT else None


def paging(call: Call) -> dict[str, int]:
    """The checked ``page`` and ``pagination`` of a list call, as the core's page and page size."""
    per_page = call.args.get("pagination", DEFAULT_PER_PAGE)
    page = call.args.get("page", 1)
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise invalid("pagination", f"must be between 1 and {MAX_PER_PAGE}")
    if page < 1:
        raise invalid("page", "must be 1 or more")
    return {"page": page, "per_page": per_page}


def page_response(key: str, page: Page, items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"total": page.total, "current_page": page.page, "last_page": page.last_page, key: items}


def span(call: Call, name: str) -> DateRange:
    bounds = call.args.get(name)
    return DateRange(*bounds) if bounds else DateRange()


def set_inputs(call: Call, entity: str, record_id: int, *, creating: bool) -> None:
    if "inputs" in call.args:
        custom_fields.set_values(
            call.ws, entity, record_id, call.args["inputs"], profile_id=call.profile.id, creating=creating
        )
    elif creating:
        custom_fields.set_values(call.ws, entity, record_id, {}, profile_id=call.profile.id, creating=True)


def inputs_of(call: Call, entity: str, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    return custom_fields.bulk_values(call.ws, entity, ids, call.profile.id)


# -- auth and profiles --------------------------------------------------------------
TOKEN_TTL = dt.timedelta(seconds=int(os.environ.get("POLYCRM_CENTIA_TOKEN_TTL", str(24 * 3600))))


def login(rt: Any, args: dict[str, Any], token: str | None) -> dict[str, Any]:
    principal = signin.sign_in_by_email(rt.db, args["email"], args["password"])
    if principal is None:
        raise AuthError("invalid credentials", status=AUTH_STATUS)
    token, expires_at = auth.issue_token(rt.db, principal, auth.CENTIA_TOKEN, TOKEN_TTL)
    with rt.workspace(principal, write=False) as ws:
        user = ws.get(User, principal.user_id)
        out = {**user_out(user), "is_admin": bool(user.is_admin)}
        out["profiles"] = [profile_out(p) for p in profiles.of_user(ws, user.id)]
    return {"token": token, "token_type": "Bearer", "expires_at": out_datetime(expires_at), "user": out}


def logout(rt: Any, args: dict[str, Any], token: str | None) -> dict[str, Any]:
    return {"revoked": auth.revoke_token(rt.db, auth.CENTIA_TOKEN, token)}


def user_out(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "name": user.name,
        "surname": user.surname,
        "email": user.email,
        "username": user.username,
        "title": user.title,
        "phone": user.phone,
        "cellphone": user.cellphone,
        "active": bool(user.active),
    }


def profile_out(profile: Profile) -> dict[str, Any]:
    return {"id": profile.id, "name": profile.name, "currency": profile.currency, "is_default": bool(profile.is_default)}


def get_profiles(call: Call) -> dict[str, Any]:
    return {"profiles": [profile_out(p) for p in profiles.of_user(call.ws, call.principal.user_id)]}


def get_users(call: Call) -> dict[str, Any]:
    return {"users": [user_out(u) for u in profiles.members(call.ws, call.profile.id)]}


def get_countries(call: Call) -> dict[str, Any]:
    return {"countries": [{"code": c["code"], "name": c["name"]} for c in geo.countries()]}


def get_states(call: Call) -> dict[str, Any]:
    code = call.args["country"].strip().upper()
    if geo.country(code) is None:
        raise invalid("country", f"unknown country code {call.args['country']!r}")
    return {"country": code, "states": geo.states(code)}


# -- lists ---------------------------------------------------------------------------
def lookup_out(entry: Lookup, extras: Sequence[str]) -> dict[str, Any]:
    out = {"id": entry.id, "name": entry.name, "order": entry.sortorder, "is_default": bool(entry.is_default)}
    for key in extras:
        out[key] = (entry.extra or {}).get(key)
    return out


def lookup_list(kind: str, key: str, extras: Sequence[str] = ()) -> Callable[[Call], dict[str, Any]]:
    def handler(call: Call) -> dict[str, Any]:
        return {key: [lookup_out(e, extras) for e in lookups.items(call.ws, kind, call.profile.id)]}

    handler.__name__ = f"list_{kind}"
    return handler


def input_out(f: Any) -> dict[str, Any]:
    return {
        "id": f.id,
        "name": f.name,
        "slug": f.slug,
        "type": f.field_type,
        "options": list(f.options or []),
        "required": bool(f.required),
        "order": f.sortorder,
    }


def input_list(entity: str) -> Callable[[Call], dict[str, Any]]:
    def handler(call: Call) -> dict[str, Any]:
        return {"inputs": [input_out(f) for f in custom_fields.fields(call.ws, entity, call.profile.id)]}

    handler.__name__ = f"inputs_{entity}"
    return handler


# -- companies -------------------------------------------------------------------------
def company_out(
    call: Call,
    customer: Customer,
    *,
    addresses: bool,
    inputs: dict[str, Any] | None = None,
    contacts: list[Contact] | None = None,
) -> dict[str, Any]:
    out = E.to_wire(customer, E.COMPANY)
    out["profile_id"] = customer.profile_id if customer.profile_id is not None else call.profile.id
    stored = customer.addresses or {}
    if addresses:
        out["shipping_address"] = E.address_to_wire(main_address(customer))
        out["billing_address"] = E.address_to_wire(stored.get("invoice"))
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


# Core fields of a company write as centiaCRM names them in its errors.
COMPANY_ERROR_FIELDS = {"number": "client_number", "type_id": "type_id", "industry_id": "industry_id"}


def create_company(call: Call) -> dict[str, Any]:
    values = E.to_core(call.ws, call.profile, E.COMPANY, call.args)
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


# -- contacts --------------------------------------------------------------------------
def contact_out(call: Call, contact: Contact, *, addresses: bool, inputs: dict[str, Any] | None = None) -> dict[str, Any]:
    out = E.to_wire(contact, E.CONTACT)
    out["profile_id"] = contact.profile_id if contact.profile_id is not None else call.profile.id
    assistant = (contact.extra or {}).get("assistant")
    out["assistant"] = {p.name: assistant.get(p.name) for p in E.ASSISTANT} if isinstance(assistant, dict) else None
    stored = contact.addresses or {}
    if addresses:
        out["shipping_address"] = E.address_to_wire(stored.get("delivery") or stored.get("visiting"))
        out["billing_address"] = E.address_to_wire(stored.get("invoice"))
    else:
        out["shipping_address"] = out["billing_address"] = None
    out["inputs"] = inputs
    return out


def contact_full(call: Call, contact: Contact) -> dict[str, Any]:
    return contact_out(call, contact, addresses=True, inputs=inputs_of(call, "contact", [contact.id])[contact.id])


# Core fields of a contact write as centiaCRM names them in its errors.
CONTACT_ERROR_FIELDS = {"customer_id": "company_id"}


def create_contact(call: Call) -> dict[str, Any]:
    company = in_profile(call, Customer, call.args["company_id"], "company", "company_id")
    values = E.to_core(call.ws, call.profile, E.CONTACT, call.args)
    values["customer_id"] = company.id
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
        raise renamed(exc, CONTACT_ERROR_FIELDS) from None
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


# -- products --------------------------------------------------------------------------
def product_out(call: Call, product: Product, inputs: dict[str, Any] | None = None) -> dict[str, Any]:
    out = E.to_wire(product, E.PRODUCT)
    out["profile_id"] = product.profile_id if product.profile_id is not None else call.profile.id
    out["inputs"] = inputs
    return out


def get_products(call: Call) -> dict[str, Any]:
    items = queries.products(call.ws, call.profile)
    inputs = inputs_of(call, "product", [p.id for p in items]) if call.args.get("with_inputs") else {}
    return {"products": [product_out(call, p, inputs.get(p.id)) for p in items]}


# core product field -> the centia parameter an error names (``number`` -> ``sku``).
PRODUCT_PARAMETERS = {f.core: f.wire for f in E.PRODUCT if f.writable}


def product_error(exc: CoreError) -> CoreError:
    """A product service error naming the centia parameter instead of the core field."""
    name = PRODUCT_PARAMETERS.get(exc.field or "")
    if name is None or not exc.message.startswith(exc.field + " "):
        return exc
    return type(exc)(name + exc.message[len(exc.field):], field=name)


def create_product(call: Call) -> dict[str, Any]:
    values = E.to_core(call.ws, call.profile, E.PRODUCT, call.args)
    values["profile_id"] = call.profile.id
    try:
        product = products.create(call.ws, values, inputs=call.args.get("inputs", {}), profile_id=call.profile.id)
    except CoreError as exc:
        raise product_error(exc) from None
    return {"product": product_out(call, product, inputs_of(call, "product", [product.id])[product.id])}


def edit_product(call: Call) -> dict[str, Any]:
    product = in_profile(call, Product, call.args["product_id"], "product", "product_id")
    inputs = {"inputs": call.args["inputs"]} if "inputs" in call.args else {}
    try:
        products.update(call.ws, product, E.to_core(call.ws, call.profile, E.PRODUCT, call.args),
                        profile_id=call.profile.id, **inputs)
    except CoreError as exc:
        raise product_error(exc) from None
    return {"product": product_out(call, product, inputs_of(call, "product", [product.id])[product.id])}


# -- opportunities ---------------------------------------------------------------------
def line_out(line: Any) -> dict[str, Any]:
    return {
        "product_id": line.product_id,
        "amount": out_number(line.quantity),
        "price": out_money(line.price),
        "discount": out_money(line.discount),
        "tax": out_money(line.tax),
        "total": out_money(line.total),
    }


def opportunities_out(call: Call, items: list[Opportunity]) -> list[dict[str, Any]]:
    a = call.args
    ids = [o.id for o in items]
    lines = opportunities.lines_of(call.ws, ids) if a.get("with_products") else {}
    inputs = inputs_of(call, "opportunity", ids) if a.get("with_inputs") else {}
    users = call.ws.by_ids(User, [o.user_id for o in items]) if a.get("with_user") else {}
    companies = call.ws.by_ids(Customer, [o.customer_id for o in items]) if a.get("with_company") else {}
    contacts = call.ws.by_ids(Contact, [o.contact_id for o in items]) if a.get("with_contact") else {}
    out = []
    for o in items:
        item = E.to_wire(o, E.OPPORTUNITY)
        item["profile_id"] = o.profile_id if o.profile_id is not None else call.profile.id
        user, company, contact = users.get(o.user_id), companies.get(o.customer_id), contacts.get(o.contact_id)
        item["user"] = user_out(user) if user else None
        item["company"] = company_out(call, company, addresses=True) if company else None
        item["contact"] = contact_out(call, contact, addresses=True) if contact else None
        item["products"] = [line_out(x) for x in lines.get(o.id, [])] if a.get("with_products") else None
        item["inputs"] = inputs.get(o.id)
        out.append(item)
    return out


def create_opportunity(call: Call) -> dict[str, Any]:
    a = call.args
    profiles.require_member(call.ws, call.profile.id, a["user_id"])
    in_profile(call, Customer, a["company_id"], "company", "company_id")
    values = E.to_core(call.ws, call.profile, E.OPPORTUNITY, a)
    values["profile_id"] = call.profile.id
    lines = []
    for i, line in enumerate(a.get("products") or []):
        in_profile(call, Product, line["product_id"], "product", f"products[{i}].product_id")
        tax = line.get("tax")
        if tax is not None and not 0 <= tax <= 1:
            raise invalid(f"products[{i}].tax", "must be a fraction between 0.00 and 1.00")
        lines.append(
            {
                "product_id": line["product_id"],
                "quantity": line["amount"],
                "price": line["price"],
                "discount": line.get("discount"),
                "tax": tax,
                "total": line.get("total"),
            }
        )
    opportunity = opportunities.create(
        call.ws, values, lines, notify=a["notify"], comment=a.get("comment"), contact_of_customer=True,
    )
    set_inputs(call, "opportunity", opportunity.id, creating=True)
    call.args = {**a, "with_products": True, "with_inputs": True}
    return {"opportunity": opportunities_out(call, [opportunity])[0]}


def get_opportunity(call: Call) -> dict[str, Any]:
    opportunity = call.ws.get(Opportunity, call.args["opportunity_id"], include_deleted=False)
    if opportunity is None or not profiles.owns(call.profile, opportunity.profile_id):
        raise ApiError("opportunity not found")
    return {"opportunity": opportunities_out(call, [opportunity])[0]}


def get_opportunities(call: Call) -> dict[str, Any]:
    a = call.args
    extra = {}
    if "contact_type" in a:
        extra["prospect_type"] = a["contact_type"]
    if "operation_type" in a:
        extra["operation_type"] = a["operation_type"]
    value_min, value_max = a.get("value") or (None, None)
    page = queries.opportunities(
        call.ws,
        call.profile,
        user_id=a.get("user_id"),
        status=a.get("status"),
        extra_equals=extra,
        stage_ids=a.get("stage"),
        contact_origin_ids=a.get("contact_origin"),
        industry_ids=a.get("company_industry"),
        value_min=value_min,
        value_max=value_max,
        created=span(call, "created_at"),
        estimated_end=span(call, "estimated_end_at"),
        closed=span(call, "closed_at"),
        text=a.get("query"),
        **paging(call),
    )
    return page_response("opportunities", page, opportunities_out(call, page.items))


# -- tickets ---------------------------------------------------------------------------
def ticket_out(call: Call, ticket: Any) -> dict[str, Any]:
    out = E.to_wire(ticket, E.TICKET)
    out["profile_id"] = ticket.profile_id if ticket.profile_id is not None else call.profile.id
    return out


def get_tickets(call: Call) -> dict[str, Any]:
    return {"tickets": [ticket_out(call, t) for t in queries.tickets(call.ws, call.profile)]}


def create_ticket(call: Call) -> dict[str, Any]:
    a = call.args
    profiles.require_member(call.ws, call.profile.id, a["user_id"])
    in_profile(call, Customer, a["company_id"], "company", "company_id")
    if a.get("opportunity_id"):
        in_profile(call, Opportunity, a["opportunity_id"], "opportunity", "opportunity_id")
    values = E.to_core(call.ws, call.profile, E.TICKET, a)
    for key in ("contact_id", "opportunity_id"):
        if not values.get(key):
            values.pop(key, None)
    values["profile_id"] = call.profile.id
    ticket = tickets.create(call.ws, values, notify=a["notify"], comment=a.get("comment"))
    return {"ticket": ticket_out(call, ticket)}


# -- the table ---------------------------------------------------------------------------
WITH_OPPORTUNITY = tuple(Param(f"with_{x}", "bool") for x in ("user", "company", "contact", "products", "inputs"))
INPUTS = Param("inputs", "object")


def _lookup_method(module: str, name: str, kind: str, key: str, extras: Sequence[str] = ()) -> Method:
    return Method(module, name, lookup_list(kind, key, extras), (PROFILE,))


METHODS: tuple[Method, ...] = (
    Method(
        "auth", "Login", login, (Param("email", "str", True), Param("password", "str", True)),
        auth=False, on_credentials=True,
    ),
    Method("auth", "Logout", logout, on_credentials=True),
    Method("profiles", "GetProfiles", get_profiles),
    _lookup_method("profiles", "GetStages", "stage", "stages", ("probability",)),
    Method("profiles", "GetCountries", get_countries),
    Method("profiles", "GetStates", get_states, (Param("country", "str", True),)),
    Method("profiles", "GetUsers", get_users, (PROFILE,)),
    Method(
        "companies",
        "GetCompanies",
        get_companies,
        (
            PROFILE,
            Param("company_type", "ids"),
            Param("company_industry", "ids"),
            Param("created_at", "dates"),
            Param("with_inputs", "bool"),
            Param("with_contacts", "bool"),
            Param("with_addresses", "bool"),
            Param("query"),
            *PAGINATION,
        ),
    ),
    _lookup_method("companies", "GetTypes", "customer_type", "types"),
    _lookup_method("companies", "GetIndustries", "industry", "industries"),
    Method("companies", "GetInputs", input_list("customer"), (PROFILE,)),
    Method(
        "companies",
        "CreateCompany",
        create_company,
        (
            PROFILE,
            *E.params(E.COMPANY),
            Param("shipping_address", "address"),
            Param("billing_address", "address"),
            INPUTS,
        ),
        writes=True,
    ),
    Method(
        "companies",
        "GetCompany",
        get_company,
        (PROFILE, Param("search_by", "enum", True, ("id", "client_number")), Param("search_value", "str", True)),
    ),
    Method(
        "contacts",
        "GetContacts",
        get_contacts,
        (
            PROFILE,
            Param("company_id", "int"),
            Param("origin_id", "ids"),
            Param("title_id", "ids"),
            Param("position_id", "ids"),
            Param("department_id", "ids"),
            Param("created_at", "dates"),
            Param("with_inputs", "bool"),
            Param("with_addresses", "bool"),
            Param("query"),
            *PAGINATION,
        ),
    ),
    _lookup_method("contacts", "GetOrigins", "contact_origin", "origins"),
    _lookup_method("contacts", "GetTitles", "contact_title", "titles"),
    _lookup_method("contacts", "GetDepartments", "contact_department", "departments"),
    _lookup_method("contacts", "GetPositions", "contact_position", "positions"),
    Method("contacts", "GetInputs", input_list("contact"), (PROFILE,)),
    Method(
        "contacts",
        "CreateContact",
        create_contact,
        (
            PROFILE,
            *E.params(E.CONTACT),
            Param("shipping_address", "address"),
            Param("billing_address", "address"),
            Param("assistant", "object", children=E.ASSISTANT),
            INPUTS,
        ),
        writes=True,
    ),
    Method(
        "contacts",
        "GetContact",
        get_contact,
        (
            PROFILE,
            Param("company_id", "int"),
            Param("search_by", "enum", True, ("id", "email")),
            Param("search_value", "str", True),
        ),
    ),
    Method("products", "GetProducts", get_products, (PROFILE, Param("with_inputs", "bool"))),
    _lookup_method("products", "GetCategories", "product_group", "categories"),
    _lookup_method("products", "GetValidities", "product_validity", "validities"),
    _lookup_method("products", "GetDiscounts", "product_discount", "discounts", ("value",)),
    _lookup_method("products", "GetMeasures", "unit", "measures"),
    _lookup_method("products", "GetTaxes", "tax", "taxes", ("value",)),
    Method("products", "GetInputs", input_list("product"), (PROFILE,)),
    Method("products", "CreateProduct", create_product, (PROFILE, *E.params(E.PRODUCT), INPUTS), writes=True),
    Method(
        "products",
        "EditProduct",
        edit_product,
        (PROFILE, Param("product_id", "int", True), *E.params(E.PRODUCT), INPUTS),
        writes=True,
    ),
    Method("opportunities", "GetInputs", input_list("opportunity"), (PROFILE,)),
    Method(
        "opportunities",
        "GetOpportunities",
        get_opportunities,
        (
            PROFILE,
            Param("user_id", "int"),
            Param("status", "enum", choices=opportunities.STATUSES),
            Param("contact_type", "enum", choices=("new", "existing")),
            Param("operation_type", "enum", choices=("new", "renew")),
            Param("stage", "ids"),
            Param("contact_origin", "ids"),
            Param("company_industry", "ids"),
            Param("value", "numbers"),
            Param("created_at", "dates"),
            Param("estimated_end_at", "dates"),
            Param("closed_at", "dates"),
            *WITH_OPPORTUNITY,
            Param("query"),
            *PAGINATION,
        ),
    ),
    Method(
        "opportunities",
        "CreateOpportunity",
        create_opportunity,
        (
            PROFILE,
            *E.params(E.OPPORTUNITY),
            Param("products", "list", children=E.LINE),
            Param("notify", "bool", True),
            INPUTS,
        ),
        writes=True,
    ),
    Method(
        "opportunities",
        "GetOpportunity",
        get_opportunity,
        (PROFILE, Param("opportunity_id", "int", True), *WITH_OPPORTUNITY),
    ),
    Method("tickets", "GetTickets", get_tickets, (PROFILE,)),
    _lookup_method("tickets", "GetOrigins", "ticket_origin", "origins"),
    _lookup_method("tickets", "GetCases", "ticket_case", "cases"),
    _lookup_method("tickets", "GetPriorities", "priority", "priorities"),
    Method("tickets", "CreateTicket", create_ticket, (PROFILE, *E.params(E.TICKET), Param("notify", "bool", True)), writes=True),
)

MODULES = ("auth", "profiles", "companies", "contacts", "products", "opportunities", "tickets")
