"""Read-side queries for people browsing the CRM: lists, searches, overviews.

These are the neutral queries behind the web pages (and anything else that
wants a paged, searchable list): every one runs inside a
:class:`~polycrm.core.workspace.Workspace`, so tenant scoping is automatic.
Deleted rows never show up.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from polycrm.core.customers import fold
from polycrm.core.models import (
    Activity,
    Contact,
    Credential,
    Customer,
    Document,
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
from polycrm.core.query import Criterion, LinkedTo, Page, Sort, every
from polycrm.core.query.listing import live_count
from polycrm.core.query import search as query_search
from polycrm.core.workspace import Workspace

MAX_PER_PAGE = 100
MAX_TERMS = 8

# Paths a free-text search matches. Models with a derived, folded
# ``search_text`` use it (customers, contacts and products through its
# trigram index); the others match a few columns case-insensitively.
SEARCH_PATHS: dict[type[TenantScoped], str] = {
    Customer: "search_text",
    Contact: "search_text",
    Product: "search_text",
    Activity: "description,note,phonenumber,location",
    Quote: "number,title,description",
    Opportunity: "title,description",
    Ticket: "title,description",
}

NEWEST_FIRST = (Sort("id", descending=True),)
# Open before done, then by date, newest first, undated last.
ACTIVITY_ORDER = (Sort("closed"), Sort("date", descending=True, mode="nulls_last"), Sort("id", descending=True))
# Default list order per model: newest first unless a natural key exists.
DEFAULT_ORDER: dict[type[TenantScoped], tuple[Sort, ...]] = {
    Customer: (Sort("name_folded"),),
    Contact: (Sort("name"), Sort("surname")),
    Product: (Sort("name"),),
    Activity: ACTIVITY_ORDER,
    Quote: NEWEST_FIRST,
    Opportunity: NEWEST_FIRST,
    Ticket: NEWEST_FIRST,
}


# Paths whose text is part of the model's folded ``search_text`` (core/derived.py):
# a row whose path contains a term has it in its search text too, so a filter
# by the path is narrowed by the trigram index of the search text first and
# then tested on the path itself (a city that no customer has reads no rows).
IN_SEARCH_TEXT: dict[type[TenantScoped], frozenset[str]] = {
    Customer: frozenset(f"addresses.{kind}.{part}" for kind in ("visiting", "postal", "delivery", "invoice")
                        for part in ("name", "street", "zip", "city")),
    Contact: frozenset(("city", "jobtitle", "email")),
}


def contains_criteria(model: type[TenantScoped], path: str, value: str) -> list[Criterion]:
    """The path holds the whole value (any case): :data:`IN_SEARCH_TEXT` narrowed where it can be."""
    found = [Criterion("contains", path, value)]
    if path in IN_SEARCH_TEXT.get(model, ()):
        found.insert(0, Criterion("contains", "search_text", value))
    return found


def text_criteria(model: type[TenantScoped], query: str | None) -> list[Criterion]:
    """Every whitespace-separated term of ``query`` occurs in one of the model's search paths."""
    # A handful of terms is plenty for a person typing; more only costs time.
    terms = fold(query).split()[:MAX_TERMS]
    return [Criterion("fulltext", SEARCH_PATHS[model], " ".join(terms))] if terms else []


def search(
    ws: Workspace,
    model: type[TenantScoped],
    query: str | None = None,
    *,
    page: int = 1,
    per_page: int = 25,
    criteria: Sequence[Criterion] = (),
    order_by: Sequence[Sort] | None = None,
) -> Page:
    """A page of live records of ``model`` matching a free-text query; a page
    out of range shows the nearest one (``past_end="last"``). A filtered or
    searched list counts its matches up to :data:`COUNT_LIMIT` (or the end of
    the page asked for): past that the page says "more than" (``Page.more``)."""
    per_page = max(1, min(MAX_PER_PAGE, per_page))
    return query_search(
        ws, model, [*criteria, *text_criteria(model, query)], sort=order_by or DEFAULT_ORDER.get(model, ()),
        page=page, per_page=per_page, past_end="last", count_limit=COUNT_LIMIT,
    )


# How far a person's list counts its matches: "1–25 of more than 1,000" says
# all a reader needs, and counting 40,000 matches reads 40,000 rows.
COUNT_LIMIT = 1000


# What the global search looks through, in the order its results are shown.
GLOBAL_SEARCH: tuple[tuple[str, type[TenantScoped]], ...] = (
    ("customers", Customer), ("contacts", Contact), ("products", Product),
    ("quotes", Quote), ("opportunities", Opportunity), ("tickets", Ticket),
)


def search_everything(ws: Workspace, query: str | None, per_kind: int = 5) -> dict[str, Page]:
    """The first matches of each kind in :data:`GLOBAL_SEARCH` (each with its total);
    an empty query finds nothing."""
    if not text_criteria(Customer, query):
        return {}
    return {kind: search(ws, model, query, per_page=per_kind) for kind, model in GLOBAL_SEARCH}


OPEN_OPPORTUNITY_STATUSES = ("active", "pending")


@dataclass
class BoardColumn:
    stage_id: int | None
    name: str
    cards: list[Opportunity]
    count: int
    total: Decimal


def opportunity_board(ws: Workspace, stages: Sequence[Lookup], per_stage: int = 100) -> list[BoardColumn]:
    """Open opportunities by stage (in the stages' order; "No stage" first when any
    has none): the first ``per_stage`` cards, newest first, and each stage's
    count and total value over all its open opportunities."""
    live_open = (Opportunity.deleted.is_(False), Opportunity.status.in_(OPEN_OPPORTUNITY_STATUSES))
    sums = {r["stage_id"]: (r["n"], r["total"]) for r in ws.rows(
        select(Opportunity.stage_id, func.count().label("n"), func.sum(Opportunity.value).label("total"))
        .where(*live_open).group_by(Opportunity.stage_id))}
    columns = []
    known = {s.id for s in stages}
    heads: list[tuple[int | None, str]] = [(s.id, s.name) for s in stages]
    if any(k not in known for k in sums):
        heads.insert(0, (None, "No stage"))
    for stage_id, name in heads:
        if stage_id is None:
            cards = [o for o in every(ws, Opportunity, [Criterion("one_of", "status", list(OPEN_OPPORTUNITY_STATUSES))],
                                      sort=NEWEST_FIRST, limit=per_stage * 4) if o.stage_id not in known][:per_stage]
            n = sum(v[0] for k, v in sums.items() if k not in known)
            total = sum((Decimal(v[1] or 0) for k, v in sums.items() if k not in known), Decimal(0))
        else:
            cards = every(ws, Opportunity, [Criterion("eq", "stage_id", stage_id),
                                            Criterion("one_of", "status", list(OPEN_OPPORTUNITY_STATUSES))],
                          sort=NEWEST_FIRST, limit=per_stage)
            n, total = sums.get(stage_id, (0, 0))
            total = Decimal(total or 0)
        columns.append(BoardColumn(stage_id, name, cards, n, total))
    return columns


@dataclass(frozen=True)
class Charts:
    """What the dashboard draws: open pipeline by stage, won/lost by month, activities by week."""

    pipeline: list[tuple[str, Decimal, int]]  # (stage, open value, open count)
    won_lost: list[tuple[str, int, int]]  # ("2026-11", won, lost), oldest first
    activities: list[tuple[str, int]]  # (Monday "2026-11-23", activities dated in that week), oldest first


def dashboard_charts(ws: Workspace, today: dt.date, months: int = 6, weeks: int = 8) -> Charts:
    stages = {e.id: e.name for e in lookups_of_kind(ws, "stage")}
    live_open = (Opportunity.deleted.is_(False), Opportunity.status.in_(OPEN_OPPORTUNITY_STATUSES))
    sums = ws.rows(select(Opportunity.stage_id, func.count().label("n"), func.sum(Opportunity.value).label("total"))
                   .where(*live_open).group_by(Opportunity.stage_id))
    by_stage = {r["stage_id"]: (Decimal(r["total"] or 0), r["n"]) for r in sums}
    pipeline = [(name, *by_stage.get(stage_id, (Decimal(0), 0))) for stage_id, name in stages.items()]
    unknown = [v for k, v in by_stage.items() if k not in stages]
    if unknown:
        pipeline.insert(0, ("No stage", sum((v[0] for v in unknown), Decimal(0)), sum(v[1] for v in unknown)))

    first_month = dt.date(today.year, today.month, 1)
    for _ in range(months - 1):
        first_month = (first_month - dt.timedelta(days=1)).replace(day=1)
    month_keys = []
    cursor = first_month
    while cursor <= today:
        month_keys.append(cursor.strftime("%Y-%m"))
        cursor = (cursor + dt.timedelta(days=32)).replace(day=1)
    counts = {k: [0, 0] for k in month_keys}
    closed = ws.rows(select(Opportunity.status, Opportunity.closed_at, Opportunity.changed_at).where(
        Opportunity.deleted.is_(False), Opportunity.status.in_(("won", "lost")),
        func.coalesce(Opportunity.closed_at, Opportunity.changed_at) >= dt.datetime.combine(first_month, dt.time())))
    for r in closed:
        key = (r["closed_at"] or r["changed_at"]).strftime("%Y-%m")
        if key in counts:
            counts[key][0 if r["status"] == "won" else 1] += 1
    won_lost = [(k, *counts[k]) for k in month_keys]

    monday = today - dt.timedelta(days=today.weekday()) - dt.timedelta(weeks=weeks - 1)
    per_week = {monday + dt.timedelta(weeks=i): 0 for i in range(weeks)}
    dated = ws.rows(select(Activity.date).where(Activity.deleted.is_(False), Activity.date >= monday,
                                                Activity.date <= today + dt.timedelta(days=6 - today.weekday())))
    for r in dated:
        week = r["date"] - dt.timedelta(days=r["date"].weekday())
        if week in per_week:
            per_week[week] += 1
    return Charts(pipeline, won_lost, [(w.isoformat(), n) for w, n in per_week.items()])


def lookups_of_kind(ws: Workspace, kind: str) -> list[Lookup]:
    from polycrm.core import lookups

    return lookups.items(ws, kind)


# Which activities a list shows: a user's open ones, everybody's open ones, or all.
ACTIVITY_SCOPES = ("mine", "open", "all")


def activities(
    ws: Workspace, query: str | None, scope: str, user_id: int | None, *, page: int = 1, per_page: int = 25
) -> Page:
    """A page of activities in one of :data:`ACTIVITY_SCOPES`."""
    criteria = []
    if scope in ("mine", "open"):
        criteria.append(Criterion("flag", "closed", 0))
    if scope == "mine":
        criteria.append(Criterion("eq", "user_id", user_id))
    return search(ws, Activity, query, page=page, per_page=per_page, criteria=criteria)


def counts(ws: Workspace, models: Mapping[str, type[TenantScoped]]) -> dict[str, int]:
    """How many live records each model has, keyed like ``models``."""
    return {key: live_count(ws, m) for key, m in models.items()}


def open_activities(ws: Workspace, user_id: int | None, limit: int = 10) -> list[Activity]:
    """A user's activities not yet done, the earliest first (undated last)."""
    criteria = [Criterion("eq", "user_id", user_id), Criterion("flag", "closed", 0)]
    order = (Sort("date", mode="nulls_last"), Sort("start"), Sort("id"))
    return every(ws, Activity, criteria, sort=order, limit=limit)


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
    return every(ws, User, [Criterion("flag", "active", 1)], sort=(Sort("name"),))


def customer_choices(ws: Workspace, exclude: int | None = None, limit: int = 500) -> list[Any]:
    """Live customers as (id, name, number) rows for a picker."""
    stmt = select(Customer.id, Customer.name, Customer.number).where(Customer.deleted.is_(False))
    if exclude is not None:
        stmt = stmt.where(Customer.id != exclude)
    return ws.rows(stmt.order_by(Customer.name_folded, Customer.id).limit(limit))


def product_choices(ws: Workspace, limit: int = 500) -> list[Any]:
    """Live, active products as (id, name, number, price) rows for a quote line's picker."""
    stmt = select(Product.id, Product.name, Product.number, Product.price).where(
        Product.deleted.is_(False), Product.active.is_(True))
    return ws.rows(stmt.order_by(Product.name, Product.id).limit(limit))


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
    opportunities: list[Opportunity] = field(default_factory=list)
    tickets: list[Ticket] = field(default_factory=list)


@dataclass(frozen=True)
class TimelineEvent:
    """One entry of a record's timeline, newest first.

    ``kind``: ``changed`` (``changes`` holds (field, old, new) of one save),
    ``created``, ``activity``, ``document``, ``quote``, ``opportunity``, ``ticket``.
    """

    moment: dt.datetime
    kind: str
    title: str = ""
    ref_id: int | None = None
    user_id: int | None = None
    source: str | None = None
    changes: tuple[tuple[str, str | None, str | None], ...] = ()


@dataclass(frozen=True)
class Timeline:
    """One page of a record's timeline: its entries, newest first, and whether older ones exist."""

    events: list[TimelineEvent]
    page: int
    per_page: int
    has_older: bool

    @property
    def has_newer(self) -> bool:
        return self.page > 1


TIMELINE_PER_PAGE = 50
# Field changes are read in batches of this many rows until enough saves are found.
_CHANGE_BATCH = 500


def _saves(ws: Workspace, model: type[TenantScoped], record_id: int, wanted: int) -> list[TimelineEvent]:
    """The newest ``wanted`` saves of a record, each one entry: its field changes
    with the same moment, user and source."""
    from polycrm.core import history

    events: list[TimelineEvent] = []
    group: list[Any] = []
    lines = [line.id for line in line_rows(ws, model, record_id)]

    def field(change: Any) -> str:
        # A line's change names the line: "quote_line.<id>.<field>" (see line_labels).
        return change.field if change.entity == model.__tablename__ else \
            f"{change.entity}.{change.record_id}.{change.field}"

    def close() -> None:
        first = group[0]
        events.append(TimelineEvent(first.created_at, "changed", user_id=first.user_id, source=first.source,
                                    changes=tuple((field(c), c.old_value, c.new_value) for c in reversed(group))))
        group.clear()

    before = None
    while True:
        batch = history.of_record(ws, model, record_id, limit=_CHANGE_BATCH, before_id=before, lines=lines)
        for change in batch:
            if group and (change.created_at, change.user_id, change.source) != (
                    group[0].created_at, group[0].user_id, group[0].source):
                close()
                if len(events) == wanted:
                    return events
            group.append(change)
        if len(batch) < _CHANGE_BATCH:
            break
        before = batch[-1].id
    if group:
        close()
    return events[:wanted]


def line_rows(ws: Workspace, model: type[TenantScoped], record_id: int) -> list[Any]:
    """Every line of a document of :data:`history.LINES`, removed ones too, in their order
    (none for other records)."""
    from polycrm.core import history

    for line, (document, fk) in history.LINES.items():
        if document is model:
            return every(ws, line, [Criterion("eq", fk, record_id)], sort=(Sort("sortorder"), Sort("id")),
                         include_deleted=True)
    return []


def line_labels(ws: Workspace, model: type[TenantScoped], record_id: int,
                field_labels: Mapping[str, str]) -> dict[str, str]:
    """Timeline labels of the document's line changes (``quote_line.<id>.<field>``):
    "Line 2 (Consulting): quantity"; the line's number among the live lines, "removed
    line" for one that is gone; an added line is "New line"."""
    from polycrm.core import history

    labels: dict[str, str] = {}
    live = 0
    for line in line_rows(ws, model, record_id):
        if not line.deleted:
            live += 1
        name = f"Line {live} ({line.text or line.product_number or 'no text'})" if not line.deleted else \
            f"Removed line ({line.text or line.product_number or 'no text'})"
        prefix = f"{line.__tablename__}.{line.id}."
        labels[prefix + history.ADDED] = "New line"
        for key, label in field_labels.items():
            labels[prefix + key] = f"{name}: {label.lower()}"
    return labels


def timeline(ws: Workspace, model: type[TenantScoped], record: TenantScoped, *, related: Sequence[Any] = (),
             page: int = 1, per_page: int = TIMELINE_PER_PAGE) -> Timeline:
    """A page of a record's history, newest first: its field changes (one entry
    per save: the same moment, user and source), its creation, and the related
    records given (activities, documents, quotes, opportunities, tickets) by
    their moment. A page below 1 is page 1; one past the end is empty."""
    page = max(1, page)
    # The entries of the pages up to this one and one more, to know whether older ones exist.
    wanted = page * per_page + 1
    events = _saves(ws, model, record.id, wanted)
    events.append(TimelineEvent(record.created_at, "created"))
    for item in related:
        kind = type(item).__tablename__
        if isinstance(item, Activity):
            moment = item.start or (dt.datetime.combine(item.date, dt.time()) if item.date else item.created_at)
            title = item.description or ""
        elif isinstance(item, Document):
            moment, title = item.created_at, item.title or item.filename or ""
        elif isinstance(item, Quote):
            moment, title = item.created_at, " ".join(x for x in (item.number, item.title) if x)
        else:
            moment, title = item.created_at, getattr(item, "title", "") or ""
        events.append(TimelineEvent(moment, kind, title, item.id, getattr(item, "user_id", None)))
    events.sort(key=lambda e: e.moment or dt.datetime.min, reverse=True)
    start = (page - 1) * per_page
    return Timeline(events[start:start + per_page], page, per_page, len(events) > start + per_page)


def customer_documents(ws: Workspace, customer_id: int) -> list[Document]:
    """Documents attached to a customer through ``file`` links (either direction)."""
    either_way = Criterion("any", "id", (
        Criterion("linked", "id", LinkedTo("file", "customer", (customer_id,))),
        Criterion("linked", "id", LinkedTo("file", "customer", (customer_id,), listed_is_source=True)),
    ))
    return every(ws, Document, [either_way], sort=(Sort("created_at", descending=True),))


def customer_overview(ws: Workspace, customer_id: Any, limit: int = 50) -> CustomerOverview:
    """A customer with what hangs off it; NotFound if it is not in this tenant."""
    customer = ws.require(Customer, customer_id, "customer")
    of_customer = [Criterion("eq", "customer_id", customer.id)]
    contacts = every(ws, Contact, of_customer, sort=(Sort("is_primary", descending=True), Sort("name"), Sort("id")),
                     limit=limit)
    activities = every(ws, Activity, of_customer, sort=ACTIVITY_ORDER, limit=limit)
    quotes = every(ws, Quote, of_customer, sort=NEWEST_FIRST, limit=limit)
    children = every(ws, Customer, [Criterion("eq", "parent_id", customer.id)], sort=DEFAULT_ORDER[Customer],
                     limit=limit)
    parent = ws.get(Customer, customer.parent_id) if customer.parent_id else None
    if parent is not None and parent.deleted:
        parent = None
    opportunities_ = every(ws, Opportunity, of_customer, sort=NEWEST_FIRST, limit=limit)
    tickets = every(ws, Ticket, of_customer, sort=NEWEST_FIRST, limit=limit)
    return CustomerOverview(
        customer, parent, contacts, activities, customer_documents(ws, customer.id)[:limit], quotes, children,
        opportunities_, tickets,
    )


def quote_lines(ws: Workspace, quote_id: int) -> list[QuoteLine]:
    return every(ws, QuoteLine, [Criterion("eq", "quote_id", quote_id)], sort=(Sort("sortorder"),))


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


def display_currency(ws: Workspace, user_id: int | None) -> str:
    """The currency a user's amounts are shown in when a record names none:
    the currency of the user's home profile, else the tenant's settings currency."""
    from polycrm.core import tenant_settings

    profile_id = home_profile_id(ws, user_id)
    code = ws.first(select(Profile.currency).where(Profile.id == profile_id)) if profile_id else None
    return code or str(tenant_settings.get(ws).get("currency") or "")


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
