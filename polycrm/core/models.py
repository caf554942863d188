"""The canonical data model: one tenant-scoped CRM schema behind all three APIs.

Naming is the core's own (customer, product, activity, quote, ...); every face
maps its vendor names onto these. Fields only one vendor knows live in the
``extra`` JSON column of the entity, under the field map's canonical name.

Every tenant-scoped table derives from :class:`TenantScoped`; the session
events in :mod:`polycrm.core.tenancy` stamp ``tenant_id`` on insert and add a
tenant filter to every ORM query, so no caller can forget it.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
    literal_column,
    text,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column
from sqlalchemy.sql.functions import FunctionElement

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Money = Numeric(18, 4)


def utcnow() -> dt.datetime:
    """Naive UTC with microseconds: the one clock every row is stamped with."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON, Decimal: Money}


class Tenant(Base):
    """One customer of polycrm: an isolated CRM (a vendor "account")."""

    __tablename__ = "tenant"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    # Microbizz contract number; unique across the installation.
    contract: Mapped[int] = mapped_column(Integer, unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # One more for each committed transaction that wrote the tenant's data
    # (polycrm/core/revision.py): what was computed at one revision holds until it moves.
    # Deferred and given by the server: read and written only by its own statements.
    revision: Mapped[int] = mapped_column(BigInteger, server_default="0", deferred=True)


class Credential(Base):
    """A secret that authenticates API calls: API keys, tokens, OAuth clients.

    ``key_id`` is what a request is looked up by (a client id, or the SHA-256
    of a bearer token); ``secret_hash`` is checked afterwards where the secret
    is not itself the key. Looked up before the tenant is known, so this table
    is deliberately not tenant-scoped through the session filter.
    """

    __tablename__ = "credential"
    __table_args__ = (UniqueConstraint("kind", "key_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    key_id: Mapped[str] = mapped_column(String(128))
    secret_hash: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class TenantScoped(Base):
    """Columns every CRM record carries."""

    __abstract__ = True
    id: Mapped[int] = mapped_column(Integer, primary_key=True)

    @declared_attr
    def tenant_id(cls) -> Mapped[int]:
        return mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"), nullable=False)

    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    changed_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    @declared_attr.directive
    def __table_args__(cls) -> tuple:
        return _with_feed(cls.__tablename__)


def _with_feed(name: str, *more: Any) -> tuple:
    # The change feed is read in (changed_at, id) order per tenant; a sync
    # resumes in id order (``id > last ORDER BY id``), which without the
    # second index means sorting every changed row again on each page.
    return (
        Index(f"ix_{name}_feed", "tenant_id", "changed_at", "id"),
        Index(f"ix_{name}_sync", "tenant_id", "id", "changed_at"),
        *more,
    )


class _Trim(FunctionElement):
    """``trim(x)``, which PostgreSQL shows as ``TRIM(BOTH FROM x)`` (see :func:`folded`)."""

    type = String()
    name = "trim"
    inherit_cache = True


@compiles(_Trim)
def _trim(element: _Trim, compiler: Any, **kw: Any) -> str:
    return f"trim({compiler.process(element.clauses, **kw)})"


@compiles(_Trim, "postgresql")
def _trim_postgresql(element: _Trim, compiler: Any, **kw: Any) -> str:
    return f"TRIM(BOTH FROM {compiler.process(element.clauses, **kw)})"


def folded(value: Any) -> Any:
    """``lower(trim(value))``: a number as numbers are compared (customers.number_holder,
    products.number_holder) and as ``ix_customer_number_folded`` and
    ``ix_product_number_folded`` index it (migration 0009). One expression for
    the queries and the indexes, so that both databases match the one to the
    other; written the way PostgreSQL reports the index, so that autogenerate
    sees no difference."""
    return func.lower(_Trim(value))


class User(TenantScoped):
    __tablename__ = "app_user"
    __table_args__ = _with_feed(
        "app_user",
        UniqueConstraint("tenant_id", "username"),
        Index("ix_app_user_email", "email"),
    )
    username: Mapped[str] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255), default="")
    surname: Mapped[str] = mapped_column(String(255), default="")
    title: Mapped[str | None] = mapped_column(String(255))
    phone: Mapped[str | None] = mapped_column(String(64))
    cellphone: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str | None] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    code: Mapped[str | None] = mapped_column(String(100))
    password_hash: Mapped[str | None] = mapped_column(String(200))


class Profile(TenantScoped):
    """A business unit inside a tenant (centiaCRM "profile"); owns lookups."""

    __tablename__ = "profile"
    name: Mapped[str] = mapped_column(String(255))
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    currency: Mapped[str | None] = mapped_column(String(8))


class ProfileMember(TenantScoped):
    __tablename__ = "profile_member"
    __table_args__ = _with_feed("profile_member", UniqueConstraint("profile_id", "user_id"))
    profile_id: Mapped[int] = mapped_column(ForeignKey("profile.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"))


class Lookup(TenantScoped):
    """Every small named list: customer types, stages, origins, units, ...

    ``kind`` says which list (see :data:`polycrm.core.lookups.KINDS`); per-kind
    attributes that only one API shows (a colour, a probability) go to extra.
    """

    __tablename__ = "lookup"
    __table_args__ = _with_feed("lookup", Index("ix_lookup_kind", "tenant_id", "kind", "sortorder", "id"))
    kind: Mapped[str] = mapped_column(String(40))
    profile_id: Mapped[int | None] = mapped_column(ForeignKey("profile.id", ondelete="CASCADE"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("lookup.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(255), default="")
    code: Mapped[str | None] = mapped_column(String(100))
    sortorder: Mapped[int] = mapped_column(Integer, default=0)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    externalkey: Mapped[str | None] = mapped_column(String(255))


class Customer(TenantScoped):
    """A customer = Microbizz customer/company = Cirrus account = centia company.

    ``addresses`` holds up to four addresses keyed ``visiting``, ``postal``,
    ``delivery`` and ``invoice``; each is a dict of the canonical address parts
    (see :data:`polycrm.core.customers.ADDRESS_PARTS`).
    """

    __tablename__ = "customer"
    __table_args__ = _with_feed(
        "customer",
        Index("ix_customer_number", "tenant_id", "number"),
        # Numbers are unique compared trimmed and case-insensitively: the check
        # (customers.number_holder) asks for this expression (migration 0009).
        # The expression first, so that no query by tenant alone is planned through it.
        Index("ix_customer_number_folded", folded(literal_column("number")), "tenant_id"),
        # Cirrus sorts account numbers as numbers (shorter first): see query.order_by.
        # Over the rows ix_customer_live covers, which Cirrus lists by default: a
        # count of them may then use either index alone (migration 0007).
        Index("ix_customer_number_sort", "tenant_id", text("length(coalesce(number, ''))"),
              text("coalesce(number, '')"), "id",
              sqlite_where=text("deleted IS 0 AND active IS 1"),
              postgresql_where=text("deleted IS false AND active IS true")),
        Index("ix_customer_name", "tenant_id", "name_folded"),
        Index("ix_customer_parent", "tenant_id", "parent_id"),
        # Deleting a customer makes the database look for its children by
        # parent_id alone (ON DELETE SET NULL): without an index leading with it,
        # a scan of every tenant's customers per deleted row (migration 0024).
        Index("ix_customer_parent_ref", "parent_id", sqlite_where=text("parent_id IS NOT NULL"),
              postgresql_where=text("parent_id IS NOT NULL")),
        Index("ix_customer_type", "tenant_id", "type_id"),
        Index("ix_customer_user", "tenant_id", "user_id"),
        Index("ix_customer_externalkey", "tenant_id", "externalkey"),
        Index("ix_customer_geo", "tenant_id", "latitude", "longitude"),
        # Counting a tenant's live (active) customers reads this index alone. Partial,
        # so that SQLite's planner (no ANALYZE statistics) never prefers it to the
        # lookup indexes above for a query that also filters on deleted (migration 0004).
        Index("ix_customer_live", "tenant_id",
              sqlite_where=text("deleted IS 0 AND active IS 1"),
              postgresql_where=text("deleted IS false AND active IS true")),
        # Not here, made by migration 0002 for one dialect each: the SQLite FTS5
        # trigram table ``customer_fts`` over ``search_text`` (and its triggers),
        # the PostgreSQL GIN trigram index ``ix_customer_search_trgm``.
    )
    number: Mapped[str | None] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(255), default="")
    # Lower-cased name for case-insensitive lookups on every database.
    name_folded: Mapped[str] = mapped_column(String(255), default="")
    alt_name: Mapped[str | None] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    type_id: Mapped[int | None] = mapped_column(ForeignKey("lookup.id", ondelete="SET NULL"))
    industry_id: Mapped[int | None] = mapped_column(ForeignKey("lookup.id", ondelete="SET NULL"))
    maingroup_id: Mapped[int | None] = mapped_column(ForeignKey("lookup.id", ondelete="SET NULL"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id", ondelete="SET NULL"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    profile_id: Mapped[int | None] = mapped_column(ForeignKey("profile.id", ondelete="SET NULL"))
    email: Mapped[str | None] = mapped_column(String(255))
    phone: Mapped[str | None] = mapped_column(String(64))
    cellphone: Mapped[str | None] = mapped_column(String(64))
    fax: Mapped[str | None] = mapped_column(String(64))
    www: Mapped[str | None] = mapped_column(String(255))
    vat: Mapped[str | None] = mapped_column(String(64))
    externalkey: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    is_prospect: Mapped[bool] = mapped_column(Boolean, default=False)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    addresses: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Lower-cased concatenation of the searchable fields (Cirrus fulltext, centia query).
    search_text: Mapped[str] = mapped_column(Text, default="")


class Contact(TenantScoped):
    """A person at a customer (Cirrus contact, centia contact, Microbizz person)."""

    __tablename__ = "contact"
    __table_args__ = _with_feed(
        "contact",
        # The customer first: deleting a customer looks for its contacts by
        # customer_id alone (ON DELETE SET NULL), as does deleting a contact for
        # the contacts reporting to it (migration 0024).
        Index("ix_contact_customer", "customer_id", "tenant_id"),
        Index("ix_contact_superior", "superior_id", sqlite_where=text("superior_id IS NOT NULL"),
              postgresql_where=text("superior_id IS NOT NULL")),
        Index("ix_contact_email", "tenant_id", "email"),
        Index("ix_contact_externalkey", "tenant_id", "externalkey"),
    )
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id", ondelete="SET NULL"))
    profile_id: Mapped[int | None] = mapped_column(ForeignKey("profile.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(255), default="")
    surname: Mapped[str] = mapped_column(String(255), default="")
    mother_surname: Mapped[str | None] = mapped_column(String(255))
    jobtitle: Mapped[str | None] = mapped_column(String(255))
    function: Mapped[str | None] = mapped_column(String(255))
    department: Mapped[str | None] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(255))
    phone: Mapped[str | None] = mapped_column(String(64))
    phone_extension: Mapped[str | None] = mapped_column(String(32))
    cellphone: Mapped[str | None] = mapped_column(String(64))
    phone_other: Mapped[str | None] = mapped_column(String(64))
    street: Mapped[str | None] = mapped_column(String(255))
    zip: Mapped[str | None] = mapped_column(String(32))
    city: Mapped[str | None] = mapped_column(String(255))
    is_primary: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    superior_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id", ondelete="SET NULL"))
    origin_id: Mapped[int | None] = mapped_column(ForeignKey("lookup.id", ondelete="SET NULL"))
    title_id: Mapped[int | None] = mapped_column(ForeignKey("lookup.id", ondelete="SET NULL"))
    position_id: Mapped[int | None] = mapped_column(ForeignKey("lookup.id", ondelete="SET NULL"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("lookup.id", ondelete="SET NULL"))
    idnumber: Mapped[str | None] = mapped_column(String(100))
    externalkey: Mapped[str | None] = mapped_column(String(255))
    addresses: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    search_text: Mapped[str] = mapped_column(Text, default="")


class Product(TenantScoped):
    """A product = Microbizz product = Cirrus article = centia product.

    Prices are in major currency units (kroner, pesos); see docs/microbizz.md
    for how the Microbizz minor-unit individual prices convert.
    """

    __tablename__ = "product"
    __table_args__ = _with_feed(
        "product",
        Index("ix_product_number", "tenant_id", "number"),
        # The live products' numbers as the uniqueness check compares them
        # (products.number_holder, migration 0009).
        Index("ix_product_number_folded", folded(literal_column("number")), "tenant_id",
              sqlite_where=text("deleted IS 0"), postgresql_where=text("deleted IS false")),
        Index("ix_product_group", "tenant_id", "group_id"),
        Index("ix_product_externalkey", "tenant_id", "externalkey"),
    )
    number: Mapped[str | None] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(255), default="")
    short_name: Mapped[str | None] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    price: Mapped[Decimal | None] = mapped_column(Money)
    cost_price: Mapped[Decimal | None] = mapped_column(Money)
    vat: Mapped[Decimal | None] = mapped_column(Money)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("lookup.id", ondelete="SET NULL"))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("lookup.id", ondelete="SET NULL"))
    profile_id: Mapped[int | None] = mapped_column(ForeignKey("profile.id", ondelete="SET NULL"))
    ean: Mapped[str | None] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    prices_hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    externalkey: Mapped[str | None] = mapped_column(String(255))
    search_text: Mapped[str] = mapped_column(Text, default="")


class IndividualPrice(TenantScoped):
    """A customer-specific unit price of a product (minor currency units)."""

    __tablename__ = "individual_price"
    __table_args__ = _with_feed("individual_price", UniqueConstraint("customer_id", "product_id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"))
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id", ondelete="CASCADE"))
    price_minor: Mapped[int] = mapped_column(BigInteger)


class InvoicePrice(TenantScoped):
    """Invoice pricing rows (hour price per item) by source: basic, customertype, customer."""

    __tablename__ = "invoice_price"
    __table_args__ = _with_feed(
        "invoice_price", UniqueConstraint("tenant_id", "source", "source_id", "itemnumber")
    )
    source: Mapped[str] = mapped_column(String(20))
    source_id: Mapped[int] = mapped_column(Integer, default=0)
    itemnumber: Mapped[str] = mapped_column(String(100))
    hourprice: Mapped[Decimal | None] = mapped_column(Money)
    costprice: Mapped[Decimal | None] = mapped_column(Money)
    discount: Mapped[Decimal | None] = mapped_column(Money)
    timeconversion: Mapped[Decimal | None] = mapped_column(Money)
    workareaid: Mapped[int | None] = mapped_column(Integer)


class Favorite(TenantScoped):
    """A user's favourite product."""

    __tablename__ = "favorite"
    __table_args__ = _with_feed("favorite", UniqueConstraint("user_id", "product_id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"))
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id", ondelete="CASCADE"))


class Activity(TenantScoped):
    """Calls, meetings, tasks: Cirrus activities, Microbizz calls.

    A call is an activity whose type has code ``call``. ``closed`` marks it
    done; an open call of a user is one of their pending calls.
    """

    __tablename__ = "activity"
    __table_args__ = _with_feed(
        "activity",
        Index("ix_activity_customer", "tenant_id", "customer_id"),
        Index("ix_activity_user", "tenant_id", "user_id", "closed"),
        Index("ix_activity_date", "tenant_id", "date"),
    )
    type_id: Mapped[int | None] = mapped_column(ForeignKey("lookup.id", ondelete="SET NULL"))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id", ondelete="SET NULL"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id", ondelete="SET NULL"))
    opportunity_id: Mapped[int | None] = mapped_column(ForeignKey("opportunity.id", ondelete="SET NULL"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    description: Mapped[str | None] = mapped_column(Text)
    result: Mapped[str | None] = mapped_column(Text)
    location: Mapped[str | None] = mapped_column(String(255))
    date: Mapped[dt.date | None] = mapped_column(Date)
    start: Mapped[dt.datetime | None] = mapped_column(DateTime)
    stop: Mapped[dt.datetime | None] = mapped_column(DateTime)
    closed: Mapped[bool] = mapped_column(Boolean, default=False)
    phonenumber: Mapped[str | None] = mapped_column(String(64))
    incoming: Mapped[bool | None] = mapped_column(Boolean)
    duration: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(Text)
    priority_id: Mapped[int | None] = mapped_column(ForeignKey("lookup.id", ondelete="SET NULL"))
    progressionstate_id: Mapped[int | None] = mapped_column(ForeignKey("lookup.id", ondelete="SET NULL"))
    externalkey: Mapped[str | None] = mapped_column(String(255))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)


class Opportunity(TenantScoped):
    __tablename__ = "opportunity"
    __table_args__ = _with_feed(
        "opportunity",
        Index("ix_opportunity_customer", "tenant_id", "customer_id"),
        Index("ix_opportunity_profile", "tenant_id", "profile_id"),
    )
    profile_id: Mapped[int | None] = mapped_column(ForeignKey("profile.id", ondelete="SET NULL"))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id", ondelete="SET NULL"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id", ondelete="SET NULL"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(255), default="")
    description: Mapped[str | None] = mapped_column(Text)
    result: Mapped[str | None] = mapped_column(Text)
    value: Mapped[Decimal | None] = mapped_column(Money)
    # One of active, pending, won, lost (the centiaCRM vocabulary).
    status: Mapped[str] = mapped_column(String(20), default="active")
    stage_id: Mapped[int | None] = mapped_column(ForeignKey("lookup.id", ondelete="SET NULL"))
    status_id: Mapped[int | None] = mapped_column(ForeignKey("lookup.id", ondelete="SET NULL"))
    type_id: Mapped[int | None] = mapped_column(ForeignKey("lookup.id", ondelete="SET NULL"))
    source_id: Mapped[int | None] = mapped_column(ForeignKey("lookup.id", ondelete="SET NULL"))
    estimated_end: Mapped[dt.date | None] = mapped_column(Date)
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    closed: Mapped[bool] = mapped_column(Boolean, default=False)
    externalkey: Mapped[str | None] = mapped_column(String(255))
    search_text: Mapped[str] = mapped_column(Text, default="")


class OpportunityLine(TenantScoped):
    __tablename__ = "opportunity_line"
    __table_args__ = _with_feed("opportunity_line", Index("ix_opportunity_line_parent", "opportunity_id"))
    opportunity_id: Mapped[int] = mapped_column(ForeignKey("opportunity.id", ondelete="CASCADE"))
    product_id: Mapped[int | None] = mapped_column(ForeignKey("product.id", ondelete="SET NULL"))
    quantity: Mapped[Decimal | None] = mapped_column(Money)
    price: Mapped[Decimal | None] = mapped_column(Money)
    discount: Mapped[Decimal | None] = mapped_column(Money)
    tax: Mapped[Decimal | None] = mapped_column(Money)
    total: Mapped[Decimal | None] = mapped_column(Money)


class Quote(TenantScoped):
    """A quotation = Microbizz sales contract = Cirrus quote."""

    __tablename__ = "quote"
    __table_args__ = _with_feed("quote", Index("ix_quote_customer", "tenant_id", "customer_id"))
    number: Mapped[str | None] = mapped_column(String(100))
    title: Mapped[str | None] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id", ondelete="SET NULL"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id", ondelete="SET NULL"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    user2_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    opportunity_id: Mapped[int | None] = mapped_column(ForeignKey("opportunity.id", ondelete="SET NULL"))
    status_id: Mapped[int | None] = mapped_column(ForeignKey("lookup.id", ondelete="SET NULL"))
    type_id: Mapped[int | None] = mapped_column(ForeignKey("lookup.id", ondelete="SET NULL"))
    placedate: Mapped[dt.date | None] = mapped_column(Date)
    validtodate: Mapped[dt.date | None] = mapped_column(Date)
    deliverydate: Mapped[dt.date | None] = mapped_column(Date)
    startdate: Mapped[dt.date | None] = mapped_column(Date)
    expecteddate: Mapped[dt.date | None] = mapped_column(Date)
    currencycode: Mapped[str | None] = mapped_column(String(8))
    price: Mapped[Decimal | None] = mapped_column(Money)
    internalcomment: Mapped[str | None] = mapped_column(Text)
    externalcomment: Mapped[str | None] = mapped_column(Text)
    externalkey: Mapped[str | None] = mapped_column(String(255))


class QuoteLine(TenantScoped):
    __tablename__ = "quote_line"
    __table_args__ = _with_feed("quote_line", Index("ix_quote_line_parent", "quote_id"))
    quote_id: Mapped[int] = mapped_column(ForeignKey("quote.id", ondelete="CASCADE"))
    product_id: Mapped[int | None] = mapped_column(ForeignKey("product.id", ondelete="SET NULL"))
    product_number: Mapped[str | None] = mapped_column(String(100))
    text: Mapped[str | None] = mapped_column(Text)
    quantity: Mapped[Decimal | None] = mapped_column(Money)
    unit: Mapped[str | None] = mapped_column(String(64))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("lookup.id", ondelete="SET NULL"))
    price: Mapped[Decimal | None] = mapped_column(Money)
    cost_price: Mapped[Decimal | None] = mapped_column(Money)
    discountpercent: Mapped[Decimal | None] = mapped_column(Money)
    discountamount: Mapped[Decimal | None] = mapped_column(Money)
    sortorder: Mapped[int] = mapped_column(Integer, default=0)


class Order(TenantScoped):
    """A sales order (Cirrus order, Microbizz direct order)."""

    __tablename__ = "sales_order"
    __table_args__ = _with_feed("sales_order", Index("ix_sales_order_customer", "tenant_id", "customer_id"))
    number: Mapped[str | None] = mapped_column(String(100))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id", ondelete="SET NULL"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id", ondelete="SET NULL"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    user2_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    opportunity_id: Mapped[int | None] = mapped_column(ForeignKey("opportunity.id", ondelete="SET NULL"))
    status_id: Mapped[int | None] = mapped_column(ForeignKey("lookup.id", ondelete="SET NULL"))
    type_id: Mapped[int | None] = mapped_column(ForeignKey("lookup.id", ondelete="SET NULL"))
    placedate: Mapped[dt.date | None] = mapped_column(Date)
    deliverydate: Mapped[dt.date | None] = mapped_column(Date)
    currencycode: Mapped[str | None] = mapped_column(String(8))
    price: Mapped[Decimal | None] = mapped_column(Money)
    note: Mapped[str | None] = mapped_column(Text)
    internalcomment: Mapped[str | None] = mapped_column(Text)
    externalcomment: Mapped[str | None] = mapped_column(Text)
    externalkey: Mapped[str | None] = mapped_column(String(255))
    delivered: Mapped[bool] = mapped_column(Boolean, default=False)


class OrderLine(TenantScoped):
    __tablename__ = "order_line"
    __table_args__ = _with_feed("order_line", Index("ix_order_line_parent", "order_id"))
    order_id: Mapped[int] = mapped_column(ForeignKey("sales_order.id", ondelete="CASCADE"))
    product_id: Mapped[int | None] = mapped_column(ForeignKey("product.id", ondelete="SET NULL"))
    product_number: Mapped[str | None] = mapped_column(String(100))
    text: Mapped[str | None] = mapped_column(Text)
    quantity: Mapped[Decimal | None] = mapped_column(Money)
    quantity_delivered: Mapped[Decimal | None] = mapped_column(Money)
    price: Mapped[Decimal | None] = mapped_column(Money)
    cost_price: Mapped[Decimal | None] = mapped_column(Money)
    discountpercent: Mapped[Decimal | None] = mapped_column(Money)
    discountamount: Mapped[Decimal | None] = mapped_column(Money)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("lookup.id", ondelete="SET NULL"))
    sortorder: Mapped[int] = mapped_column(Integer, default=0)


class Ticket(TenantScoped):
    """A service ticket (centiaCRM)."""

    __tablename__ = "ticket"
    __table_args__ = _with_feed("ticket", Index("ix_ticket_profile", "tenant_id", "profile_id"))
    profile_id: Mapped[int | None] = mapped_column(ForeignKey("profile.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(255), default="")
    description: Mapped[str | None] = mapped_column(Text)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id", ondelete="SET NULL"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id", ondelete="SET NULL"))
    opportunity_id: Mapped[int | None] = mapped_column(ForeignKey("opportunity.id", ondelete="SET NULL"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    origin_id: Mapped[int | None] = mapped_column(ForeignKey("lookup.id", ondelete="SET NULL"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("lookup.id", ondelete="SET NULL"))
    priority_id: Mapped[int | None] = mapped_column(ForeignKey("lookup.id", ondelete="SET NULL"))
    estimated_end: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="open")


class Folder(TenantScoped):
    """A folder label for documents; never a filesystem path."""

    __tablename__ = "folder"
    __table_args__ = _with_feed("folder", Index("ix_folder_owner", "tenant_id", "owner_kind", "owner_id"))
    name: Mapped[str] = mapped_column(String(255))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("folder.id", ondelete="CASCADE"))
    owner_kind: Mapped[str | None] = mapped_column(String(40))
    owner_id: Mapped[int | None] = mapped_column(Integer)


class Blob(Base):
    """Content-addressed file bytes (the bytes live in the data folder)."""

    __tablename__ = "blob"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Document(TenantScoped):
    """A file or photo (Microbizz document, Cirrus file)."""

    __tablename__ = "document"
    __table_args__ = _with_feed("document", Index("ix_document_folder", "tenant_id", "folder_id"))
    filename: Mapped[str] = mapped_column(String(255))
    title: Mapped[str | None] = mapped_column(String(255))
    info: Mapped[str | None] = mapped_column(Text)
    folder_id: Mapped[int | None] = mapped_column(ForeignKey("folder.id", ondelete="SET NULL"))
    blob_sha256: Mapped[str] = mapped_column(ForeignKey("blob.sha256"))
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    mime: Mapped[str | None] = mapped_column(String(100))
    is_photo: Mapped[bool] = mapped_column(Boolean, default=False)
    onxnet: Mapped[bool] = mapped_column(Boolean, default=False)
    taken_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    thumb_sha256: Mapped[str | None] = mapped_column(ForeignKey("blob.sha256"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))


class Link(TenantScoped):
    """A relation between two records: file attachments, follows, tags, ...

    ``kind`` names the relation (``file``, ``follow``, ``tag``, ``mission``, ...);
    ``source`` is the owning side, ``target`` the other.
    """

    __tablename__ = "link"
    __table_args__ = _with_feed(
        "link",
        UniqueConstraint("tenant_id", "kind", "source_kind", "source_id", "target_kind", "target_id"),
        Index("ix_link_target", "tenant_id", "kind", "target_kind", "target_id"),
    )
    kind: Mapped[str] = mapped_column(String(40))
    source_kind: Mapped[str] = mapped_column(String(40))
    source_id: Mapped[int] = mapped_column(Integer)
    target_kind: Mapped[str] = mapped_column(String(40))
    target_id: Mapped[int] = mapped_column(Integer)
    value: Mapped[str | None] = mapped_column(String(255))


class CustomField(TenantScoped):
    """A custom field definition (centia input, Cirrus dynamic field)."""

    __tablename__ = "custom_field"
    __table_args__ = _with_feed("custom_field", Index("ix_custom_field_entity", "tenant_id", "entity"))
    entity: Mapped[str] = mapped_column(String(40))
    profile_id: Mapped[int | None] = mapped_column(ForeignKey("profile.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    slug: Mapped[str] = mapped_column(String(100))
    field_type: Mapped[str] = mapped_column(String(40), default="text")
    options: Mapped[list[Any]] = mapped_column(JSON, default=list)
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    sortorder: Mapped[int] = mapped_column(Integer, default=0)


class CustomValue(TenantScoped):
    __tablename__ = "custom_value"
    __table_args__ = _with_feed(
        "custom_value",
        UniqueConstraint("field_id", "entity_id"),
        Index("ix_custom_value_lookup", "tenant_id", "field_id", "value"),
    )
    field_id: Mapped[int] = mapped_column(ForeignKey("custom_field.id", ondelete="CASCADE"))
    entity_id: Mapped[int] = mapped_column(Integer)
    value: Mapped[str | None] = mapped_column(String(1000))


class Record(TenantScoped):
    """A change-tracked record of a kind only one API knows in depth.

    Used for Microbizz procedures, depot order lines and subscriptions, and
    for the Cirrus-only entities (leads, missions, contracts, objects, ...).
    ``customer_id``/``number``/``name``/``externalkey`` are the common,
    indexed attributes; everything else is in ``extra``.
    """

    __tablename__ = "record"
    __table_args__ = _with_feed(
        "record",
        Index("ix_record_kind", "tenant_id", "kind", "id"),
        Index("ix_record_kind_feed", "tenant_id", "kind", "changed_at", "id"),
        Index("ix_record_customer", "tenant_id", "kind", "customer_id"),
    )
    kind: Mapped[str] = mapped_column(String(40))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id", ondelete="SET NULL"))
    parent_id: Mapped[int | None] = mapped_column(Integer)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    number: Mapped[str | None] = mapped_column(String(100))
    name: Mapped[str | None] = mapped_column(String(255))
    externalkey: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


ENTITIES: dict[str, type[TenantScoped]] = {
    m.__tablename__: m
    for m in (
        User, Profile, Lookup, Customer, Contact, Product, Activity, Opportunity,
        Quote, QuoteLine, Order, OrderLine, Ticket, Folder, Document, Record,
    )
}
from polycrm.sandbox import models as _sandbox_models  # noqa: E402,F401  (the sandbox's own tables)
from polycrm.platform import models as _platform_models  # noqa: E402,F401  (the integration platform's tables)
from polycrm.core import throttle as _throttle  # noqa: E402,F401  (login_throttle)
from polycrm.core import history as _history  # noqa: E402,F401  (field_change: field-level history)
from polycrm.oauth import models as _oauth_models  # noqa: E402,F401  (OAuth apps: clients, codes, tokens)
