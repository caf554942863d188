"""Actions on many customers at once (the web list's selected rows).

Each action takes the chosen ids, requires every one to be a live customer of
the tenant (else :class:`~polycrm.core.errors.NotFound`, so nothing is done:
the caller's one transaction rolls back) and writes through the customer
service or the link conventions, exactly as one-by-one writes would.
"""

from __future__ import annotations

from collections.abc import Iterable

from polycrm.core import customers, links, lookups
from polycrm.core.errors import Invalid, NotFound
from polycrm.core.models import Customer, User
from polycrm.core.workspace import Workspace

MAX_SELECTED = 500


def chosen(ws: Workspace, ids: Iterable[object]) -> list[Customer]:
    """The live customers named by ``ids`` in the given order; NotFound names the first unknown id."""
    wanted = [str(i).strip() for i in ids if str(i).strip()]
    if not wanted:
        raise Invalid("choose at least one customer", field="ids")
    if len(wanted) > MAX_SELECTED:
        raise Invalid(f"choose at most {MAX_SELECTED} customers at a time", field="ids")
    found = []
    for raw in dict.fromkeys(wanted):
        customer = ws.get(Customer, raw, include_deleted=False)
        if customer is None:
            raise NotFound(f"customer {raw} not found", field="ids")
        found.append(customer)
    return found


def delete(ws: Workspace, selected: list[Customer]) -> int:
    for customer in selected:
        customers.delete(ws, customer)
    return len(selected)


def set_responsible(ws: Workspace, selected: list[Customer], user_id: object) -> int:
    """Make one active user responsible; returns how many customers changed."""
    user = ws.get(User, user_id, include_deleted=False)
    if user is None or not user.active:
        raise Invalid("choose an active user as responsible", field="user_id")
    return sum(1 for customer in selected if customers.update(ws, customer, {"user_id": user.id}))


def add_tag(ws: Workspace, selected: list[Customer], name: str) -> int:
    """Tag each customer (the ``tag`` link to a tag list entry, made if new); how many got it."""
    name = (name or "").strip()
    if not name:
        raise Invalid("a tag needs a name", field="tag")
    if len(name) > 100:
        raise Invalid("a tag can be at most 100 characters", field="tag")
    entry = lookups.by_name(ws, "tag", name, create=True)
    return sum(1 for c in selected if links.link(ws, links.TAG, "customer", c.id, links.LOOKUP, entry.id))
