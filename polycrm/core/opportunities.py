"""Opportunity rules shared by every API: :data:`SERVICE` is an opportunity's one
write path (references, lookups, status in step with the status list, who
registered and who changed it, product lines, custom inputs, the
new-opportunity notice). One written for a profile (``profile=``) names that
profile's user, customer and products."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from polycrm.core import contacts, lookups, notifications, profiles
from polycrm.core.customers import write_inputs
from polycrm.core.errors import Invalid
from polycrm.core.models import Contact, Customer, Lookup, Opportunity, OpportunityLine, Product, Profile, User, utcnow
from polycrm.core.service import Service, Write, live_references
from polycrm.core.workspace import Workspace

STATUSES = ("active", "pending", "won", "lost")
LINE_FIELDS = ("product_id", "quantity", "price", "discount", "tax", "total")


def status_entry(ws: Workspace, status: str, profile_id: int | None = None) -> Lookup | None:
    """The entry of the status list (``opportunity_status``) a status word
    stands for: the first won (lost) entry for ``won`` (``lost``); for an open
    word (``active``, ``pending``) the default entry if it is open, else the
    first open one. The profile's entries are looked at first, then the
    tenant's."""
    entries = lookups.items(ws, "opportunity_status", profile_id) if profile_id else []
    entries = entries or lookups.items(ws, "opportunity_status")

    def flag(entry: Lookup, name: str) -> bool:
        return bool(int((entry.extra or {}).get(name) or 0))

    if status in ("won", "lost"):
        return next((e for e in entries if flag(e, status)), None)
    open_ = [e for e in entries if not flag(e, "won") and not flag(e, "lost")]
    return next((e for e in open_ if e.is_default), open_[0] if open_ else None)


def _status_rule(write: Write) -> None:
    """A status word is one of :data:`STATUSES`; a new opportunity without a
    ``status_id`` gets the status list's entry for its word."""
    if write.creating or write.given("status"):
        status = write.values.get("status") or ("active" if write.creating else None)
        if status not in STATUSES:
            raise Invalid(f"status must be one of {', '.join(STATUSES)}", field="status")
        write.values["status"] = status
    if write.creating and not write.values.get("status_id"):
        entry = status_entry(write.ws, write.values["status"], write.values.get("profile_id"))
        write.values["status_id"] = entry.id if entry is not None else None


def _registering_user(write: Write) -> None:
    """Whichever API creates it, its registering user (``extra.reguser_id``,
    Cirrus ``reguserid``) is the acting user unless given."""
    ws, data = write.ws, write.values
    if not write.creating or not ws.user_id:
        return
    extra = data.get("extra")
    if isinstance(extra, Mapping):
        data["extra"] = {"reguser_id": ws.user_id, **extra}
    elif not data.get("extra.reguser_id"):
        data["extra.reguser_id"] = ws.user_id


def _status_in_step(write: Write) -> None:
    """The status word and ``closed`` follow the status list: a won (lost)
    entry makes it ``won`` (``lost``) and closed; moving a won or lost one to
    an open entry (or reopening it) makes it ``active`` and open again. Closing
    stamps ``closed_at`` (unless given); reopening clears it."""
    values, obj = write.values, write.obj
    status_id = write.get("status_id")
    entry = lookups.get(write.ws, "opportunity_status", status_id) if status_id else None
    flags = (entry.extra or {}) if entry is not None else {}
    current = obj.status if obj is not None else "active"
    if int(flags.get("won") or 0):
        values["status"], values["closed"] = "won", True
    elif int(flags.get("lost") or 0):
        values["status"], values["closed"] = "lost", True
    elif current in ("won", "lost") and ("status_id" in values or values.get("closed") is False):
        values["status"] = "active"
        values.setdefault("closed", False)
    closed = write.get("closed", False)
    if "closed_at" not in values:
        if closed and (obj is None or obj.closed_at is None):
            values["closed_at"] = utcnow().replace(microsecond=0)
        elif not closed and obj is not None and obj.closed_at is not None:
            values["closed_at"] = None


def _changing_user(write: Write) -> None:
    """Who last changed it (Cirrus ``changeuser``): the acting user of every write."""
    if write.ws.user_id:
        write.values["extra.changeuser_id"] = write.ws.user_id


def _contact_of_the_customer(write: Write) -> None:
    """Where the writer's vendor says so (centiaCRM: ``contact_of_customer=True``),
    the contact of an opportunity of a customer is that customer's. Cirrus ties
    an opportunity to any contact and an account independently."""
    if not write.context.get("contact_of_customer"):
        return
    if not (write.given("contact_id") or write.given("customer_id")):
        return
    contact_id, customer_id = write.get("contact_id"), write.get("customer_id")
    if contact_id and customer_id:
        contacts.require_of_customer(write.ws, contact_id, customer_id)


def _products_of_the_profile(write: Write) -> None:
    """The products of the lines of an opportunity written for a profile are that profile's."""
    profile = write.context.get("profile")
    if profile is None:
        return
    for i, line in enumerate(write.context.get("lines") or ()):
        if line.get("product_id") is not None:
            profiles.require_own(write.ws, profile, Product, line["product_id"], "product", f"lines[{i}].product_id")


def _add_lines(write: Write) -> None:
    for order, line in enumerate(write.context.get("lines") or (), start=1):
        add_line(write.ws, write.obj, line, order)


def _inputs(write: Write) -> None:
    """Custom inputs (``inputs=``) of the caller's profile; on create the required ones must be given."""
    write_inputs(write, "opportunity")


REFERENCES = {
    "customer_id": (Customer, "customer"),
    "extra.altaccount_id": (Customer, "customer"),
    "contact_id": (Contact, "contact"),
    "user_id": (User, "user"),
}
LOOKUPS = {
    **lookups.LOOKUP_FIELDS[Opportunity],
    "extra.lostreason_id": "lost_reason",
    "extra.winreason_id": "win_reason",
    "extra.estimate_id": "opportunity_estimate",
    "extra.progressionstate_id": "opportunity_progression",
}

SERVICE: Service[Opportunity] = Service(
    Opportunity, "opportunity",
    lookups=LOOKUPS,
    rules=[profiles.of_the_profile({"customer_id": (Customer, "company")}, members=("user_id",)),
           _products_of_the_profile, live_references(REFERENCES), _contact_of_the_customer, _status_rule,
           _status_in_step, _registering_user, _changing_user],
    after=[_add_lines, _inputs, notifications.on_create("opportunity", "opportunity")],
)


def create(
    ws: Workspace, values: Mapping[str, Any], lines: Iterable[Mapping[str, Any]] = (), *,
    notify: bool = False, comment: str | None = None, contact_of_customer: bool = False,
    profile: Profile | None = None, inputs: Mapping[str, Any] | None = None,
) -> Opportunity:
    """Create an opportunity, its product lines and its custom inputs in one go
    (see :data:`SERVICE`); ``notify`` tells its user, in ``comment``'s words if
    given; ``contact_of_customer`` requires the contact to be the customer's;
    ``profile`` limits its references to that profile's and checks its
    required inputs."""
    return SERVICE.create(ws, values, lines=list(lines), notify=notify, comment=comment,
                          contact_of_customer=contact_of_customer, profile=profile, inputs=inputs)


def update(ws: Workspace, opportunity: Opportunity, values: Mapping[str, Any]) -> bool:
    """Partially update an opportunity (see :data:`SERVICE`); whether anything changed."""
    return SERVICE.update(ws, opportunity, values)


def delete(ws: Workspace, opportunity: Opportunity) -> None:
    """Mark an opportunity deleted (syncs see it go)."""
    SERVICE.delete(ws, opportunity)


def add_line(ws: Workspace, opportunity: Opportunity, line: Mapping[str, Any], order: int = 0) -> OpportunityLine:
    unknown = set(line) - set(LINE_FIELDS)
    if unknown:
        raise Invalid(f"unknown line fields: {', '.join(sorted(unknown))}")
    if line.get("product_id") is not None and ws.get(Product, line["product_id"], include_deleted=False) is None:
        raise Invalid(f"product {line['product_id']} not found", field="product_id")
    values = {k: v for k, v in line.items() if k in LINE_FIELDS}
    quantity, price = values.get("quantity"), values.get("price")
    if values.get("total") is None and quantity is not None and price is not None:
        values["total"] = Decimal(quantity) * Decimal(price)
    return ws.create(OpportunityLine, {**values, "opportunity_id": opportunity.id, "extra": {"sortorder": order}})


def lines_of(ws: Workspace, opportunity_ids: Iterable[int]) -> dict[int, list[OpportunityLine]]:
    ids = sorted(set(opportunity_ids))
    grouped: dict[int, list[OpportunityLine]] = {i: [] for i in ids}
    if ids:
        stmt = (
            select(OpportunityLine)
            .where(OpportunityLine.opportunity_id.in_(ids), OpportunityLine.deleted.is_(False))
            .order_by(OpportunityLine.opportunity_id, OpportunityLine.id)
        )
        for line in ws.scalars(stmt):
            grouped[line.opportunity_id].append(line)
    return grouped
