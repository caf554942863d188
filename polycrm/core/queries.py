"""The listings of a profile's records (centiaCRM's lists), as criteria.

Each function turns plain Python filters (id lists, inclusive date ranges, a
search text) into :class:`~polycrm.core.query.Criterion` objects and lists
through :func:`polycrm.core.query.search` (or :func:`~polycrm.core.query.every`
for the unpaged lists): one paging rule, one LIKE escaping, and the trigram
indexes of the ``search_text`` columns. A page past the last one is empty
(``past_end="empty"``). Date ranges are inclusive: ``to`` runs to the end of
that day. The search text is one substring (``contains``, spaces and all),
``%`` and ``_`` literal.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from polycrm.core import query as q
from polycrm.core.models import Contact, Customer, Opportunity, Product, Profile, Ticket
from polycrm.core.workspace import Workspace


@dataclass(frozen=True)
class DateRange:
    start: dt.date | None = None
    end: dt.date | None = None

    def __bool__(self) -> bool:
        return self.start is not None or self.end is not None


# List orders (the id ends each, in the first key's direction).
CUSTOMER_ORDER = (q.Sort("name_folded"),)
CONTACT_ORDER = (q.Sort("name"), q.Sort("surname"))
PRODUCT_ORDER = (q.Sort("name"),)
NEWEST_FIRST = (q.Sort("id", descending=True),)


def in_profile(profile: Profile) -> q.Criterion:
    """The row belongs to the profile; rows without a profile belong to the default one
    (:func:`polycrm.core.profiles.owned_by` as a criterion)."""
    mine = q.Criterion("eq", "profile_id", profile.id)
    if profile.is_default:
        return q.Criterion("any", "profile_id", (mine, q.Criterion("set", "profile_id", False)))
    return mine


def within(path: str, span: DateRange) -> list[q.Criterion]:
    """Criteria for an inclusive date range on a date or date-time path."""
    found = []
    if span.start is not None:
        found.append(q.Criterion("from", path, span.start))
    if span.end is not None:
        found.append(q.Criterion("to", path, span.end))
    return found


def _ids(path: str, ids: Sequence[int] | None) -> list[q.Criterion]:
    return [q.Criterion("in", path, list(ids))] if ids else []


def _text(paths: str, text: str | None) -> list[q.Criterion]:
    return [q.Criterion("contains", paths, text)] if text else []


def customers(
    ws: Workspace,
    profile: Profile,
    *,
    type_ids: Sequence[int] | None = None,
    industry_ids: Sequence[int] | None = None,
    created: DateRange = DateRange(),
    text: str | None = None,
    page: int = 1,
    per_page: int = 500,
) -> q.Page:
    criteria = [
        in_profile(profile),
        *_ids("type_id", type_ids),
        *_ids("industry_id", industry_ids),
        *within("created_at", created),
        # The Mexican tax id (rfc) lives in extra, outside the derived search text.
        *_text("search_text,extra.rfc", text),
    ]
    return q.search(ws, Customer, criteria, sort=CUSTOMER_ORDER, page=page, per_page=per_page, past_end="empty")


def contacts(
    ws: Workspace,
    profile: Profile,
    *,
    customer_id: int | None = None,
    origin_ids: Sequence[int] | None = None,
    title_ids: Sequence[int] | None = None,
    position_ids: Sequence[int] | None = None,
    department_ids: Sequence[int] | None = None,
    created: DateRange = DateRange(),
    text: str | None = None,
    page: int = 1,
    per_page: int = 500,
) -> q.Page:
    criteria = [
        in_profile(profile),
        *_ids("origin_id", origin_ids),
        *_ids("title_id", title_ids),
        *_ids("position_id", position_ids),
        *_ids("department_id", department_ids),
        *within("created_at", created),
        *_text("search_text", text),
    ]
    if customer_id is not None:
        criteria.append(q.Criterion("eq", "customer_id", customer_id))
    return q.search(ws, Contact, criteria, sort=CONTACT_ORDER, page=page, per_page=per_page, past_end="empty")


def opportunities(
    ws: Workspace,
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
    page: int = 1,
    per_page: int = 500,
) -> q.Page:
    """Opportunities of a profile, newest first; ``extra_equals`` compares keys of ``extra`` exactly."""
    criteria = [
        in_profile(profile),
        *_ids("stage_id", stage_ids),
        *_ids("contact_id->contact.origin_id", contact_origin_ids),
        *_ids("customer_id->customer.industry_id", industry_ids),
        *within("created_at", created),
        *within("estimated_end", estimated_end),
        *within("closed_at", closed),
        *(q.Criterion("one_of", f"extra.{key}", [value]) for key, value in (extra_equals or {}).items()),
        *_text("search_text,title", text),
    ]
    if user_id is not None:
        criteria.append(q.Criterion("eq", "user_id", user_id))
    if status:
        criteria.append(q.Criterion("one_of", "status", [status]))
    if value_min is not None:
        criteria.append(q.Criterion("ge", "value", value_min))
    if value_max is not None:
        criteria.append(q.Criterion("le", "value", value_max))
    return q.search(ws, Opportunity, criteria, sort=NEWEST_FIRST, page=page, per_page=per_page, past_end="empty")


def products(ws: Workspace, profile: Profile) -> list[Product]:
    """Every live product of a profile, by name (an unpaged list)."""
    return q.every(ws, Product, [in_profile(profile)], sort=PRODUCT_ORDER)


def tickets(ws: Workspace, profile: Profile, *, customer_id: int | None = None) -> list[Ticket]:
    """Every live ticket of a profile, newest first (an unpaged list)."""
    criteria = [in_profile(profile)]
    if customer_id is not None:
        criteria.append(q.Criterion("eq", "customer_id", customer_id))
    return q.every(ws, Ticket, criteria, sort=NEWEST_FIRST)
