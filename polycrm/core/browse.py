"""Read-side queries for people browsing the CRM: lists, searches, overviews.

These are the neutral queries behind the web pages (and anything else that
wants a paged, searchable list): every one runs inside a
:class:`~polycrm.core.workspace.Workspace`, so tenant scoping is automatic.
Deleted rows never show up.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, or_, select

from polycrm.core.customers import fold
from polycrm.core.models import (
    Activity,
    Contact,
    Credential,
    Customer,
    Document,
    Link,
    Lookup,
    Opportunity,
    Product,
    Profile,
    ProfileMember,
    Quote,
    QuoteLine,
    Tenant,
    TenantScoped,
    Ticket,
    User,
    utcnow,
)
from polycrm.core.query import Page
from polycrm.core.workspace import Workspace

MAX_PER_PAGE = 100
MAX_TERMS = 8

# Columns a free-text search matches. Models with a derived, folded
# ``search_text`` use it; the others match a few columns case-insensitively.
SEARCH_COLUMNS: dict[type[TenantScoped], tuple[Any, ...]] = {
    Customer: (Customer.search_text,),
    Contact: (Contact.search_text,),
    Product: (Product.search_text,),
    Activity: (Activity.description, Activity.note, Activity.phonenumber, Activity.location),
    Quote: (Quote.number, Quote.title, Quote.description),
    Opportunity: (Opportunity.title, Opportunity.description),
    Ticket: (Ticket.title, Ticket.description),
}
_FOLDED = {Customer.search_text, Contact.search_text, Product.search_text}

# Default list order per model: newest first unless a natural key exists.
# "x IS NULL" first puts undated rows last on every database (SQLite and
# PostgreSQL disagree on where NULLs sort).
DEFAULT_ORDER: dict[type[TenantScoped], tuple[Any, ...]] = {
    Customer: (Customer.name_folded, Customer.id),
    Contact: (Contact.name, Contact.surname, Contact.id),
    Product: (Product.name, Product.id),
    Activity: (Activity.closed, Activity.date.is_(None), Activity.date.desc(), Activity.id.desc()),
    Quote: (Quote.id.desc(),),
    Opportunity: (Opportunity.id.desc(),),
    Ticket: (Ticket.id.desc(),),
}


def escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def text_filter(model: type[TenantScoped], query: str | None) -> list[Any]:
    """Conditions matching every whitespace-separated term of ``query``."""
    conditions = []
    # A handful of terms is plenty for a person typing; more only costs time.
    for term in fold(query).split()[:MAX_TERMS]:
        pattern = f"%{escape_like(term)}%"
        matches = [
            col.like(pattern, escape="\\") if col in _FOLDED else col.ilike(pattern, escape="\\")
            for col in SEARCH_COLUMNS[model]
        ]
        conditions.append(or_(*matches))
    return conditions


def search(
    ws: Workspace,
    model: type[TenantScoped],
    query: str | None = None,
    *,
    page: int = 1,
    per_page: int = 25,
    where: Sequence[Any] = (),
    order_by: Sequence[Any] | None = None,
) -> Page:
    """A page of live records of ``model`` matching a free-text query."""
    per_page = max(1, min(MAX_PER_PAGE, per_page))
    stmt = select(model).where(model.deleted.is_(False), *where, *text_filter(model, query))
    total = ws.count(stmt)
    last = max(1, math.ceil(total / per_page))
    page = max(1, min(page, last))
    stmt = stmt.order_by(*(order_by or DEFAULT_ORDER.get(model, (model.id,))))
    items = ws.scalars(stmt.limit(per_page).offset((page - 1) * per_page))
    return Page(items, total, page, per_page)


# Which activities a list shows: a user's open ones, everybody's open ones, or all.
ACTIVITY_SCOPES = ("mine", "open", "all")


def activities(
    ws: Workspace, query: str | None, scope: str, user_id: int | None, *, page: int = 1, per_page: int = 25
) -> Page:
    """A page of activities in one of :data:`ACTIVITY_SCOPES`."""
    where = []
    if scope in ("mine", "open"):
        where.append(Activity.closed.is_(False))
    if scope == "mine":
        where.append(Activity.user_id == user_id)
    return search(ws, Activity, query, page=page, per_page=per_page, where=where)


def counts(ws: Workspace, models: Mapping[str, type[TenantScoped]]) -> dict[str, int]:
    """How many live records each model has, keyed like ``models``."""
    return {key: ws.count(select(m.id).where(m.deleted.is_(False))) for key, m in models.items()}


def open_activities(ws: Workspace, user_id: int | None, limit: int = 10) -> list[Activity]:
    """A user's activities not yet done, the earliest first (undated last)."""
    stmt = (
        select(Activity)
        .where(Activity.user_id == user_id, Activity.closed.is_(False), Activity.deleted.is_(False))
        .order_by(Activity.date.is_(None), Activity.date, Activity.start, Activity.id)
        .limit(limit)
    )
    return ws.scalars(stmt)


@dataclass(frozen=True)
class Change:
    kind: str
    id: int
    label: str
    changed_at: dt.datetime


# model -> (kind name, column whose value labels a changed record)
_CHANGE_LABELS: dict[type[TenantScoped], tuple[str, Any]] = {
    Customer: ("customer", Customer.name),
    Contact: ("contact", Contact.name + " " + Contact.surname),
    Product: ("product", Product.name),
    Activity: ("activity", Activity.description),
    Quote: ("quote", Quote.title),
    Opportunity: ("opportunity", Opportunity.title),
    Ticket: ("ticket", Ticket.title),
}


def recent_changes(ws: Workspace, limit: int = 10) -> list[Change]:
    """The most recently changed records across the main entities."""
    found: list[Change] = []
    for model, (kind, label) in _CHANGE_LABELS.items():
        stmt = (
            select(model.id, label.label("label"), model.changed_at)
            .where(model.deleted.is_(False))
            .order_by(model.changed_at.desc(), model.id.desc())
            .limit(limit)
        )
        found.extend(Change(kind, r["id"], (r["label"] or "").strip(), r["changed_at"]) for r in ws.rows(stmt))
    found.sort(key=lambda c: (c.changed_at, c.id), reverse=True)
    return found[:limit]


def lookup_names(ws: Workspace, ids: set[int | None]) -> dict[int, str]:
    """Names of lookup entries by id (one query for a whole page)."""
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    return {r["id"]: r["name"] for r in ws.rows(select(Lookup.id, Lookup.name).where(Lookup.id.in_(wanted)))}


def names(ws: Workspace, model: type[TenantScoped], ids: set[int | None]) -> dict[int, str]:
    """Display names of customers or users by id (one query for a whole page)."""
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    if model is User:
        stmt = select(User.id, User.name, User.surname, User.username).where(User.id.in_(wanted))
        return {r["id"]: (f"{r['name']} {r['surname']}".strip() or r["username"]) for r in ws.rows(stmt)}
    stmt = select(model.id, model.name).where(model.id.in_(wanted))
    return {r["id"]: r["name"] for r in ws.rows(stmt)}


def active_users(ws: Workspace) -> list[User]:
    return ws.scalars(select(User).where(User.deleted.is_(False), User.active.is_(True)).order_by(User.name, User.id))


def customer_choices(ws: Workspace, exclude: int | None = None, limit: int = 500) -> list[Any]:
    """Live customers as (id, name, number) rows for a picker."""
    stmt = select(Customer.id, Customer.name, Customer.number).where(Customer.deleted.is_(False))
    if exclude is not None:
        stmt = stmt.where(Customer.id != exclude)
    return ws.rows(stmt.order_by(Customer.name_folded, Customer.id).limit(limit))


def customer_number_taken(ws: Workspace, number: str, exclude: int | None = None) -> Customer | None:
    """Another live customer already carrying ``number``."""
    stmt = select(Customer).where(Customer.number == number, Customer.deleted.is_(False))
    if exclude is not None:
        stmt = stmt.where(Customer.id != exclude)
    return ws.first(stmt.order_by(Customer.id))


def product_number_taken(ws: Workspace, number: str, exclude: int | None = None) -> Product | None:
    stmt = select(Product).where(Product.number == number, Product.deleted.is_(False))
    if exclude is not None:
        stmt = stmt.where(Product.id != exclude)
    return ws.first(stmt.order_by(Product.id))


@dataclass
class CustomerOverview:
    customer: Customer
    parent: Customer | None
    contacts: list[Contact]
    activities: list[Activity]
    documents: list[Document]
    quotes: list[Quote]
    children: list[Customer]


def customer_documents(ws: Workspace, customer_id: int) -> list[Document]:
    """Documents attached to a customer through ``file`` links (either direction)."""
    as_source = select(Link.target_id).where(
        Link.kind == "file", Link.deleted.is_(False),
        Link.source_kind == "customer", Link.source_id == customer_id, Link.target_kind == "document",
    )
    as_target = select(Link.source_id).where(
        Link.kind == "file", Link.deleted.is_(False),
        Link.target_kind == "customer", Link.target_id == customer_id, Link.source_kind == "document",
    )
    stmt = (
        select(Document)
        .where(Document.deleted.is_(False), or_(Document.id.in_(as_source), Document.id.in_(as_target)))
        .order_by(Document.created_at.desc(), Document.id.desc())
    )
    return ws.scalars(stmt)


def customer_overview(ws: Workspace, customer_id: Any, limit: int = 50) -> CustomerOverview:
    """A customer with what hangs off it; NotFound if it is not in this tenant."""
    customer = ws.require(Customer, customer_id, "customer")
    contacts = ws.scalars(
        select(Contact).where(Contact.customer_id == customer.id, Contact.deleted.is_(False))
        .order_by(Contact.is_primary.desc(), Contact.name, Contact.id).limit(limit)
    )
    activities = ws.scalars(
        select(Activity).where(Activity.customer_id == customer.id, Activity.deleted.is_(False))
        .order_by(Activity.closed, Activity.date.is_(None), Activity.date.desc(), Activity.id.desc()).limit(limit)
    )
    quotes = ws.scalars(
        select(Quote).where(Quote.customer_id == customer.id, Quote.deleted.is_(False)).order_by(Quote.id.desc()).limit(limit)
    )
    children = ws.scalars(
        select(Customer).where(Customer.parent_id == customer.id, Customer.deleted.is_(False))
        .order_by(Customer.name_folded, Customer.id).limit(limit)
    )
    parent = ws.get(Customer, customer.parent_id) if customer.parent_id else None
    if parent is not None and parent.deleted:
        parent = None
    return CustomerOverview(
        customer, parent, contacts, activities, customer_documents(ws, customer.id)[:limit], quotes, children
    )


def quote_lines(ws: Workspace, quote_id: int) -> list[QuoteLine]:
    stmt = (
        select(QuoteLine)
        .where(QuoteLine.quote_id == quote_id, QuoteLine.deleted.is_(False))
        .order_by(QuoteLine.sortorder, QuoteLine.id)
    )
    return ws.scalars(stmt)


@dataclass(frozen=True)
class TenantInfo:
    name: str
    contract: int
    credential_kinds: dict[str, int]


def tenant_info(ws: Workspace) -> TenantInfo:
    """The workspace's tenant and how many live credentials of each kind it has.

    Credentials are looked up before a tenant is known, so that table is not
    scoped by the session filter; this is the one place that narrows it to
    the workspace's tenant explicitly. Only kinds and counts leave here,
    never a key id or a hash.
    """
    tenant = ws.session.get(Tenant, ws.tenant_id)
    rows = ws.rows(
        select(Credential.kind, func.count().label("n"))
        .where(
            Credential.tenant_id == ws.tenant_id,
            Credential.revoked_at.is_(None),
            (Credential.expires_at.is_(None)) | (Credential.expires_at > utcnow()),
        )
        .group_by(Credential.kind)
    )
    return TenantInfo(tenant.name, tenant.contract, {r["kind"]: r["n"] for r in rows})


def quote_line_total(line: QuoteLine) -> Decimal:
    """quantity x price, less the percentage discount, less the amount discount.

    A line without a quantity counts once; one without a price counts zero.
    """
    quantity = line.quantity if line.quantity is not None else Decimal(1)
    gross = quantity * (line.price or Decimal(0))
    if line.discountpercent:
        gross -= gross * line.discountpercent / Decimal(100)
    if line.discountamount:
        gross -= line.discountamount
    return gross.quantize(Decimal("0.01"))


def home_profile_id(ws: Workspace, user_id: int | None) -> int | None:
    """The profile new records of a user belong to: their first, else the default."""
    member = ws.first(
        select(ProfileMember.profile_id)
        .where(ProfileMember.user_id == user_id, ProfileMember.deleted.is_(False))
        .order_by(ProfileMember.id)
    )
    if member is not None:
        return member
    return ws.first(select(Profile.id).where(Profile.deleted.is_(False)).order_by(Profile.is_default.desc(), Profile.id))
