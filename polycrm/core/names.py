"""Display names of records, fetched in bulk (for ``...text`` fields and refs)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from polycrm.core.models import Contact, Customer, Lookup, Product, Quote, User
from polycrm.core.workspace import Workspace

_NAME_COLUMNS = {
    "lookup": (Lookup, (Lookup.name,)),
    "user": (User, (User.name, User.surname)),
    "customer": (Customer, (Customer.name,)),
    "contact": (Contact, (Contact.name, Contact.surname)),
    "product": (Product, (Product.name,)),
    "quote": (Quote, (Quote.title,)),
}


def display_names(ws: Workspace, kind: str, ids: Iterable[int]) -> dict[int, str]:
    """``{id: "First Last"}`` for the ids of one kind that exist in the tenant."""
    model, cols = _NAME_COLUMNS[kind]
    wanted = sorted({int(i) for i in ids if i})
    found: dict[int, str] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start:start + 500]
        for row in ws.session.execute(select(model.id, *cols).where(model.id.in_(chunk))):
            found[row[0]] = " ".join(part for part in row[1:] if part)
    return found
