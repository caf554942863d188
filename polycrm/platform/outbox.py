"""The outbox: each change of a shared record, written in the change's own transaction.

A session listener (``after_flush``) sees every row the core's services wrote
in that flush, with its attribute history, and inserts one
:class:`~polycrm.platform.models.OutboxEvent` per record through the same
connection. The event therefore commits with the change and rolls back with
it (a failed Microbizz batch command's savepoint takes its events along), so
a refused command sends nothing and a crash after commit loses nothing.

Several flushes of one transaction that touch the same record (a create and
its after-steps) are merged into one event while the transaction lasts.
Events are only recorded for a tenant that has at least one active hook
(asked once per transaction), so tenants without integrations pay nothing.
"""

from __future__ import annotations

import datetime as dt
import threading
import weakref
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, event, insert, inspect, update
from sqlalchemy.orm import Session

from polycrm.core.models import (
    Activity, Contact, Customer, Document, Opportunity, Order, Product, Quote, Ticket,
)
from polycrm.platform.models import OutboxEvent, Webhook

# Core model -> the entity name events use (customer.created, ...).
TRACKED: dict[type, str] = {
    Customer: "customer",
    Contact: "contact",
    Product: "product",
    Activity: "activity",
    Quote: "quote",
    Order: "order",
    Opportunity: "opportunity",
    Ticket: "ticket",
    Document: "document",
}
MODELS: dict[str, type] = {name: model for model, name in TRACKED.items()}

# Derived columns a receiver has no use for; the stamps are in the snapshot but
# not in ``changes`` (they change on every write).
HIDDEN_FIELDS = frozenset({"search_text", "name_folded", "tenant_id"})
UNTRACKED_FIELDS = HIDDEN_FIELDS | {"changed_at", "created_at"}

# session.info keys
_PENDING = "outbox_pending"      # (entity, id) -> (event id, op, changes)
_HOOKED = "outbox_hooked"        # whether the tenant has an active hook (per transaction)
QUIET_CREDENTIAL = "outbox_quiet_credential"  # set by a face for disable_callbacks
_WROTE = "outbox_wrote"

# Set when a transaction that recorded events commits: the delivery thread of
# this process then runs a pass at once instead of at its next poll.
WAKE = threading.Event()


def plain(value: Any) -> Any:
    """A column value as JSON can carry it (dates ISO-8601, money as decimal text)."""
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, bytes):
        return None
    return value


def snapshot(obj: Any) -> dict[str, Any]:
    state = inspect(obj)
    out = {}
    for attr in state.mapper.column_attrs:
        if attr.key in HIDDEN_FIELDS or attr.key in state.unloaded:
            continue
        out[attr.key] = plain(getattr(obj, attr.key))
    return out


def _history_changes(obj: Any) -> dict[str, list[Any]]:
    state = inspect(obj)
    changes: dict[str, list[Any]] = {}
    for attr in state.mapper.column_attrs:
        if attr.key in UNTRACKED_FIELDS:
            continue
        hist = state.attrs[attr.key].history
        if not hist.added and not hist.deleted:
            continue
        old = hist.deleted[0] if hist.deleted else None
        new = hist.added[0] if hist.added else getattr(obj, attr.key)
        if old != new:
            changes[attr.key] = [plain(old), plain(new)]
    return changes


_HAS_TABLES: "weakref.WeakSet[Any]" = weakref.WeakSet()


def _tenant_hooked(session: Session, tenant_id: int) -> bool:
    hooked = session.info.setdefault(_HOOKED, {})
    if tenant_id not in hooked:
        # A database still below the platform's migration (a migration's own
        # test writing rows at an older revision) has no hooks to record for.
        # Once an engine's database has the table it keeps it (asking costs
        # more than the write it guards), so only the answer "yes" is kept.
        engine = session.get_bind()
        if engine not in _HAS_TABLES:
            if not inspect(session.connection()).has_table(Webhook.__tablename__):
                hooked[tenant_id] = False
                return False
            _HAS_TABLES.add(engine)
        from polycrm.core.query import rows  # here: rows imports the workspace, which imports this module

        hooked[tenant_id] = rows.any_row(session, tenant_id, Webhook, ("active",),
                                         lambda: [Webhook.__table__.c.active == bindparam("active")], active=True)
    return hooked[tenant_id]


@event.listens_for(Session, "after_flush")
def _record_changes(session: Session, _ctx) -> None:
    # Only the rows of a tenant with a webhook are looked at (most writes: none, and
    # a created row's snapshot was the costliest part of this listener).
    def hooked(obj: Any) -> bool:
        return type(obj) in TRACKED and _tenant_hooked(session, obj.tenant_id)

    found: list[tuple[Any, str, dict[str, list[Any]]]] = []
    for obj in session.new:
        if hooked(obj):
            found.append((obj, "created", {
                k: [None, v] for k, v in snapshot(obj).items() if v not in (None, {}, []) and k not in UNTRACKED_FIELDS
            }))
    for obj in session.dirty:
        if hooked(obj) and session.is_modified(obj, include_collections=False):
            changes = _history_changes(obj)
            if not changes:
                continue
            op = "deleted" if changes.get("deleted") == [False, True] else "updated"
            found.append((obj, op, changes))
    for obj in session.deleted:
        if hooked(obj):
            found.append((obj, "deleted", {}))
    if not found:
        return
    pending: dict[tuple[str, int], tuple[int, str, dict]] = session.info.setdefault(_PENDING, {})
    quiet = session.info.get(QUIET_CREDENTIAL)
    conn = session.connection()
    for obj, op, changes in found:
        key = (TRACKED[type(obj)], obj.id)
        earlier = pending.get(key)
        if earlier is not None:
            event_id, first_op, first_changes = earlier
            merged = dict(first_changes)
            for field, (old, new) in changes.items():
                merged[field] = [first_changes[field][0] if field in first_changes else old, new]
            merged_op = op if op == "deleted" else first_op
            done = conn.execute(
                update(OutboxEvent)
                .where(OutboxEvent.id == event_id)
                .values(op=merged_op, changes=merged, snapshot=snapshot(obj), quiet_credential_id=quiet)
            )
            if done.rowcount:
                pending[key] = (event_id, merged_op, merged)
                continue
        event_id = conn.execute(
            insert(OutboxEvent)
            .values(
                tenant_id=obj.tenant_id, entity=key[0], record_id=obj.id, op=op, changes=changes,
                snapshot=snapshot(obj), quiet_credential_id=quiet, dispatched=False,
            )
            .returning(OutboxEvent.id)
        ).scalar_one()
        pending[key] = (event_id, op, changes)
        session.info[_WROTE] = True


def wake_after_commit(session: Session) -> None:
    """Have the delivery thread run a pass as soon as this transaction commits."""
    session.info[_WROTE] = True


@event.listens_for(Session, "after_commit")
def _wake_delivery(session: Session) -> None:
    if session.info.pop(_WROTE, False):
        WAKE.set()


@event.listens_for(Session, "after_soft_rollback")
def _forget_on_rollback(session: Session, _previous) -> None:
    # A rolled-back savepoint may have taken a merged event with it: record afresh.
    session.info.pop(_PENDING, None)


@event.listens_for(Session, "after_transaction_end")
def _forget_on_end(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_PENDING, None)
        session.info.pop(_HOOKED, None)
        session.info.pop(_WROTE, None)
