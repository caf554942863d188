"""Opportunity rules shared by every API: creation with lines, search text, status."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from polycrm.core import lookups
from polycrm.core.customers import fold
from polycrm.core.errors import Invalid
from polycrm.core.models import Lookup, Opportunity, OpportunityLine, Product
from polycrm.core.service import Service, Write
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


def _add_lines(write: Write) -> None:
    for order, line in enumerate(write.context.get("lines") or (), start=1):
        add_line(write.ws, write.obj, line, order)


SERVICE: Service[Opportunity] = Service(
    Opportunity, "opportunity", rules=[_status_rule, _registering_user], after=[_add_lines],
)


def create(ws: Workspace, values: Mapping[str, Any], lines: Iterable[Mapping[str, Any]] = ()) -> Opportunity:
    """Create an opportunity and its product lines in one go (see :data:`SERVICE`)."""
    return SERVICE.create(ws, values, lines=list(lines))


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
