"""Customer rules shared by every API: derived fields, lookups, the hierarchy."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from polycrm.core import profiles
from polycrm.core.derived import (  # noqa: F401  (part of this module's interface)
    INTERIOR_PREFIX, STREET_NUMBER_PARTS, fold, street_line,
)
from polycrm.core.errors import Invalid
from polycrm.core.models import Contact, Customer, Product, Profile
from polycrm.core.workspace import Workspace

ADDRESS_KINDS = ("visiting", "postal", "delivery", "invoice")
ADDRESS_PARTS = (
    "careof", "name", "street", "street2", "number", "letter", "interior_number",
    "suburb", "zip", "city", "state", "country", "email", "latitude", "longitude",
)


def street_line_patch(kind: str, line: str | None, current: Mapping[str, Any] | None) -> dict[str, Any]:
    """The patch that stores a one-line street (as an API without separate
    numbers writes it) in address ``kind``: the whole line becomes the street
    and the separate numbers are cleared, so none is shown twice. Writing
    back the line the address already reads as (a client saving what it
    read) changes nothing, so the numbers stay separate."""
    if (line or "").strip() == (street_line(current) or ""):
        return {}
    return {f"addresses.{kind}.street": line, **{f"addresses.{kind}.{p}": None for p in STREET_NUMBER_PARTS}}


def live() -> Any:
    """Customers that are neither closed nor deleted."""
    return (Customer.deleted.is_(False)) & (Customer.active.is_(True))


def by_number(ws: Workspace, number: str) -> Customer | None:
    return ws.first(select(Customer).where(Customer.number == str(number)).order_by(Customer.deleted, Customer.id))


def by_number_in_profile(ws: Workspace, profile: Profile, number: str) -> Customer | None:
    """The first live customer of a profile with this number."""
    stmt = select(Customer).where(
        Customer.number == str(number), Customer.deleted.is_(False), profiles.owned_by(Customer, profile)
    )
    return ws.first(stmt.order_by(Customer.id))


def by_name(ws: Workspace, name: str) -> Customer | None:
    return ws.first(select(Customer).where(Customer.name_folded == fold(name)).order_by(Customer.deleted, Customer.id))


def children(ws: Workspace, parent_id: int, *, recursive: bool = False, ignore_closed: bool = False) -> list[Customer]:
    """Direct children, or every descendant breadth first."""
    found: list[Customer] = []
    seen = {parent_id}
    frontier = [parent_id]
    while frontier:
        stmt = select(Customer).where(Customer.parent_id.in_(frontier)).order_by(Customer.id)
        batch = [c for c in ws.scalars(stmt) if c.id not in seen]
        seen.update(c.id for c in batch)
        frontier = [c.id for c in batch] if recursive else []
        found.extend(batch)
    if ignore_closed:
        found = [c for c in found if c.active and not c.deleted]
    return found


def ancestors(ws: Workspace, customer: Customer, *, ignore_closed: bool = False) -> list[Customer]:
    """Parents nearest first; stops at a cycle."""
    chain: list[Customer] = []
    seen = {customer.id}
    current = customer
    while current.parent_id and current.parent_id not in seen:
        parent = ws.get(Customer, current.parent_id)
        if parent is None:
            break
        seen.add(parent.id)
        chain.append(parent)
        current = parent
    if ignore_closed:
        chain = [c for c in chain if c.active and not c.deleted]
    return chain


def check_parent(ws: Workspace, customer_id: int | None, parent_id: int | None, field: str = "parent") -> int | None:
    """Validate a parent reference: it must exist and must not create a cycle."""
    if not parent_id:
        return None
    parent = ws.get(Customer, parent_id)
    if parent is None:
        raise Invalid(f"{field} {parent_id} does not exist", field=field)
    if customer_id is not None:
        if parent.id == customer_id or any(a.id == customer_id for a in ancestors(ws, parent)):
            raise Invalid(f"{field} {parent_id} would make the customer its own ancestor", field=field)
    return parent.id


def feed_filter(*, skip_deleted: bool = False, ignore_closed: bool = False) -> list[Any]:
    """Conditions for a customer sync."""
    where: list[Any] = []
    if skip_deleted or ignore_closed:
        where.append(Customer.deleted.is_(False))
    if ignore_closed:
        where.append(Customer.active.is_(True))
    return where
