"""The record lists as data: columns (sortable, chosen per user), filters, saved views.

A :class:`ListPage` names its model, its :class:`Column` s and its
:class:`Filter` s. A request's query string (``q``, ``sort``, ``f_<filter>``,
``page``) becomes core :class:`~polycrm.core.query.Criterion` and
:class:`~polycrm.core.query.Sort` values for :func:`polycrm.core.browse.search`;
the web layer never builds SQL. Column choices and saved views are kept per
user by :mod:`polycrm.core.list_views`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from starlette.responses import Response

from polycrm.core import browse, bulk_actions, limits, list_views, lookups, opportunities, tickets
from polycrm.core.errors import Invalid
from polycrm.core.models import Contact, Customer, Opportunity, Product, Quote, Ticket, User
from polycrm.core.query import Criterion, Page, Sort
from polycrm.web import bulk as web_bulk
from polycrm.web import forms
from polycrm.web.handler import Ctx

PER_PAGE = 25
Names = dict[str, dict[int, str]]


@dataclass(frozen=True)
class Cell:
    text: str
    href: str | None = None
    numeric: bool = False
    badge: str | None = None


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    cell: Callable[[Ctx, Any, Names], Cell]
    # The core sort of this column (None: not sortable).
    sort: tuple[Sort, ...] | None = None
    shown: bool = True  # shown until the user chooses otherwise


@dataclass(frozen=True)
class Filter:
    """One filter input. ``kind``: ``lookup`` (``choices`` names the list),
    ``user``, ``text`` (contains), ``choice`` (``options``), ``from``/``to`` (dates)."""

    key: str
    label: str
    kind: str
    path: str
    choices: str | None = None
    options: tuple[tuple[str, str, tuple[Criterion, ...]], ...] = ()

    @property
    def param(self) -> str:
        return "f_" + self.key


@dataclass(frozen=True)
class ListPage:
    key: str
    title: str
    model: type
    url: str
    columns: tuple[Column, ...]
    filters: tuple[Filter, ...]
    # model -> FK columns whose display names a page of rows needs
    names: dict[str, tuple[str, ...]]
    new_url: str | None = None
    search_label: str = "Search"
    bulk: bool = False  # rows can be selected for bulk actions

    def column(self, key: str) -> Column | None:
        return next((c for c in self.columns if c.key == key), None)


@dataclass
class ListState:
    """What a request asks of a list: search, filters, sort, page."""

    query: str = ""
    filters: dict[str, str] = field(default_factory=dict)
    sort: str = ""
    page: int = 1

    def params(self, **changes: Any) -> dict[str, str]:
        values = {"q": self.query, **{f"f_{k}": v for k, v in self.filters.items()}, "sort": self.sort,
                  "page": str(self.page) if self.page > 1 else ""}
        values.update({k: v for k, v in changes.items()})
        return {k: v for k, v in values.items() if v}

    def url(self, base: str, **changes: Any) -> str:
        params = self.params(**changes)
        return base + ("?" + urlencode(params) if params else "")


# -- reading a request ----------------------------------------------------------------------


def read_state(ctx: Ctx, spec: ListPage) -> ListState:
    params = ctx.request.query_params
    filters = {f.key: params.get(f.param, "").strip() for f in spec.filters}
    sort = params.get("sort", "").strip()
    if spec.column(sort.lstrip("-")) is None or spec.column(sort.lstrip("-")).sort is None:
        sort = ""
    return ListState(params.get("q", "").strip(), {k: v for k, v in filters.items() if v}, sort, ctx.int_param("page"))


def criteria(spec: ListPage, state: ListState) -> tuple[list[Criterion], dict[str, str]]:
    """Core criteria of the filters, and a message per filter whose value cannot be used."""
    found: list[Criterion] = []
    problems: dict[str, str] = {}
    for f in spec.filters:
        value = state.filters.get(f.key)
        if not value:
            continue
        if f.kind in ("lookup", "user"):
            key = limits.id_in_range(value)
            if key is None:
                problems[f.key] = f"Choose a {f.label.lower()} from the list."
            else:
                found.append(Criterion("eq", f.path, key))
        elif f.kind == "text":
            found.extend(browse.contains_criteria(spec.model, f.path, value))
        elif f.kind == "choice":
            option = next((o for o in f.options if o[0] == value), None)
            if option is None:
                problems[f.key] = f"Choose a {f.label.lower()} from the list."
            else:
                found.extend(option[2])
        elif f.kind in ("from", "to"):
            try:
                found.append(Criterion(f.kind, f.path, forms.parse_date(value, f.label)))
            except ValueError as exc:
                problems[f.key] = str(exc)
    return found, problems


def order(spec: ListPage, state: ListState) -> tuple[Sort, ...] | None:
    if not state.sort:
        return None
    column = spec.column(state.sort.lstrip("-"))
    descending = state.sort.startswith("-")
    return tuple(Sort(s.path, descending=descending != s.descending, mode=s.mode) for s in column.sort)


def shown_columns(ctx: Ctx, spec: ListPage) -> list[Column]:
    chosen = list_views.chosen_columns(ctx.ws, ctx.user.id, spec.key)
    if chosen is None:
        return [c for c in spec.columns if c.shown]
    picked = [c for c in spec.columns if c.key in chosen]
    return picked or [c for c in spec.columns if c.shown]


def filter_options(ctx: Ctx, f: Filter) -> list[tuple[str, str]]:
    if f.kind == "lookup":
        return [(str(e.id), e.name) for e in lookups.items(ctx.ws, f.choices)]
    if f.kind == "user":
        return [(str(u.id), f"{u.name} {u.surname}".strip() or u.username) for u in browse.active_users(ctx.ws)]
    if f.kind == "choice":
        return [(value, label) for value, label, _ in f.options]
    return []


def display_names(ctx: Ctx, items: Sequence[Any], wanted: dict[str, tuple[str, ...]]) -> Names:
    """Names for the FK columns of a page of rows, one query per kind."""
    found: Names = {"lookup": {}, "customer": {}, "user": {}}
    for kind, cols in wanted.items():
        ids = {getattr(item, col, None) for item in items for col in cols}
        if kind == "lookup":
            found[kind] = browse.lookup_names(ctx.ws, ids)
        else:
            found[kind] = browse.names(ctx.ws, User if kind == "user" else Customer, ids)
    return found


# -- the page ----------------------------------------------------------------------------------


def list_page(spec: ListPage) -> Callable[[Ctx], Response]:
    def show(ctx: Ctx) -> Response:
        state = read_state(ctx, spec)
        found, problems = criteria(spec, state)
        page = browse.search(ctx.ws, spec.model, state.query, page=state.page, per_page=PER_PAGE,
                             criteria=found, order_by=order(spec, state))
        columns = shown_columns(ctx, spec)
        n = display_names(ctx, page.items, spec.names)
        rows = [[c.cell(ctx, item, n) for c in columns] for item in page.items]
        ids = [item.id for item in page.items]
        bulk = bulk_actions.KINDS[spec.key] if spec.bulk else None
        return ctx.render(
            "list.html", 400 if problems else 200, spec=spec, page=page, rows=rows, columns=columns, state=state,
            query=state.query, problems=problems, links=_pager(spec.url, state, page),
            sort_links={c.key: _sort_link(spec, state, c) for c in columns if c.sort},
            filter_options={f.key: filter_options(ctx, f) for f in spec.filters},
            views=list_views.views(ctx.ws, ctx.user.id, spec.key), shown_keys={c.key for c in columns},
            current_query=urlencode(state.params(page="")), ids=ids,
            users=browse.active_users(ctx.ws) if bulk is not None and bulk.update else [], bulk=bulk,
            titles=[web_bulk.TITLES[spec.key](item) for item in page.items] if bulk is not None else [],
        )

    show.__name__ = f"list_{spec.key}"
    return show


def _sort_link(spec: ListPage, state: ListState, column: Column) -> tuple[str, str | None]:
    """The header link of a sortable column and its aria-sort state."""
    current = state.sort.lstrip("-") == column.key
    descending = state.sort.startswith("-")
    target = ("" if descending else "-") + column.key if current else column.key
    aria = ("descending" if descending else "ascending") if current else None
    return state.url(spec.url, sort=target, page=""), aria


def _pager(url: str, state: ListState, page: Page) -> dict[str, str | None]:
    return {"prev": state.url(url, page=str(page.page - 1) if page.page > 2 else "") if page.has_prev else None,
            "next": state.url(url, page=str(page.page + 1)) if page.has_next else None}


def save_columns(spec: ListPage) -> Callable[[Ctx], Response]:
    def save(ctx: Ctx) -> Response:
        keys = ctx.form_list("columns")
        back = _back(ctx, spec)
        try:
            list_views.choose_columns(ctx.ws, ctx.user.id, spec.key, keys, [c.key for c in spec.columns])
        except Invalid as exc:
            ctx.ws.rollback()
            return ctx.redirect(back, f"Columns not changed: {exc.message}.")
        return ctx.redirect(back, "Columns saved.")

    save.__name__ = f"columns_{spec.key}"
    return save


def save_view(spec: ListPage) -> Callable[[Ctx], Response]:
    def save(ctx: Ctx) -> Response:
        query = str(ctx.form.get("query", ""))
        view = list_views.save_view(ctx.ws, ctx.user.id, spec.key, str(ctx.form.get("name", "")), query)
        return ctx.redirect(spec.url + ("?" + list_views.view_query(view) if list_views.view_query(view) else ""),
                            f"View “{view.name}” saved.")

    save.__name__ = f"save_view_{spec.key}"
    return save


def delete_view(spec: ListPage) -> Callable[[Ctx], Response]:
    def delete(ctx: Ctx) -> Response:
        view = list_views.delete_view(ctx.ws, ctx.user.id, ctx.request.path_params["view_id"])
        return ctx.redirect(spec.url, f"View “{view.name}” deleted.")

    delete.__name__ = f"delete_view_{spec.key}"
    return delete


def bulk_page(spec: ListPage) -> web_bulk.BulkPage:
    """The list's bulk actions: the core kind of the same name, exporting every column of the list."""
    return web_bulk.BulkPage(bulk_actions.KINDS[spec.key], spec.url, spec.columns, spec.names,
                             web_bulk.TITLES[spec.key], display_names)


def bulk_action(spec: ListPage) -> Callable[[Ctx], Response]:
    return web_bulk.handler(bulk_page(spec))


def _back(ctx: Ctx, spec: ListPage) -> str:
    query = str(ctx.form.get("query", ""))
    return spec.url + ("?" + query if query and "\n" not in query else "")


# -- the lists ------------------------------------------------------------------------------------


# A user column sorts as it shows the user, "name surname" (index ix_app_user_name_sort).
USER_SORT = (Sort("user_id->app_user.name", mode="text"), Sort("user_id->app_user.surname", mode="text"))


def _city(c: Customer) -> str:
    return ((c.addresses or {}).get("visiting") or {}).get("city") or ""


CUSTOMERS = ListPage(
    "customers", "Customers", Customer, "/customers",
    (
        Column("number", "Number", lambda ctx, c, n: Cell(c.number or ""), (Sort("number", mode="numeric_text"),)),
        Column("name", "Name", lambda ctx, c, n: Cell(c.name or "(no name)", f"/customers/{c.id}",
                                                      badge=None if c.active else "closed"), (Sort("name_folded"),)),
        Column("type", "Type", lambda ctx, c, n: Cell(n["lookup"].get(c.type_id, "")),
               (Sort("type_id->lookup.name", mode="text"),)),
        Column("city", "City", lambda ctx, c, n: Cell(_city(c)), (Sort("addresses.visiting.city", mode="text"),)),
        Column("phone", "Phone", lambda ctx, c, n: Cell(c.phone or "")),
        Column("email", "E-mail", lambda ctx, c, n: Cell(c.email or ""), (Sort("email", mode="text"),), shown=False),
        Column("owner", "Responsible", lambda ctx, c, n: Cell(n["user"].get(c.user_id, "")), USER_SORT),
        Column("created", "Created", lambda ctx, c, n: Cell(ctx.local(c.created_at).strftime("%Y-%m-%d")),
               (Sort("created_at"),), shown=False),
    ),
    (
        Filter("type", "Type", "lookup", "type_id", "customer_type"),
        Filter("owner", "Responsible", "user", "user_id"),
        Filter("city", "City", "text", "addresses.visiting.city"),
        Filter("status", "Status", "choice", "active", options=(
            ("active", "Active", (Criterion("flag", "active", 1),)),
            ("closed", "Closed", (Criterion("flag", "active", 0),)),
            ("prospect", "Prospect", (Criterion("flag", "is_prospect", 1),)),
        )),
        Filter("created_from", "Created from", "from", "created_at"),
        Filter("created_to", "Created to", "to", "created_at"),
    ),
    {"lookup": ("type_id",), "user": ("user_id",)}, "/customers/new", "Search name, number, phone, e-mail, address",
    bulk=True,
)

PRODUCTS = ListPage(
    "products", "Products", Product, "/products",
    (
        Column("number", "Number", lambda ctx, p, n: Cell(p.number or ""), (Sort("number", mode="text"),)),
        Column("name", "Name", lambda ctx, p, n: Cell(p.name or "(no name)", f"/products/{p.id}",
                                                      badge=None if p.active else "inactive"), (Sort("name"),)),
        Column("group", "Group", lambda ctx, p, n: Cell(n["lookup"].get(p.group_id, "")),
               (Sort("group_id->lookup.name", mode="text"),)),
        Column("unit", "Unit", lambda ctx, p, n: Cell(n["lookup"].get(p.unit_id, ""))),
        Column("price", "Price", lambda ctx, p, n: Cell(ctx.amount(p.price), numeric=True), (Sort("price"),)),
    ),
    (
        Filter("group", "Group", "lookup", "group_id", "product_group"),
        Filter("status", "Status", "choice", "active", options=(
            ("active", "Active", (Criterion("flag", "active", 1),)),
            ("inactive", "Inactive", (Criterion("flag", "active", 0),)),
        )),
    ),
    {"lookup": ("group_id", "unit_id")}, "/products/new", "Search name, number, description",
    bulk=True,
)


def _customer_cell(ctx: Ctx, row: Any, n: Names) -> Cell:
    return Cell(n["customer"].get(row.customer_id, ""), f"/customers/{row.customer_id}" if row.customer_id else None)


QUOTES = ListPage(
    "quotes", "Quotes", Quote, "/quotes",
    (
        Column("number", "Number", lambda ctx, q, n: Cell(q.number or str(q.id), f"/quotes/{q.id}"),
               (Sort("number", mode="numeric_text"),)),
        Column("title", "Title", lambda ctx, q, n: Cell(q.title or ""), (Sort("title", mode="text"),)),
        Column("customer", "Customer", _customer_cell, (Sort("customer_id->customer.name_folded"),)),
        Column("status", "Status", lambda ctx, q, n: Cell(n["lookup"].get(q.status_id, "")),
               (Sort("status_id->lookup.name", mode="text"),)),
        Column("seller", "Salesperson", lambda ctx, q, n: Cell(n["user"].get(q.user_id, "")),
               USER_SORT, shown=False),
        Column("placed", "Placed", lambda ctx, q, n: Cell(q.placedate.isoformat() if q.placedate else ""),
               (Sort("placedate", mode="nulls_last"),)),
        Column("price", "Price", lambda ctx, q, n: Cell(ctx.amount(q.price, q.currencycode), numeric=True),
               (Sort("price"),)),
    ),
    (
        Filter("status", "Status", "lookup", "status_id", "quote_status"),
        Filter("seller", "Salesperson", "user", "user_id"),
        Filter("placed_from", "Placed from", "from", "placedate"),
        Filter("placed_to", "Placed to", "to", "placedate"),
    ),
    {"lookup": ("status_id",), "customer": ("customer_id",), "user": ("user_id",)}, "/quotes/new", "Search number, title",
)

OPPORTUNITIES = ListPage(
    "opportunities", "Opportunities", Opportunity, "/opportunities",
    (
        Column("title", "Title", lambda ctx, o, n: Cell(o.title or "(no title)", f"/opportunities/{o.id}"),
               (Sort("title", mode="text"),)),
        Column("customer", "Customer", _customer_cell, (Sort("customer_id->customer.name_folded"),)),
        Column("stage", "Stage", lambda ctx, o, n: Cell(n["lookup"].get(o.stage_id, "")),
               (Sort("stage_id->lookup.sortorder"),)),
        Column("status", "Status", lambda ctx, o, n: Cell(o.status or ""), (Sort("status"),)),
        Column("seller", "Salesperson", lambda ctx, o, n: Cell(n["user"].get(o.user_id, "")),
               USER_SORT, shown=False),
        Column("close", "Expected close", lambda ctx, o, n: Cell(o.estimated_end.isoformat() if o.estimated_end else ""),
               (Sort("estimated_end", mode="nulls_last"),)),
        Column("value", "Value", lambda ctx, o, n: Cell(ctx.amount(o.value), numeric=True), (Sort("value"),)),
    ),
    (
        Filter("stage", "Stage", "lookup", "stage_id", "stage"),
        Filter("seller", "Salesperson", "user", "user_id"),
        Filter("status", "Status", "choice", "status", options=tuple(
            (s, s.capitalize(), (Criterion("eq", "status", s),)) for s in opportunities.STATUSES)),
        Filter("close_from", "Expected close from", "from", "estimated_end"),
        Filter("close_to", "Expected close to", "to", "estimated_end"),
    ),
    {"lookup": ("stage_id",), "customer": ("customer_id",), "user": ("user_id",)}, None, "Search title, description",
    bulk=True,
)

TICKETS = ListPage(
    "tickets", "Tickets", Ticket, "/tickets",
    (
        Column("id", "No.", lambda ctx, t, n: Cell(str(t.id)), (Sort("id"),)),
        Column("title", "Title", lambda ctx, t, n: Cell(t.title or "(no title)", f"/tickets/{t.id}"),
               (Sort("title", mode="text"),)),
        Column("customer", "Customer", _customer_cell, (Sort("customer_id->customer.name_folded"),)),
        Column("priority", "Priority", lambda ctx, t, n: Cell(n["lookup"].get(t.priority_id, "")),
               (Sort("priority_id->lookup.sortorder"),)),
        Column("status", "Status", lambda ctx, t, n: Cell(t.status or ""), (Sort("status"),)),
        Column("owner", "Assigned to", lambda ctx, t, n: Cell(n["user"].get(t.user_id, "")), USER_SORT),
        Column("due", "Due", lambda ctx, t, n: Cell(t.estimated_end.isoformat() if t.estimated_end else ""),
               (Sort("estimated_end", mode="nulls_last"),), shown=False),
    ),
    (
        Filter("priority", "Priority", "lookup", "priority_id", "priority"),
        Filter("owner", "Assigned to", "user", "user_id"),
        Filter("status", "Status", "choice", "status", options=tuple(
            (s, s.capitalize(), (Criterion("eq", "status", s),)) for s in tickets.STATUSES)),
        Filter("due_from", "Due from", "from", "estimated_end"),
        Filter("due_to", "Due to", "to", "estimated_end"),
    ),
    {"lookup": ("priority_id",), "customer": ("customer_id",), "user": ("user_id",)}, None,
    "Search title, description",
    bulk=True,
)

CONTACTS = ListPage(
    "contacts", "Contacts", Contact, "/contacts",
    (
        Column("name", "Name", lambda ctx, c, n: Cell(f"{c.name} {c.surname}".strip() or "(no name)",
                                                      f"/contacts/{c.id}"), (Sort("name", mode="text"), Sort("surname", mode="text"))),
        Column("customer", "Customer", _customer_cell, (Sort("customer_id->customer.name_folded"),)),
        Column("jobtitle", "Job title", lambda ctx, c, n: Cell(c.jobtitle or ""), (Sort("jobtitle", mode="text"),)),
        Column("email", "E-mail", lambda ctx, c, n: Cell(c.email or ""), (Sort("email", mode="text"),)),
        Column("phone", "Phone", lambda ctx, c, n: Cell(c.phone or c.cellphone or "")),
    ),
    (
        Filter("city", "City", "text", "city"),
        Filter("created_from", "Created from", "from", "created_at"),
        Filter("created_to", "Created to", "to", "created_at"),
    ),
    {"customer": ("customer_id",)}, None, "Search name, e-mail, phone, job title",
    bulk=True,
)

LISTS: dict[str, ListPage] = {spec.key: spec for spec in (CUSTOMERS, CONTACTS, PRODUCTS, QUOTES, OPPORTUNITIES,
                                                          TICKETS)}
