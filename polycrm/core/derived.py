"""Fields derived from others on every save: folded names and search text.

Registered with :func:`polycrm.core.tenancy.on_save`, so they run whichever
service writes; :mod:`polycrm.core.workspace` imports this module, which
imports only the models and the session events (no import circle).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from polycrm.core.models import Contact, Customer, Opportunity, Product
from polycrm.core.tenancy import on_save

# The parts a one-line street ("Vesterbrogade 12B", "Av. Vallarta 1234 Int. 5") is made of.
STREET_NUMBER_PARTS = ("number", "letter", "interior_number")
INTERIOR_PREFIX = "Int. "
_SEARCH_FIELDS = ("name", "alt_name", "number", "phone", "cellphone", "email", "vat")
_SEARCH_ADDRESS_PARTS = ("name", "street", "number", "letter", "zip", "city", "careof")


def fold(text: str | None) -> str:
    return (text or "").casefold()


@on_save(Customer)
def _derive_customer(c: Customer) -> None:
    c.name_folded, c.search_text = customer_texts(c.__getattribute__)


def customer_texts(get: Callable[[str], Any]) -> tuple[str, str]:
    """A customer's ``name_folded`` and ``search_text`` from its fields (``get(name)``):
    the ORM's save hook reads an object's attributes, the bulk load a row's dict."""
    parts = [get(f) for f in _SEARCH_FIELDS]
    for address in (get("addresses") or {}).values():
        if isinstance(address, dict):
            parts.extend(str(address.get(p) or "") for p in _SEARCH_ADDRESS_PARTS)
    return fold(get("name"))[:255], fold(" ".join(p for p in parts if p))


@on_save(Contact)
def _derive_contact(c: Contact) -> None:
    fields = (c.name, c.surname, c.mother_surname, c.email, c.phone, c.cellphone, c.jobtitle, c.idnumber, c.street, c.city, c.zip)
    c.search_text = fold(" ".join(f for f in fields if f))


@on_save(Product)
def _derive_product(p: Product) -> None:
    p.search_text = fold(" ".join(f for f in (p.name, p.number, p.description, p.short_name) if f))


_STREET_NUMBERS = frozenset(("number", "letter", "interior_number"))


def street_line(address: Mapping[str, Any] | None) -> str | None:
    """An address's street with its numbers, as one line of text.

    The street, a blank, the house number with its letter right after it,
    and the interior number after ``Int.``: "Vesterbrogade 12",
    "Vesterbrogade 12B", "Av. Vallarta 1234 Int. 5". None when all are empty.
    """
    if not address:
        return None
    if address.__class__ is dict and not address.keys() & _STREET_NUMBERS:
        # Most addresses hold the whole line in ``street`` (a sync renders two per customer).
        street = address.get("street")
        return None if street is None else str(street).strip() or None

    def part(name: str) -> str:
        value = address.get(name)
        return "" if value is None else str(value).strip()

    interior = part("interior_number")
    words = (part("street"), part("number") + part("letter"), INTERIOR_PREFIX + interior if interior else "")
    return " ".join(w for w in words if w) or None


@on_save(Opportunity)
def _derive_opportunity(o: Opportunity) -> None:
    o.search_text = fold(" ".join(f for f in (o.title, o.description) if f))
