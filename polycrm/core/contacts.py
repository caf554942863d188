"""Contact rules shared by every API, and their write service (:data:`SERVICE`).

Every API and the web pages create and update contacts through
:func:`create` / :func:`update`: a contact's name is not empty; its
customer is a live customer of this tenant; its superior a live contact
other than itself; its title, origin, position and department live entries
of their lists (each checked when written with a new value); a new
contact written for a profile (``profile=``) belongs to that profile, as its
customer must, and its custom inputs (``inputs=``) are written with the row.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from polycrm.core import lookups, profiles
from polycrm.core.customers import fold, write_inputs, written
from polycrm.core.errors import Invalid, NotFound
from polycrm.core.models import Contact, Customer, Profile
from polycrm.core.query import rows, same_text
from polycrm.core.service import Service, Write, required_text
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
        Contact.deleted.is_(False), profiles.owned_by(Contact, profile), same_text(Contact.email, email)
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



# -- the write service ---------------------------------------------------------
LOOKUPS = {
    "title_id": "contact_title", "origin_id": "contact_origin",
    "position_id": "contact_position", "department_id": "contact_department",
}


def _profile(write: Write) -> None:
    profile = write.context.get("profile")
    if write.creating and profile is not None:
        write.values.setdefault("profile_id", profile.id)


def _references(write: Write) -> None:
    """The customer, the superior and the lookups, when written with a new value."""
    ws = write.ws
    customer_id = write.values.get("customer_id")
    if customer_id and written(write, "customer_id") and not rows.is_live(ws, Customer, customer_id):
        raise NotFound(f"customer_id {customer_id} does not exist", field="customer_id")
    superior_id = write.values.get("superior_id")
    if superior_id and written(write, "superior_id"):
        superior = ws.get(Contact, superior_id, include_deleted=False)
        if superior is None:
            raise NotFound(f"superior_id {superior_id} does not exist", field="superior_id")
        if write.obj is not None and superior.id == write.obj.id:
            raise Invalid(f"superior_id {superior_id} is the contact itself", field="superior_id")
    for path, kind in LOOKUPS.items():
        value = write.values.get(path)
        if value and written(write, path) and not lookups.exists(ws, kind, value):
            raise NotFound(f"{path} {value} not found", field=path)


def _inputs(write: Write) -> None:
    write_inputs(write, "contact")


SERVICE: Service[Contact] = Service(
    Contact, "contact",
    rules=[_profile, profiles.of_the_profile({"customer_id": (Customer, "company")}), required_text("name"), _references],
    after=[_inputs],
)


def create(ws: Workspace, values: Mapping[str, Any], *, profile: Profile | None = None,
           inputs: Mapping[str, Any] | None = None) -> Contact:
    """Create a contact with its rules (module docstring)."""
    return SERVICE.create(ws, values, profile=profile, inputs=inputs)


def update(ws: Workspace, contact: Contact, values: Mapping[str, Any], *, profile: Profile | None = None,
           inputs: Mapping[str, Any] | None = None) -> bool:
    """Partially update a contact with its rules; returns whether anything changed."""
    return SERVICE.update(ws, contact, values, profile=profile, inputs=inputs)


def delete(ws: Workspace, contact: Contact) -> None:
    """Mark a contact deleted (syncs see it go)."""
    SERVICE.delete(ws, contact)


def all_by_email(ws: Workspace, email: str) -> list[Contact]:
    """The tenant's live contacts with this e-mail (case-insensitive), in id order."""
    email = (email or "").strip()
    if not email:
        return []
    return ws.scalars(
        select(Contact).where(same_text(Contact.email, email), Contact.deleted.is_(False)).order_by(Contact.id)
    )
