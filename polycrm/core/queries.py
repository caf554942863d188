"""Filtered, paged listings of the shared entities (neutral of any wire format).

Each ``*_query`` function builds a select from plain Python filters (id lists,
date ranges, a search text); :func:`paginate` runs it one page at a time.
Date ranges are inclusive: ``to`` runs to the end of that day. Free-text
search matches the folded ``search_text`` column where a model has one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, or_, select

from polycrm.core.customers import fold
from polycrm.core.models import Contact, Customer, Opportunity, Product, Profile, Ticket
from polycrm.core.profiles import owned_by
from polycrm.core.query import Page
from polycrm.core.workspace import Workspace


@dataclass(frozen=True)
class DateRange:
    start: dt.date | None = None
    end: dt.date | None = None

    def __bool__(self) -> bool:
        return self.start is not None or self.end is not None


def paginate(ws: Workspace, stmt: Select, *, page: int = 1, per_page: int = 500) -> Page:
    """One 1-based page of a select, with the total count."""
    page, per_page = max(1, page), max(1, per_page)
    total = ws.count(stmt)
    items = ws.scalars(stmt.limit(per_page).offset((page - 1) * per_page))
    return Page(items=items, total=total, page=page, per_page=per_page)


def within(column: Any, span: DateRange) -> list[Any]:
    """Conditions for an inclusive date range on a date or datetime column."""
    conditions = []
    if span.start is not None:
        conditions.append(column >= _start_of(column, span.start))
    if span.end is not None:
        end = span.end + dt.timedelta(days=1)
        conditions.append(column < _start_of(column, end))
    return conditions


def _start_of(column: Any, day: dt.date) -> Any:
    python_type = getattr(column.type, "python_type", None)
    if python_type is dt.datetime:
        return dt.datetime.combine(day, dt.time())
    return day


def _like_pattern(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def matches(column: Any, text: str) -> Any:
    """Case-insensitive substring match on a folded column."""
    return column.like(_like_pattern(fold(text)), escape="\\")


def matches_extra(model: Any, key: str, text: str) -> Any:
    """Substring match on a text kept in ``extra``; case-insensitive for ASCII on every database."""
    return model.extra[key].as_string().ilike(_like_pattern(text), escape="\\")


def _ids(column: Any, ids: Sequence[int] | None) -> list[Any]:
    return [column.in_(list(ids))] if ids else []


def customers_query(
    profile: Profile,
    *,
    type_ids: Sequence[int] | None = None,
    industry_ids: Sequence[int] | None = None,
    created: DateRange = DateRange(),
    text: str | None = None,
) -> Select:
    stmt = select(Customer).where(Customer.deleted.is_(False), owned_by(Customer, profile))
    conditions = [*_ids(Customer.type_id, type_ids), *_ids(Customer.industry_id, industry_ids)]
    conditions += within(Customer.created_at, created)
    if text:
        # The Mexican tax id (rfc) lives in extra, outside the derived search text.
        conditions.append(or_(matches(Customer.search_text, text), matches_extra(Customer, "rfc", text)))
    return stmt.where(*conditions).order_by(Customer.name_folded, Customer.id)


def contacts_query(
    profile: Profile,
    *,
    customer_id: int | None = None,
    origin_ids: Sequence[int] | None = None,
    title_ids: Sequence[int] | None = None,
    position_ids: Sequence[int] | None = None,
    department_ids: Sequence[int] | None = None,
    created: DateRange = DateRange(),
    text: str | None = None,
) -> Select:
    stmt = select(Contact).where(Contact.deleted.is_(False), owned_by(Contact, profile))
    conditions = [
        *_ids(Contact.origin_id, origin_ids),
        *_ids(Contact.title_id, title_ids),
        *_ids(Contact.position_id, position_ids),
        *_ids(Contact.department_id, department_ids),
        *within(Contact.created_at, created),
    ]
    if customer_id is not None:
        conditions.append(Contact.customer_id == customer_id)
    if text:
        conditions.append(matches(Contact.search_text, text))
    return stmt.where(*conditions).order_by(Contact.name, Contact.surname, Contact.id)


def opportunities_query(
    profile: Profile,
    *,
    user_id: int | None = None,
    status: str | None = None,
    extra_equals: dict[str, str] | None = None,
    stage_ids: Sequence[int] | None = None,
    contact_origin_ids: Sequence[int] | None = None,
    industry_ids: Sequence[int] | None = None,
    value_min: Decimal | None = None,
    value_max: Decimal | None = None,
    created: DateRange = DateRange(),
    estimated_end: DateRange = DateRange(),
    closed: DateRange = DateRange(),
    text: str | None = None,
) -> Select:
    """Opportunities of a profile; ``extra_equals`` compares keys of ``extra``."""
    stmt = select(Opportunity).where(Opportunity.deleted.is_(False), owned_by(Opportunity, profile))
    conditions = [
        *_ids(Opportunity.stage_id, stage_ids),
        *within(Opportunity.created_at, created),
        *within(Opportunity.estimated_end, estimated_end),
        *within(Opportunity.closed_at, closed),
    ]
    if user_id is not None:
        conditions.append(Opportunity.user_id == user_id)
    if status:
        conditions.append(Opportunity.status == status)
    for key, value in (extra_equals or {}).items():
        conditions.append(Opportunity.extra[key].as_string() == value)
    if contact_origin_ids:
        conditions.append(
            Opportunity.contact_id.in_(select(Contact.id).where(Contact.origin_id.in_(list(contact_origin_ids))))
        )
    if industry_ids:
        conditions.append(
            Opportunity.customer_id.in_(select(Customer.id).where(Customer.industry_id.in_(list(industry_ids))))
        )
    if value_min is not None:
        conditions.append(Opportunity.value >= value_min)
    if value_max is not None:
        conditions.append(Opportunity.value <= value_max)
    if text:
        conditions.append(or_(matches(Opportunity.search_text, text), Opportunity.title.ilike(_like_pattern(text), escape="\\")))
    return stmt.where(*conditions).order_by(Opportunity.id.desc())


def products_query(profile: Profile, *, text: str | None = None) -> Select:
    stmt = select(Product).where(Product.deleted.is_(False), owned_by(Product, profile))
    if text:
        stmt = stmt.where(matches(Product.search_text, text))
    return stmt.order_by(Product.name, Product.id)


def tickets_query(profile: Profile, *, customer_id: int | None = None) -> Select:
    stmt = select(Ticket).where(Ticket.deleted.is_(False), owned_by(Ticket, profile))
    if customer_id is not None:
        stmt = stmt.where(Ticket.customer_id == customer_id)
    return stmt.order_by(Ticket.id.desc())
