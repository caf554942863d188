"""The 38 centiaCRM v1 methods (and ``Auth.Logout``) as a table.

Each :class:`Method` names its module, its parameters (the specs
:func:`~polycrm.faces.centia.wire.parse` checks a request against) and its
handler in :mod:`polycrm.faces.centia.modules`; lookup lists and input lists
are generic handlers parameterised here. The endpoint routes by this table.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from polycrm.core import opportunities as core_opportunities
from polycrm.faces.centia import maps
from polycrm.faces.centia.modules import (
    auth,
    catalogs,
    companies,
    contacts,
    opportunities,
    products,
    profiles,
    tickets,
)
from polycrm.faces.centia.wire import Param

PROFILE = Param("profile_id", "int", True)
PAGINATION = (Param("pagination", "int"), Param("page", "int"))


@dataclass(frozen=True)
class Method:
    module: str
    name: str
    handler: Callable[..., dict[str, Any]]
    params: tuple[Param, ...] = ()
    auth: bool = True
    writes: bool = False
    # Login and Logout work on credentials, not in a workspace: their handler
    # is called as ``handler(runtime, args, token)``; every other one as
    # ``handler(call)`` with a :class:`~polycrm.faces.centia.modules._common.Call`.
    on_credentials: bool = False

    @property
    def takes_profile(self) -> bool:
        return any(p.name == "profile_id" for p in self.params)


WITH_OPPORTUNITY = tuple(Param(f"with_{x}", "bool") for x in ("user", "company", "contact", "products", "inputs"))
INPUTS = Param("inputs", "object")


def _lookup_method(module: str, name: str, kind: str, key: str, extras: Sequence[str] = ()) -> Method:
    return Method(module, name, catalogs.lookup_list(kind, key, extras), (PROFILE,))


METHODS: tuple[Method, ...] = (
    Method(
        "auth", "Login", auth.login, (Param("email", "str", True), Param("password", "str", True)),
        auth=False, on_credentials=True,
    ),
    Method("auth", "Logout", auth.logout, on_credentials=True),
    Method("profiles", "GetProfiles", profiles.get_profiles),
    _lookup_method("profiles", "GetStages", "stage", "stages", ("probability",)),
    Method("profiles", "GetCountries", profiles.get_countries),
    Method("profiles", "GetStates", profiles.get_states, (Param("country", "str", True),)),
    Method("profiles", "GetUsers", profiles.get_users, (PROFILE,)),
    Method(
        "companies",
        "GetCompanies",
        companies.get_companies,
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
    Method("companies", "GetInputs", catalogs.input_list("customer"), (PROFILE,)),
    Method(
        "companies",
        "CreateCompany",
        companies.create_company,
        (
            PROFILE,
            *maps.params(maps.COMPANY),
            Param("shipping_address", "address"),
            Param("billing_address", "address"),
            INPUTS,
        ),
        writes=True,
    ),
    Method(
        "companies",
        "GetCompany",
        companies.get_company,
        (PROFILE, Param("search_by", "enum", True, ("id", "client_number")), Param("search_value", "str", True)),
    ),
    Method(
        "contacts",
        "GetContacts",
        contacts.get_contacts,
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
    Method("contacts", "GetInputs", catalogs.input_list("contact"), (PROFILE,)),
    Method(
        "contacts",
        "CreateContact",
        contacts.create_contact,
        (
            PROFILE,
            *maps.params(maps.CONTACT),
            Param("shipping_address", "address"),
            Param("billing_address", "address"),
            Param("assistant", "object", children=maps.ASSISTANT),
            INPUTS,
        ),
        writes=True,
    ),
    Method(
        "contacts",
        "GetContact",
        contacts.get_contact,
        (
            PROFILE,
            Param("company_id", "int"),
            Param("search_by", "enum", True, ("id", "email")),
            Param("search_value", "str", True),
        ),
    ),
    Method("products", "GetProducts", products.get_products, (PROFILE, Param("with_inputs", "bool"))),
    _lookup_method("products", "GetCategories", "product_group", "categories"),
    _lookup_method("products", "GetValidities", "product_validity", "validities"),
    _lookup_method("products", "GetDiscounts", "product_discount", "discounts", ("value",)),
    _lookup_method("products", "GetMeasures", "unit", "measures"),
    _lookup_method("products", "GetTaxes", "tax", "taxes", ("value",)),
    Method("products", "GetInputs", catalogs.input_list("product"), (PROFILE,)),
    Method("products", "CreateProduct", products.create_product, (PROFILE, *maps.params(maps.PRODUCT), INPUTS), writes=True),
    Method(
        "products",
        "EditProduct",
        products.edit_product,
        (PROFILE, Param("product_id", "int", True), *maps.params(maps.PRODUCT), INPUTS),
        writes=True,
    ),
    Method("opportunities", "GetInputs", catalogs.input_list("opportunity"), (PROFILE,)),
    Method(
        "opportunities",
        "GetOpportunities",
        opportunities.get_opportunities,
        (
            PROFILE,
            Param("user_id", "int"),
            Param("status", "enum", choices=core_opportunities.STATUSES),
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
        opportunities.create_opportunity,
        (
            PROFILE,
            *maps.params(maps.OPPORTUNITY),
            Param("products", "list", children=maps.LINE),
            Param("notify", "bool", True),
            INPUTS,
        ),
        writes=True,
    ),
    Method(
        "opportunities",
        "GetOpportunity",
        opportunities.get_opportunity,
        (PROFILE, Param("opportunity_id", "int", True), *WITH_OPPORTUNITY),
    ),
    Method("tickets", "GetTickets", tickets.get_tickets, (PROFILE,)),
    _lookup_method("tickets", "GetOrigins", "ticket_origin", "origins"),
    _lookup_method("tickets", "GetCases", "ticket_case", "cases"),
    _lookup_method("tickets", "GetPriorities", "priority", "priorities"),
    Method("tickets", "CreateTicket", tickets.create_ticket, (PROFILE, *maps.params(maps.TICKET), Param("notify", "bool", True)), writes=True),
)

MODULES = ("auth", "profiles", "companies", "contacts", "products", "opportunities", "tickets")
