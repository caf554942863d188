"""The pages: what each one reads or writes through the core services."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from starlette.responses import RedirectResponse, Response

from polycrm.core import browse, bulk_actions, customers, documents, lookups, signin, throttle
from polycrm.core import calls
from polycrm.core import sales
from polycrm.core import products
from polycrm.core import contacts
from polycrm.core import opportunities
from polycrm.core import tickets
from polycrm.core.auth import (
    CENTIA_TOKEN,
    CIRRUS_BEARER,
    CIRRUS_CLIENT,
    CIRRUS_XTOKEN,
    MICROBIZZ_ACCESSTOKEN,
    MICROBIZZ_APIKEY,
)
from polycrm.core.errors import Invalid, NotFound
from polycrm.core.errors import CoreError
from polycrm.core.models import Activity, Contact, Customer, Opportunity, Product, Quote, Ticket, User
from polycrm.core.query import Page
from polycrm.web import bulk as web_bulk
from polycrm.web import charts, forms, lists, records
from polycrm.web.quotes import QUOTE_FIELDS
from polycrm.web.forms import Field
from polycrm.web.handler import Ctx
from polycrm.platform import pages as platform_pages

PER_PAGE = 25

# -- form definitions --------------------------------------------------------

CUSTOMER_FIELDS: tuple[Field, ...] = (
    Field("name", "Name", "name", required=True, group="Customer", autocomplete="organization"),
    Field("number", "Customer number", "number", max_length=100, group="Customer",
          hint="Unique within your CRM; leave empty if you do not number customers."),
    Field("type", "Type", "type_id", "select", choices="customer_type", group="Customer"),
    Field("industry", "Industry", "industry_id", "select", choices="industry", group="Customer"),
    Field("maingroup", "Main group", "maingroup_id", "select", choices="maingroup", group="Customer"),
    Field("parent", "Parent customer", "parent_id", "select", choices="customer", group="Customer"),
    Field("owner", "Responsible user", "user_id", "select", choices="user", group="Customer"),
    Field("email", "E-mail", "email", "email", group="Contact details", autocomplete="email"),
    Field("phone", "Phone", "phone", "tel", max_length=64, group="Contact details", autocomplete="tel"),
    Field("cellphone", "Mobile", "cellphone", "tel", max_length=64, group="Contact details"),
    Field("www", "Website", "www", group="Contact details", autocomplete="url"),
    Field("vat", "VAT number", "vat", max_length=64, group="Contact details"),
    Field("street", "Street", "addresses.visiting.street", group="Visiting address"),
    # The house number is a part of its own, as centiaCRM and Cirrus keep it (Microbizz joins them).
    Field("house_number", "House number", "addresses.visiting.number", max_length=32, group="Visiting address"),
    Field("zip", "Postal code", "addresses.visiting.zip", max_length=32, group="Visiting address"),
    Field("city", "City", "addresses.visiting.city", group="Visiting address"),
    Field("country", "Country", "addresses.visiting.country", max_length=64, group="Visiting address"),
    Field("inv_name", "Invoice name", "addresses.invoice.name", group="Invoice address"),
    Field("inv_street", "Street", "addresses.invoice.street", group="Invoice address"),
    Field("inv_zip", "Postal code", "addresses.invoice.zip", max_length=32, group="Invoice address"),
    Field("inv_city", "City", "addresses.invoice.city", group="Invoice address"),
    Field("inv_email", "Invoice e-mail", "addresses.invoice.email", "email", group="Invoice address"),
    Field("description", "Description", "description", "textarea", max_length=10000, group="Other"),
    Field("is_prospect", "Prospect", "is_prospect", "checkbox", group="Other"),
    Field("active", "Active", "active", "checkbox", group="Other",
          hint="Closed (inactive) customers stay searchable but are marked as closed."),
)

CONTACT_FIELDS: tuple[Field, ...] = (
    Field("name", "First name", "name", required=True, autocomplete="off"),
    Field("surname", "Last name", "surname", autocomplete="off"),
    Field("jobtitle", "Job title", "jobtitle"),
    Field("department", "Department", "department"),
    Field("email", "E-mail", "email", "email", autocomplete="off"),
    Field("phone", "Phone", "phone", "tel", max_length=64, autocomplete="off"),
    Field("cellphone", "Mobile", "cellphone", "tel", max_length=64, autocomplete="off"),
)

PRODUCT_FIELDS: tuple[Field, ...] = (
    Field("name", "Name", "name", required=True),
    Field("number", "Product number", "number", max_length=100,
          hint="Unique within your CRM. Also the centiaCRM SKU."),
    Field("short_name", "Short name", "short_name"),
    Field("price", "Sales price", "price", "money", hint="In major currency units, e.g. 1250.50."),
    Field("cost_price", "Cost price", "cost_price", "money"),
    Field("unit", "Unit", "unit_id", "select", choices="unit"),
    Field("group", "Product group", "group_id", "select", choices="product_group"),
    Field("ean", "EAN", "ean", max_length=64),
    Field("description", "Description", "description", "textarea", max_length=10000),
    Field("active", "Active", "active", "checkbox"),
)

ACTIVITY_FIELDS: tuple[Field, ...] = (
    Field("type", "Type", "type_id", "select", required=True, choices="activity_type"),
    Field("description", "Subject", "description", required=True, max_length=2000),
    Field("customer", "Customer", "customer_id", "select", choices="customer"),
    Field("date", "Date", "date", "date"),
    Field("phonenumber", "Phone number", "phonenumber", "tel", max_length=64, hint="For calls."),
    Field("owner", "Assigned to", "user_id", "select", required=True, choices="user"),
    Field("result", "Result", "result", "textarea", max_length=10000, hint="What came of it (a call's note)."),
    Field("note", "Notes", "note", "textarea", max_length=10000),
)

TICKET_FIELDS: tuple[Field, ...] = (
    Field("title", "Title", "title", required=True),
    Field("customer", "Customer", "customer_id", "select", choices="customer"),
    Field("priority", "Priority", "priority_id", "select", choices="priority"),
    Field("status", "Status", "status", "select", required=True,
          options=tuple((s, s.capitalize()) for s in tickets.STATUSES)),
    Field("owner", "Assigned to", "user_id", "select", choices="user"),
    Field("due", "Due", "estimated_end", "date"),
    Field("description", "Description", "description", "textarea", max_length=10000),
)

OPPORTUNITY_FIELDS: tuple[Field, ...] = (
    Field("title", "Title", "title", required=True),
    Field("customer", "Customer", "customer_id", "select", choices="customer"),
    Field("stage", "Stage", "stage_id", "select", choices="stage"),
    Field("status", "Status", "status", "select", required=True,
          options=tuple((s, s.capitalize()) for s in opportunities.STATUSES)),
    Field("value", "Value", "value", "money", hint="In major currency units, e.g. 14995.00."),
    Field("close", "Expected close", "estimated_end", "date"),
    Field("owner", "Salesperson", "user_id", "select", choices="user"),
    Field("description", "Description", "description", "textarea", max_length=10000),
)

RECORD_KINDS = [
    records.RecordKind(
        "contacts", "contact", Contact,
        (*CONTACT_FIELDS, Field("customer", "Customer", "customer_id", "select", choices="customer")),
        contacts.SERVICE, lambda c: f"{c.name} {c.surname}".strip() or "(no name)",
        lambda c: f"/customers/{c.customer_id}" if c.customer_id else "/contacts"),
    records.RecordKind(
        "activities", "activity", Activity,
        (*ACTIVITY_FIELDS, Field("closed", "Done", "closed", "checkbox")),
        calls.SERVICE, lambda a: a.description or "(no subject)",
        lambda a: f"/customers/{a.customer_id}" if a.customer_id else "/activities"),
    records.RecordKind(
        "tickets", "ticket", Ticket, TICKET_FIELDS, tickets.SERVICE,
        lambda t: t.title or f"Ticket {t.id}", lambda t: "/tickets"),
    # Products have their own new and edit pages (product_new, product_edit); the detail page is shared.
    records.RecordKind(
        "products", "product", Product, PRODUCT_FIELDS, products.SERVICE, lambda p: p.name or f"Product {p.id}",
        lambda p: "/products", pages=("detail",)),
    # Opportunities have their own detail and edit pages (opportunity_detail, _edit); the delete step is shared.
    records.RecordKind(
        "opportunities", "opportunity", Opportunity, OPPORTUNITY_FIELDS, opportunities.SERVICE,
        lambda o: o.title or f"Opportunity {o.id}",
        lambda o: f"/customers/{o.customer_id}" if o.customer_id else "/opportunities", pages=("delete",)),
]

CREDENTIAL_LABELS = {
    MICROBIZZ_APIKEY: "Microbizz API key",
    MICROBIZZ_ACCESSTOKEN: "Microbizz access token",
    CIRRUS_XTOKEN: "Cirrus X-Token",
    CIRRUS_CLIENT: "Cirrus OAuth client",
    CIRRUS_BEARER: "Cirrus bearer token (issued)",
    CENTIA_TOKEN: "centiaCRM session token (issued)",
}


# The record lists (columns, filters, saved views) live in polycrm.web.lists.
LISTS = lists.LISTS
display_names = lists.display_names


def _pager(url: str, query: str, page: Page, **more: str) -> dict[str, str | None]:
    def link(n: int) -> str:
        params = {k: v for k, v in {"q": query, **more}.items() if v}
        if n > 1:
            params["page"] = str(n)
        return url + ("?" + urlencode(params) if params else "")

    return {"prev": link(page.page - 1) if page.has_prev else None, "next": link(page.page + 1) if page.has_next else None}


# -- sign in / out ---------------------------------------------------------------


def _safe_next(target: str | None) -> str:
    """Only local paths: never redirect a signed-in user to another site."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def sign_in_form(ctx: Ctx) -> Response:
    if ctx.user is not None:
        return RedirectResponse("/", status_code=303)
    params = ctx.request.query_params
    return ctx.render("signin.html", values={"tenant": params.get("tenant", "")}, next=_safe_next(params.get("next")))


def sign_in(ctx: Ctx) -> Response:
    tenant = str(ctx.form.get("tenant", "")).strip()
    login = str(ctx.form.get("login", "")).strip()
    password = str(ctx.form.get("password", ""))
    target = _safe_next(ctx.form.get("next"))
    missing = [label for label, v in (("tenant", tenant), ("user name or e-mail", login), ("password", password)) if not v]
    if missing:
        error = "Enter your " + ", ".join(missing) + "."
    else:
        address = ctx.request.client.host if ctx.request.client else None
        try:
            principal = signin.sign_in(ctx.rt.db, tenant, login, password, address=address)
        except throttle.Throttled as exc:
            response = ctx.render("signin.html", 429, error=f"Too many failed sign-ins: try again in {exc.retry_after} seconds.",
                                  values={"tenant": tenant, "login": login}, next=target)
            response.headers["Retry-After"] = str(exc.retry_after)
            return response
        if principal is not None:
            ctx.session.clear()  # a fresh session (and CSRF token) for the signed-in user
            ctx.session["sid"] = signin.open_session(ctx.rt.db, principal)
            ctx.session["tenant"] = tenant
            return ctx.redirect(target)
        error = "The tenant, user name or password is not correct."
    return ctx.render("signin.html", 401 if not missing else 400, error=error,
                      values={"tenant": tenant, "login": login}, next=target)


def sign_out(ctx: Ctx) -> Response:
    signin.close_session(ctx.ws, ctx.session.get("sid"))  # a copy of the cookie is refused from now on
    ctx.session.clear()
    return ctx.redirect("/signin", "You are signed out.")


# -- dashboard -------------------------------------------------------------------------

COUNTED = {"Customers": Customer, "Products": Product, "Quotes": Quote, "Opportunities": Opportunity, "Tickets": Ticket}
_COUNT_LINKS = {"Customers": "/customers", "Products": "/products", "Quotes": "/quotes",
                "Opportunities": "/opportunities", "Tickets": "/tickets"}
_CHANGE_LINKS = {"customer": "/customers/{id}", "product": "/products/{id}", "quote": "/quotes/{id}",
                 "contact": "/contacts/{id}", "activity": "/activities/{id}", "opportunity": "/opportunities/{id}",
                 "ticket": "/tickets/{id}"}


def dashboard(ctx: Ctx) -> Response:
    counts = browse.counts(ctx.ws, COUNTED)
    tiles = [(label, counts[label], _COUNT_LINKS[label]) for label in COUNTED]
    open_items = browse.open_activities(ctx.ws, ctx.user.id, limit=15)
    changes = browse.recent_changes(ctx.ws, limit=12)
    n = display_names(ctx, open_items, {"lookup": ("type_id",), "customer": ("customer_id",)})
    change_links = {c: _CHANGE_LINKS[c.kind].format(id=c.id) if c.kind in _CHANGE_LINKS else None for c in changes}
    data = browse.dashboard_charts(ctx.ws, ctx.today())
    chart_list = [
        ("Open pipeline by stage", charts.bars("Open pipeline value by stage", [
            (name, [total], [ctx.amount(total) + f" ({count})"]) for name, total, count in data.pipeline])),
        ("Won and lost by month", charts.bars("Opportunities won and lost by month", [
            (month, [won, lost], [str(won), str(lost)]) for month, won, lost in data.won_lost], ("Won", "Lost"))),
        ("Activities per week", charts.bars("Activities per week (by date, week starting)", [
            (week, [n], [str(n)]) for week, n in data.activities])),
    ]
    return ctx.render("dashboard.html", tiles=tiles, charts=chart_list,
                      open_items=open_items, changes=changes, change_links=change_links, n=n,
                      today=ctx.today())


# -- customers ---------------------------------------------------------------------------


def customer_detail(ctx: Ctx) -> Response:
    view = browse.customer_overview(ctx.ws, ctx.request.path_params["id"])
    c = view.customer
    n = display_names(ctx, [c], {"lookup": ("type_id", "industry_id", "maingroup_id"), "user": ("user_id",)})
    n_act = display_names(ctx, view.activities, {"lookup": ("type_id",), "user": ("user_id",)})
    n_quote = display_names(ctx, view.quotes, {"lookup": ("status_id",)})
    # The street is shown with its house number, letter and interior number, as one line.
    addresses = [(kind, {**address, "street": customers.street_line(address)}) for kind in customers.ADDRESS_KINDS
                 if (address := (c.addresses or {}).get(kind))]
    timeline = records.timeline_values(ctx, Customer, c, CUSTOMER_FIELD_LABELS, event_links=EVENT_LINKS, related=[
        *view.activities, *view.documents, *view.quotes, *view.opportunities, *view.tickets])
    n_more = display_names(ctx, [*view.opportunities, *view.tickets, *timeline["events"]],
                           {"lookup": ("stage_id", "priority_id"), "user": ("user_id",)})
    # Connected Microbizz apps' customer tabs (polycrm/platform/pages.py).
    tabs = platform_pages.customer_tabs(ctx, c)
    response = ctx.render("customer.html", c=c, view=view, n=n, n_act=n_act, n_quote=n_quote, addresses=addresses,
                          **{**timeline, "n_more": n_more}, app_tabs=tabs)
    return platform_pages.allow_frames(response, tabs)


# core path -> the label a person knows it by (the form's), for the timeline.
CUSTOMER_FIELD_LABELS = {
    **{f.path: (f"{f.group}: {f.label}" if f.group and f.group.endswith("address") else f.label)
       for f in CUSTOMER_FIELDS},
    "deleted": "Deleted", "addresses.visiting.street": "Visiting address: Street",
}
EVENT_LINKS = {"activity": None, "document": "/documents/{id}/download", "quote": "/quotes/{id}",
               "opportunity": "/opportunities/{id}", "ticket": None}


def _form_field(fields: Sequence[Field], path: str | None) -> str:
    """The form field that writes core ``path`` (the first field when none does)."""
    return next((f.name for f in fields if f.path == path), fields[0].name)


def _customer_checks(ctx: Ctx, values: dict[str, Any], errors: dict[str, str], customer: Customer | None) -> None:
    """The customer service's number and parent rules, asked before the write
    so that the form shows their refusals together with its own errors."""
    customer_id = customer.id if customer is not None else None
    if values.get("number") and "number" not in errors:
        try:
            customers.check_number(ctx.ws, values["number"], customer)
        except customers.NumberTaken as exc:
            errors.update(_customer_error(exc, customer_id))
    if values.get("parent_id") and "parent" not in errors:
        try:
            customers.check_parent(ctx.ws, customer_id, values["parent_id"], field="parent")
        except Invalid as exc:  # a cycle in the hierarchy
            errors["parent"] = "This parent would make the customer its own parent." if customer_id else str(exc)


def _customer_error(exc: CoreError, customer_id: int | None) -> dict[str, str]:
    """A refusal of the customer service as the form error of the field it names."""
    if isinstance(exc, customers.NumberTaken):
        return {"number": f"Customer number {exc.number} is already used by {exc.holder.name}."}
    if exc.field == "parent_id" and isinstance(exc, Invalid) and customer_id:
        return {"parent": "This parent would make the customer its own parent."}
    return {_form_field(CUSTOMER_FIELDS, exc.field): exc.message}


def _form_page(ctx: Ctx, template: str, fields: Sequence[Field], values: dict[str, str], status: int = 200,
               errors: dict[str, str] | None = None, exclude: int | None = None, **more: Any) -> Response:
    options = {f.name: forms.choices(ctx.ws, f, exclude=exclude, selected=values.get(f.name, ""))
               for f in fields if f.kind == "select"}
    return ctx.render(template, status, groups=forms.grouped(fields), values=values, errors=errors or {},
                      options=options, **more)


def customer_new(ctx: Ctx) -> Response:
    values = forms.initial(CUSTOMER_FIELDS, None)
    values["active"] = "1"
    default_type = lookups.default(ctx.ws, "customer_type")
    values["type"] = str(default_type.id) if default_type else ""
    values["owner"] = str(ctx.user.id)
    return _form_page(ctx, "form.html", CUSTOMER_FIELDS, values, title="New customer", action="/customers/new",
                      cancel="/customers")


def customer_create(ctx: Ctx) -> Response:
    values, errors, raw = forms.read(ctx.ws, CUSTOMER_FIELDS, ctx.form)
    _customer_checks(ctx, values, errors, None)
    if not errors:
        values["profile_id"] = browse.home_profile_id(ctx.ws, ctx.user.id)
        try:
            customer = customers.create(ctx.ws, {k: v for k, v in values.items() if v is not None})
        except CoreError as exc:
            errors = _customer_error(exc, None)
        else:
            return ctx.redirect(f"/customers/{customer.id}", f"Customer {customer.name} created.")
    return _form_page(ctx, "form.html", CUSTOMER_FIELDS, raw, 400, errors, title="New customer",
                      action="/customers/new", cancel="/customers")


def customer_edit(ctx: Ctx) -> Response:
    customer = ctx.ws.require(Customer, ctx.request.path_params["id"], "customer")
    return _form_page(ctx, "form.html", CUSTOMER_FIELDS, forms.initial(CUSTOMER_FIELDS, customer),
                      exclude=customer.id, title=f"Edit {customer.name}", action=f"/customers/{customer.id}/edit",
                      cancel=f"/customers/{customer.id}")


def customer_update(ctx: Ctx) -> Response:
    customer = ctx.ws.require(Customer, ctx.request.path_params["id"], "customer")
    values, errors, raw = forms.read(ctx.ws, CUSTOMER_FIELDS, ctx.form)
    _customer_checks(ctx, values, errors, customer)
    if not errors:
        try:
            # Clearing every part of an address removes the address, not leaves {}.
            changed = customers.update(ctx.ws, customer, values, drop_emptied_addresses=True)
        except CoreError as exc:
            errors = _customer_error(exc, customer.id)
        else:
            return ctx.redirect(f"/customers/{customer.id}", "Changes saved." if changed else "No changes.")
    return _form_page(ctx, "form.html", CUSTOMER_FIELDS, raw, 400, errors, exclude=customer.id,
                      title=f"Edit {customer.name}", action=f"/customers/{customer.id}/edit",
                      cancel=f"/customers/{customer.id}")


def contact_new(ctx: Ctx) -> Response:
    customer = ctx.ws.require(Customer, ctx.request.path_params["id"], "customer")
    return _contact_form(ctx, customer, forms.initial(CONTACT_FIELDS, None))


def _contact_form(ctx: Ctx, customer: Customer, values: dict[str, str], status: int = 200,
                  errors: dict[str, str] | None = None) -> Response:
    return _form_page(ctx, "form.html", CONTACT_FIELDS, values, status, errors,
                      title=f"New contact at {customer.name}", action=f"/customers/{customer.id}/contacts/new",
                      cancel=f"/customers/{customer.id}")


def contact_create(ctx: Ctx) -> Response:
    customer = ctx.ws.require(Customer, ctx.request.path_params["id"], "customer")
    values, errors, raw = forms.read(ctx.ws, CONTACT_FIELDS, ctx.form)
    if not errors:
        profile_id = customer.profile_id or browse.home_profile_id(ctx.ws, ctx.user.id)
        values = {k: v for k, v in values.items() if v is not None}
        try:
            contact = contacts.create(ctx.ws, {**values, "customer_id": customer.id, "profile_id": profile_id})
        except CoreError as exc:
            errors = {_form_field(CONTACT_FIELDS, exc.field): exc.message}
        else:
            return ctx.redirect(f"/customers/{customer.id}",
                                f"Contact {contact.name} {contact.surname}".rstrip() + " added.")
    return _contact_form(ctx, customer, raw, 400, errors)


def document_download(ctx: Ctx) -> Response:
    doc = documents.require_readable(ctx.ws, ctx.request.path_params["id"])
    try:
        data = documents.read_bytes(ctx.ws, doc)
    except (FileNotFoundError, ValueError):  # bytes gone, or a malformed hash
        raise NotFound(f"The file content of document {doc.id} is missing from the file store.") from None
    name = doc.filename or f"document-{doc.id}"
    ascii_name = name.encode("ascii", "replace").decode().replace('"', "'").replace("?", "_")
    return Response(
        data,
        media_type=doc.mime or "application/octet-stream",
        headers={"Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"},
    )


# -- products ---------------------------------------------------------------------------------


# core product field -> the form field a product service refusal is shown on.
PRODUCT_FORM_FIELDS = {f.path: f for f in PRODUCT_FIELDS}


def _save_product(ctx: Ctx, values: dict[str, Any], errors: dict[str, str], product: Product | None) -> Any:
    """Write the form's values through the product service; a refusal becomes an
    error on its form field, worded with the field's label ("Product number P-1
    is already used by Socks."). Returns the product, or whether the update changed it."""
    try:
        if product is None:
            return products.create(ctx.ws, values)
        return products.update(ctx.ws, product, values)
    except CoreError as exc:
        ctx.ws.rollback()
        # Every field the service checks is on the form; the name field carries anything else.
        field = PRODUCT_FORM_FIELDS.get(exc.field or "", PRODUCT_FIELDS[0])
        detail = exc.message[len(exc.field) + 1:] if exc.field and exc.message.startswith(exc.field + " ") else exc.message
        errors[field.name] = f"{field.label} {detail}."
        return None


def product_new(ctx: Ctx) -> Response:
    values = forms.initial(PRODUCT_FIELDS, None)
    values["active"] = "1"
    unit = lookups.default(ctx.ws, "unit")
    values["unit"] = str(unit.id) if unit else ""
    return _form_page(ctx, "form.html", PRODUCT_FIELDS, values, title="New product", action="/products/new",
                      cancel="/products")


def product_create(ctx: Ctx) -> Response:
    values, errors, raw = forms.read(ctx.ws, PRODUCT_FIELDS, ctx.form)
    product = None
    if not errors:
        values["profile_id"] = browse.home_profile_id(ctx.ws, ctx.user.id)
        product = _save_product(ctx, {k: v for k, v in values.items() if v is not None}, errors, None)
    if errors:
        return _form_page(ctx, "form.html", PRODUCT_FIELDS, raw, 400, errors, title="New product",
                          action="/products/new", cancel="/products")
    return ctx.redirect(f"/products?q={quote(product.number or product.name)}", f"Product {product.name} created.")


def product_edit(ctx: Ctx) -> Response:
    product = ctx.ws.require(Product, ctx.request.path_params["id"], "product")
    return _form_page(ctx, "form.html", PRODUCT_FIELDS, forms.initial(PRODUCT_FIELDS, product),
                      title=f"Edit {product.name}", action=f"/products/{product.id}/edit",
                      cancel=f"/products/{product.id}")


def product_update(ctx: Ctx) -> Response:
    product = ctx.ws.require(Product, ctx.request.path_params["id"], "product")
    values, errors, raw = forms.read(ctx.ws, PRODUCT_FIELDS, ctx.form)
    changed = None if errors else _save_product(ctx, values, errors, product)
    if errors:
        return _form_page(ctx, "form.html", PRODUCT_FIELDS, raw, 400, errors, title=f"Edit {product.name}",
                          action=f"/products/{product.id}/edit", cancel=f"/products/{product.id}")
    return ctx.redirect(f"/products/{product.id}", "Changes saved." if changed else "No changes.")


# -- activities ----------------------------------------------------------------------------------

ACTIVITY_VIEWS = dict(zip(browse.ACTIVITY_SCOPES, ("My open activities", "All open activities", "All activities")))


def _activity_customer(ctx: Ctx, a: Activity, n: lists.Names) -> lists.Cell:
    return lists.Cell(n["customer"].get(a.customer_id, ""))


# The activity list's bulk actions; an export has these columns.
ACTIVITY_BULK = web_bulk.BulkPage(
    bulk_actions.KINDS["activities"], "/activities",
    (
        lists.Column("date", "Date", lambda ctx, a, n: lists.Cell(a.date.isoformat() if a.date else "")),
        lists.Column("type", "Type", lambda ctx, a, n: lists.Cell(n["lookup"].get(a.type_id, ""))),
        lists.Column("subject", "Subject", lambda ctx, a, n: lists.Cell(a.description or "")),
        lists.Column("customer", "Customer", _activity_customer),
        lists.Column("phone", "Phone number", lambda ctx, a, n: lists.Cell(a.phonenumber or "")),
        lists.Column("owner", "Assigned to", lambda ctx, a, n: lists.Cell(n["user"].get(a.user_id, ""))),
        lists.Column("status", "Status", lambda ctx, a, n: lists.Cell("Done" if a.closed else "Open")),
    ),
    {"lookup": ("type_id",), "customer": ("customer_id",), "user": ("user_id",)},
    web_bulk.TITLES["activities"], display_names,
)


def activity_list(ctx: Ctx) -> Response:
    show = ctx.request.query_params.get("show", "mine")
    if show not in ACTIVITY_VIEWS:
        show = "mine"
    query = ctx.request.query_params.get("q", "").strip()
    page = browse.activities(ctx.ws, query, show, ctx.user.id, page=ctx.int_param("page"), per_page=PER_PAGE)
    n = display_names(ctx, page.items, {"lookup": ("type_id",), "customer": ("customer_id",), "user": ("user_id",)})
    here = {k: v for k, v in {"show": show if show != "mine" else "", "q": query,
                              "page": str(page.page) if page.page > 1 else ""}.items() if v}
    return ctx.render("activities.html", page=page, n=n, query=query, show=show, views=ACTIVITY_VIEWS,
                      links=_pager("/activities", query, page, show=show if show != "mine" else ""),
                      bulk=ACTIVITY_BULK.kind, bulk_url="/activities", bulk_query=urlencode(here),
                      users=browse.active_users(ctx.ws))


def activity_new(ctx: Ctx) -> Response:
    values = forms.initial(ACTIVITY_FIELDS, None)
    call = lookups.by_code(ctx.ws, "activity_type", "call")
    values.update(type=str(call.id) if call else "", owner=str(ctx.user.id), date=ctx.today().isoformat())
    customer_id = ctx.request.query_params.get("customer", "")
    if customer_id.isdigit():
        values["customer"] = customer_id
    return _form_page(ctx, "form.html", ACTIVITY_FIELDS, values, title="New activity", action="/activities/new",
                      cancel="/activities")


def activity_create(ctx: Ctx) -> Response:
    values, errors, raw = forms.read(ctx.ws, ACTIVITY_FIELDS, ctx.form)
    if errors:
        return _form_page(ctx, "form.html", ACTIVITY_FIELDS, raw, 400, errors, title="New activity",
                          action="/activities/new", cancel="/activities")
    activity = calls.SERVICE.create(ctx.ws, {k: v for k, v in values.items() if v is not None})
    target = f"/customers/{activity.customer_id}" if activity.customer_id else "/activities"
    return ctx.redirect(target, "Activity created.")


def activity_done(ctx: Ctx) -> Response:
    activity = ctx.ws.require(Activity, ctx.request.path_params["id"], "activity")
    calls.mark_done(ctx.ws, activity)
    return ctx.redirect(_safe_next(ctx.form.get("next")) if ctx.form.get("next") else "/activities",
                        "Activity marked as done.")


# -- quotes ------------------------------------------------------------------------------------------


# The columns of a quote line, as its changes show on the quote's timeline.
QUOTE_LINE_LABELS = {"product_id": "Product", "product_number": "Product number", "text": "Text",
                     "quantity": "Quantity", "unit": "Unit", "unit_id": "Unit", "price": "Unit price",
                     "cost_price": "Cost price", "discountpercent": "Discount %", "discountamount": "Discount amount",
                     "sortorder": "Position", "deleted": "Removed"}


def quote_detail(ctx: Ctx) -> Response:
    quote_ = ctx.ws.require(Quote, ctx.request.path_params["id"], "quote")
    lines = browse.quote_lines(ctx.ws, quote_.id)
    # The core's line maths: the sum of the lines is the quote's price on every API.
    totals = [sales.line_total(line) for line in lines]
    n = display_names(ctx, [quote_], {"lookup": ("status_id", "type_id"), "customer": ("customer_id",),
                                      "user": ("user_id",)})
    units = browse.lookup_names(ctx.ws, {line.unit_id for line in lines})
    labels = {**{f.path: f.label for f in QUOTE_FIELDS}, "price": "Quote price", "number": "Number",
              "user_id": "Salesperson", "deleted": "Deleted",
              **browse.line_labels(ctx.ws, Quote, quote_.id, QUOTE_LINE_LABELS)}
    return ctx.render("quote.html", q=quote_, lines=list(zip(lines, totals)), n=n, units=units,
                      total=sales.document_total(lines) if lines else None,
                      **records.timeline_values(ctx, Quote, quote_, labels))


# -- opportunities -----------------------------------------------------------------------------------

def opportunity_board(ctx: Ctx) -> Response:
    stages = lookups.items(ctx.ws, "stage")
    columns = browse.opportunity_board(ctx.ws, stages)
    cards = [o for col in columns for o in col.cards]
    n = display_names(ctx, cards, {"customer": ("customer_id",), "user": ("user_id",)})
    return ctx.render("board.html", columns=columns, stages=stages, n=n)


def opportunity_move(ctx: Ctx) -> Response:
    """Move an opportunity to another stage (the board's drop and its keyboard form)."""
    opportunity = ctx.ws.require(Opportunity, ctx.request.path_params["id"], "opportunity")
    field = next(f for f in OPPORTUNITY_FIELDS if f.name == "stage")
    try:
        stage_id = forms.parse_field(ctx.ws, field, str(ctx.form.get("stage", "")).strip())
    except ValueError as exc:
        return ctx.web.error_page(ctx, 400, "Cannot move", str(exc))
    changed = opportunities.update(ctx.ws, opportunity, {"stage_id": stage_id})
    stage = lookups.get(ctx.ws, "stage", stage_id) if stage_id else None
    target = _safe_next(ctx.form.get("next")) if ctx.form.get("next") else "/opportunities/board"
    return ctx.redirect(target, (f"“{opportunity.title}” moved to {stage.name if stage else 'no stage'}."
                                 if changed else "No changes."))


def opportunity_detail(ctx: Ctx) -> Response:
    o = ctx.ws.require(Opportunity, ctx.request.path_params["id"], "opportunity")
    n = display_names(ctx, [o], {"lookup": ("stage_id", "type_id", "source_id"), "customer": ("customer_id",),
                                 "user": ("user_id",)})
    labels = {f.path: f.label for f in OPPORTUNITY_FIELDS}
    return ctx.render("opportunity.html", o=o, n=n,
                      **records.timeline_values(ctx, Opportunity, o, labels, event_links=EVENT_LINKS))


def _opportunity_form(ctx: Ctx, o: Opportunity, values: dict[str, str], status: int = 200,
                      errors: dict[str, str] | None = None) -> Response:
    return _form_page(ctx, "form.html", OPPORTUNITY_FIELDS, values, status, errors, title=f"Edit {o.title}",
                      action=f"/opportunities/{o.id}/edit", cancel=f"/opportunities/{o.id}")


def opportunity_edit(ctx: Ctx) -> Response:
    o = ctx.ws.require(Opportunity, ctx.request.path_params["id"], "opportunity")
    return _opportunity_form(ctx, o, forms.initial(OPPORTUNITY_FIELDS, o))


def opportunity_update(ctx: Ctx) -> Response:
    o = ctx.ws.require(Opportunity, ctx.request.path_params["id"], "opportunity")
    values, errors, raw = forms.read(ctx.ws, OPPORTUNITY_FIELDS, ctx.form)
    if not errors:
        try:
            changed = opportunities.update(ctx.ws, o, values)
        except CoreError as exc:
            ctx.ws.rollback()
            errors = {_form_field(OPPORTUNITY_FIELDS, exc.field): exc.message}
        else:
            return ctx.redirect(f"/opportunities/{o.id}", "Changes saved." if changed else "No changes.")
    return _opportunity_form(ctx, o, raw, 400, errors)


# -- global search -------------------------------------------------------------------------------------

SEARCH_TITLES = {"customers": "Customers", "contacts": "Contacts", "products": "Products", "quotes": "Quotes",
                 "opportunities": "Opportunities", "tickets": "Tickets"}
SEARCH_LISTS = {"customers": "/customers", "products": "/products", "quotes": "/quotes",
                "opportunities": "/opportunities", "tickets": "/tickets"}


def _hit(kind: str, item: Any, n: dict[str, dict[int, str]]) -> tuple[str, str | None, str]:
    """(label, link, detail) of one search hit."""
    customer = n["customer"].get(getattr(item, "customer_id", None), "")
    if kind == "customers":
        return item.name or "(no name)", f"/customers/{item.id}", " · ".join(
            x for x in (item.number, ((item.addresses or {}).get("visiting") or {}).get("city"), item.phone) if x)
    if kind == "contacts":
        label = f"{item.name} {item.surname}".strip() or "(no name)"
        return label, f"/customers/{item.customer_id}" if item.customer_id else None, " · ".join(
            x for x in (item.jobtitle, customer, item.email, item.phone) if x)
    if kind == "products":
        return item.name or "(no name)", f"/products/{item.id}", item.number or ""
    if kind == "quotes":
        return f"{item.number or item.id} {item.title or ''}".strip(), f"/quotes/{item.id}", customer
    title = item.title or "(no title)"
    return title, f"{SEARCH_LISTS[kind]}?{urlencode({'q': title})}", " · ".join(
        x for x in (customer, item.status) if x)


def global_search(ctx: Ctx) -> Response:
    query = ctx.request.query_params.get("q", "").strip()
    found = browse.search_everything(ctx.ws, query)
    items = [item for page in found.values() for item in page.items]
    n = display_names(ctx, items, {"customer": ("customer_id",)}) if items else {"customer": {}}
    groups = [
        (kind, SEARCH_TITLES[kind], page.total, [_hit(kind, item, n) for item in page.items],
         f"{SEARCH_LISTS[kind]}?{urlencode({'q': query})}" if kind in SEARCH_LISTS else None, page.more)
        for kind, page in found.items() if page.total
    ]
    return ctx.render("search.html", query=query, global_query=query, groups=groups,
                      total=sum(g[2] for g in groups), more=any(g[5] for g in groups))


# -- not found ------------------------------------------------------------------------------------------


def not_found(ctx: Ctx) -> Response:
    """Any address no page answers: the styled error page (with the menu when signed in)."""
    return ctx.web.error_page(ctx, 404, "Page not found",
                              f"There is no page at {ctx.request.url.path}. Check the address or use the menu.")


# -- API access ------------------------------------------------------------------------------------------


def api_access(ctx: Ctx) -> Response:
    info = browse.tenant_info(ctx.ws)
    base = str(ctx.request.base_url).rstrip("/")
    creds = [(CREDENTIAL_LABELS.get(kind, kind), count) for kind, count in sorted(info.credential_kinds.items())]
    return ctx.render("api.html", info=info, base=base, creds=creds, cirrus_prefix=ctx.rt.settings.cirrus_prefix)
