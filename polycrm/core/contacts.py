"""Contact rules shared by every API."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from polycrm.core.customers import fold
from polycrm.core.errors import Invalid
from polycrm.core.models import Contact, Profile
from polycrm.core.profiles import owned_by
from polycrm.core.query import same_text
from polycrm.core.workspace import Workspace


def require_of_customer(ws: Workspace, contact_id: Any, customer_id: int, field: str = "contact_id") -> Contact:
    """A live contact that belongs to the given customer."""
    contact = ws.get(Contact, contact_id, include_deleted=False)
    if contact is None:
        raise Invalid(f"contact {contact_id} not found", field=field)
    if contact.customer_id != customer_id:
        raise Invalid(f"contact {contact_id} does not belong to company {customer_id}", field=field)
    return contact


def by_email(ws: Workspace, profile: Profile, email: str, customer_id: int | None = None) -> Contact | None:
    """The first live contact of a profile with this e-mail (case-insensitive)."""
    stmt = select(Contact).where(
        Contact.deleted.is_(False), owned_by(Contact, profile), same_text(Contact.email, email)
    )
    if customer_id is not None:
        stmt = stmt.where(Contact.customer_id == customer_id)
    found = [c for c in ws.scalars(stmt.order_by(Contact.id)) if fold(c.email) == fold(email)]
    return found[0] if found else None


def of_customers(ws: Workspace, customer_ids: list[int]) -> dict[int, list[Contact]]:
    """Live contacts grouped by customer, by name."""
    grouped: dict[int, list[Contact]] = {i: [] for i in customer_ids}
    if not customer_ids:
        return grouped
    stmt = (
        select(Contact)
        .where(Contact.customer_id.in_(customer_ids), Contact.deleted.is_(False))
        .order_by(Contact.name, Contact.surname, Contact.id)
    )
    for contact in ws.scalars(stmt):
        grouped[contact.customer_id].append(contact)
    return grouped

