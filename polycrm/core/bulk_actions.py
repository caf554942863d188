"""Actions on many records at once (the web lists' selected rows), per kind (:data:`KINDS`).

A :class:`BulkKind` says which actions make sense for its records and which
core service writes them: every kind can be deleted (through its service,
marked deleted so syncs see the rows go) and exported; a kind with an owner
field (customers' responsible, opportunities' salesperson, activities' and
tickets' assignee) can get another owner through its service's update (so
each change is in the field-level history and obeys the service's rules);
the kinds the Cirrus API shows tags for (customers, contacts, opportunities)
can be tagged (the ``tag`` link to a tag list entry, made when new).

Each action takes the chosen ids and requires every one to be a live record
of the kind in the tenant (else :class:`~polycrm.core.errors.NotFound`, so
nothing is done: the caller's one transaction rolls back).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from polycrm.core import calls, contacts, customers, links, lookups, opportunities, products, tickets
from polycrm.core.errors import Invalid, NotFound
from polycrm.core.models import Activity, Contact, Customer, Opportunity, Product, Ticket, User
from polycrm.core.query import entity_kind
from polycrm.core.workspace import Workspace

MAX_SELECTED = 500


@dataclass(frozen=True)
class BulkKind:
    key: str  # the list: "customers"
    noun: str  # "customer"
    plural: str
    model: type
    delete: Callable[[Workspace, Any], None]
    # The service's update, and the owner field it may change with its label ("responsible"); None: no owner.
    update: Callable[[Workspace, Any, dict[str, Any]], bool] | None = None
    owner_label: str | None = None
    taggable: bool = False

    def count(self, n: int) -> str:
        return f"{n} {self.noun if n == 1 else self.plural}"


KINDS: dict[str, BulkKind] = {k.key: k for k in (
    BulkKind("customers", "customer", "customers", Customer, customers.delete, customers.update, "responsible",
             taggable=True),
    BulkKind("contacts", "contact", "contacts", Contact, contacts.delete, taggable=True),
    BulkKind("opportunities", "opportunity", "opportunities", Opportunity, opportunities.delete,
             opportunities.update, "salesperson", taggable=True),
    BulkKind("activities", "activity", "activities", Activity, calls.SERVICE.delete, calls.SERVICE.update,
             "assignee"),
    BulkKind("tickets", "ticket", "tickets", Ticket, tickets.SERVICE.delete, tickets.SERVICE.update, "assignee"),
    BulkKind("products", "product", "products", Product, products.delete_product),
)}


def chosen(ws: Workspace, kind: BulkKind, ids: Iterable[object]) -> list[Any]:
    """The live records named by ``ids`` in the given order; NotFound names the first unknown id."""
    wanted = [str(i).strip() for i in ids if str(i).strip()]
    if not wanted:
        raise Invalid(f"choose at least one {kind.noun}", field="ids")
    if len(wanted) > MAX_SELECTED:
        raise Invalid(f"choose at most {MAX_SELECTED} {kind.plural} at a time", field="ids")
    found = []
    for raw in dict.fromkeys(wanted):
        obj = ws.get(kind.model, raw, include_deleted=False)
        if obj is None:
            raise NotFound(f"{kind.noun} {raw} not found", field="ids")
        found.append(obj)
    return found


def delete(ws: Workspace, kind: BulkKind, selected: list[Any]) -> int:
    for obj in selected:
        kind.delete(ws, obj)
    return len(selected)


def set_owner(ws: Workspace, kind: BulkKind, selected: list[Any], user_id: object) -> int:
    """Make one active user the owner of each; returns how many records changed."""
    if kind.update is None:
        raise Invalid(f"{kind.plural} have no owner to change", field="action")
    user = ws.get(User, user_id, include_deleted=False)
    if user is None or not user.active:
        raise Invalid(f"choose an active user as {kind.owner_label}", field="user_id")
    return sum(1 for obj in selected if kind.update(ws, obj, {"user_id": user.id}))


def add_tag(ws: Workspace, kind: BulkKind, selected: list[Any], name: str) -> int:
    """Tag each record (the ``tag`` link to a tag list entry, made if new); how many got it."""
    if not kind.taggable:
        raise Invalid(f"{kind.plural} cannot be tagged", field="action")
    name = (name or "").strip()
    if not name:
        raise Invalid("a tag needs a name", field="tag")
    if len(name) > 100:
        raise Invalid("a tag can be at most 100 characters", field="tag")
    entry = lookups.by_name(ws, "tag", name, create=True)
    source = entity_kind(kind.model)
    return sum(1 for obj in selected if links.link(ws, links.TAG, source, obj.id, links.LOOKUP, entry.id))
