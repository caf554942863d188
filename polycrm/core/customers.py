"""Customer rules shared by every API: derived fields, lookups, the hierarchy."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from polycrm.core import profiles
from polycrm.core.errors import Invalid
from polycrm.core.models import Contact, Customer, Product, Profile
from polycrm.core.tenancy import on_save
from polycrm.core.workspace import Workspace

ADDRESS_KINDS = ("visiting", "postal", "delivery", "invoice")
ADDRESS_PARTS = (
    "careof", "name", "street", "street2", "number", "letter", "interior_number",
    "suburb", "zip", "city", "state", "country", "email", "latitude", "longitude",
)
# The parts a one-line street ("Vesterbrogade 12B", "Av. Vallarta 1234 Int. 5") is made of.
STREET_NUMBER_PARTS = ("number", "letter", "interior_number")
INTERIOR_PREFIX = "Int. "
_SEARCH_FIELDS = ("name", "alt_name", "number", "phone", "cellphone", "email", "vat")
_SEARCH_ADDRESS_PARTS = ("name", "street", "number", "letter", "zip", "city", "careof")


def fold(text: str | None) -> str:
    return (text or "").casefold()


@on_save(Customer)
def _derive_customer(c: Customer) -> None:
    c.name_folded = fold(c.name)[:255]
    parts = [getattr(c, f) or "" for f in _SEARCH_FIELDS]
    for address in (c.addresses or {}).values():
        if isinstance(address, dict):
            parts.extend(str(address.get(p) or "") for p in _SEARCH_ADDRESS_PARTS)
    c.search_text = fold(" ".join(p for p in parts if p))


@on_save(Contact)
def _derive_contact(c: Contact) -> None:
    fields = (c.name, c.surname, c.mother_surname, c.email, c.phone, c.cellphone, c.jobtitle, c.idnumber, c.street, c.city, c.zip)
    c.search_text = fold(" ".join(f for f in fields if f))


@on_save(Product)
def _derive_product(p: Product) -> None:
    p.search_text = fold(" ".join(f for f in (p.name, p.number, p.description, p.short_name) if f))


def street_line(address: Mapping[str, Any] | None) -> str | None:
    """An address's street with its numbers, as one line of text.

    The street, a blank, the house number with its letter right after it,
    and the interior number after ``Int.``: "Vesterbrogade 12",
    "Vesterbrogade 12B", "Av. Vallarta 1234 Int. 5". None when all are empty.
    """
    if not address:
        return None

    def part(name: str) -> str:
        value = address.get(name)
        return "" if value is None else str(value).strip()

    interior = part("interior_number")
    words = (part("street"), part("number") + part("letter"), INTERIOR_PREFIX + interior if interior else "")
    return " ".join(w for w in words if w) or None


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
