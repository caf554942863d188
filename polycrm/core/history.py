"""Field-level history: who changed which field of a record, when, old -> new, through what.

Every flush of a unit of work records, for each changed main record
(:data:`TRACKED`), one :class:`FieldChange` row per field whose value really
changed: the column (a JSON column part by part, ``addresses.visiting.city``),
the old and new value as text, the acting user, the moment (one per
transaction, so one save is one entry however many flushes it takes) and the source: ``web`` for the web pages, else the API the
request's credential belongs to (``microbizz``, ``cirrus``, ``centia``), else
``core`` (the command line, fixtures). It is a session event, so every service
and every API records the same way without doing anything.

Creating a record writes no rows, nor does filling it in within the
transaction that created it (the record's own ``created_at`` says when; a bulk
load stays one insert per record); a soft delete is the change of ``deleted``
to true. The lines of a quote or an order (:data:`LINES`) are recorded for
their document's timeline: their changed fields, and one ``added`` row for a
line added later. Derived fields (folded names, search text) and the
timestamps are not recorded.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import Index, Integer, String, Text, event, inspect, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from polycrm.core.models import (
    Activity, Contact, Credential, Customer, Opportunity, Order, OrderLine, Product, Quote, QuoteLine, TenantScoped,
    Ticket, utcnow,
)

# Values longer than this are cut (with an ellipsis) in the history.
VALUE_MAX = 1000
TRACKED: tuple[type[TenantScoped], ...] = (Customer, Contact, Product, Activity, Opportunity, Quote, Order, Ticket)
# Lines recorded for their document's timeline: the line model -> (its document, the key to it).
# A changed line records its fields like a main record; a line added to a document
# that existed before the transaction records one row, field ``added``, whose new
# value sums the line up (:func:`line_summary`); a removed line is ``deleted`` -> yes.
LINES: dict[type[TenantScoped], tuple[type[TenantScoped], str]] = {
    QuoteLine: (Quote, "quote_id"), OrderLine: (Order, "order_id"),
}
_TRACKED_NAMES = {m.__tablename__ for m in (*TRACKED, *LINES)}
ADDED = "added"
# Session info keys: lines added in this flush (recorded once they have ids), and
# the one moment of the transaction's history rows (so that one save, flushed in
# several steps, is one timeline entry).
_ADDED_LINES = "polycrm_history_added_lines"
_MOMENT = "polycrm_history_moment"
NOT_RECORDED = {"id", "tenant_id", "created_at", "changed_at", "search_text", "name_folded"}
# credential kind prefix -> source
SOURCES = {"microbizz": "microbizz", "cirrus": "cirrus", "centia": "centia"}
SOURCE_LABELS = {"web": "web page", "microbizz": "Microbizz API", "cirrus": "Cirrus API", "centia": "centiaCRM API",
                 "core": "command line or import"}


class FieldChange(TenantScoped):
    """One changed field of one record (see the module docstring)."""

    __tablename__ = "field_change"
    __table_args__ = (Index("ix_field_change_record", "tenant_id", "entity", "record_id", "id"),)
    entity: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(40))
    field: Mapped[str] = mapped_column(String(255))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)


# The few deleted rows of each listed kind, so that a list's live rows count
# without reading every row (core.query.listing.live_count). Partial on
# "deleted IS true": no query for live rows can pick them by mistake.
DELETED_INDEXES = [
    Index(f"ix_{m.__tablename__}_deleted", m.tenant_id,
          sqlite_where=text("deleted IS 1"), postgresql_where=text("deleted IS true"))
    for m in (Customer, Contact, Product, Activity, Opportunity, Quote, Ticket)
]


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        text = f"{value.normalize():f}" if value == value.to_integral() else f"{value:f}".rstrip("0")
    elif isinstance(value, (dt.date, dt.datetime)):
        text = value.isoformat()
    elif isinstance(value, (list, tuple)):
        text = json.dumps(value, ensure_ascii=False, default=str)
    else:
        text = str(value)
    return text if len(text) <= VALUE_MAX else text[:VALUE_MAX - 1] + "…"


def _flat(value: Any, prefix: str) -> dict[str, Any]:
    """A JSON value as dotted paths to its leaves (``{"a": {"b": 1}}`` -> ``{"x.a.b": 1}``)."""
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, inner in value.items():
            out.update(_flat(inner, f"{prefix}.{key}"))
        return out
    return {prefix: value}


def changed_fields(obj: TenantScoped) -> list[tuple[str, Any, Any]]:
    """(field, old, new) of each really changed field of a dirty row."""
    state = inspect(obj)
    found: list[tuple[str, Any, Any]] = []
    for attr in state.mapper.column_attrs:
        key = attr.key
        if key in NOT_RECORDED:
            continue
        history = state.attrs[key].history
        if not history.has_changes():
            continue
        old = history.deleted[0] if history.deleted else None
        new = history.added[0] if history.added else None
        if isinstance(old, Mapping) or isinstance(new, Mapping):
            before, after = _flat(old or {}, key), _flat(new or {}, key)
            for path in sorted(set(before) | set(after)):
                if before.get(path) != after.get(path):
                    found.append((path, before.get(path), after.get(path)))
        elif old != new:
            found.append((key, old, new))
    return found


def _source(session: Session) -> str:
    info = session.info
    if "source" not in info:
        source = "core"
        credential_id = info.get("credential_id")
        if credential_id:
            kind = session.execute(select(Credential.kind).where(Credential.id == credential_id)).scalar()
            source = SOURCES.get(str(kind or "").partition(".")[0], str(kind or "core"))
        info["source"] = source
    return info["source"]


def line_summary(line: Any) -> str:
    """A line in a few words: its text (or product number), quantity and unit price."""
    what = line.text or line.product_number or "(no text)"
    quantity = _text(line.quantity) if line.quantity is not None else "1"
    price = f" × {_text(line.price)}" if line.price is not None else ""
    return f"{what} · {quantity}{price}"


def _moment(session: Session) -> dt.datetime:
    if _MOMENT not in session.info:
        session.info[_MOMENT] = utcnow()
    return session.info[_MOMENT]


def _change(session: Session, obj: TenantScoped, name: str, old: Any, new: Any) -> FieldChange:
    now = _moment(session)
    return FieldChange(
        tenant_id=obj.tenant_id, entity=type(obj).__tablename__, record_id=obj.id, user_id=session.info.get("user_id"),
        source=_source(session), field=name[:255], old_value=_text(old), new_value=_text(new),
        created_at=now, changed_at=now, deleted=False, extra={},
    )


def _added_to_older_documents(session: Session) -> list[Any]:
    """The new lines of documents this transaction did not create (nor is creating now)."""
    from polycrm.core.workspace import created_in_session

    lines = [o for o in session.new if type(o) in LINES]
    if not lines:
        return []
    # A line of a document in this flush has no parent id yet, or one of these.
    new_documents = {(type(o), o.id) for o in session.new if o.id is not None}
    found = []
    for line in lines:
        document, fk = LINES[type(line)]
        parent_id = getattr(line, fk)
        if parent_id is not None and (document, parent_id) not in new_documents \
                and not created_in_session(session, document.__tablename__, parent_id):
            found.append(line)
    return found


@event.listens_for(Session, "before_flush")
def _record_changes(session: Session, _ctx, _instances) -> None:
    added = _added_to_older_documents(session)
    if added:
        session.info.setdefault(_ADDED_LINES, []).extend(added)
    from polycrm.core.workspace import created_in_session

    # A row this transaction created is "Created", however it was filled in (a
    # quote's price follows the lines added after it).
    dirty = [o for o in session.dirty if type(o).__tablename__ in _TRACKED_NAMES and o.id is not None
             and not created_in_session(session, type(o).__tablename__, o.id)]
    for obj in dirty:
        for name, old, new in changed_fields(obj):
            session.add(_change(session, obj, name, old, new))


@event.listens_for(Session, "after_flush_postexec")
def _record_added_lines(session: Session, _ctx) -> None:
    # The new lines have their ids now; the rows go into the next flush (a commit
    # flushes until nothing is left).
    added = session.info.pop(_ADDED_LINES, None)
    for obj in added or ():
        if obj.id is not None:
            session.add(_change(session, obj, ADDED, None, line_summary(obj)))


@event.listens_for(Session, "after_transaction_end")
def _forget_moment(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_MOMENT, None)
        session.info.pop(_ADDED_LINES, None)


def of_record(ws: Any, model: type[TenantScoped], record_id: int, limit: int = 200,
              before_id: int | None = None, lines: Sequence[int] = ()) -> list[FieldChange]:
    """A record's field changes, newest first (tenant-scoped like every query);
    ``before_id``: only those older than that change (the next batch); ``lines``:
    the ids of the record's lines (of :data:`LINES`), whose changes come along."""
    mine = (FieldChange.entity == model.__tablename__) & (FieldChange.record_id == record_id)
    line_model = next((line for line, (document, _) in LINES.items() if document is model), None)
    if lines and line_model is not None:
        mine = mine | ((FieldChange.entity == line_model.__tablename__) & FieldChange.record_id.in_(list(lines)))
    stmt = select(FieldChange).where(mine).order_by(FieldChange.id.desc()).limit(limit)
    if before_id is not None:
        stmt = stmt.where(FieldChange.id < before_id)
    return ws.scalars(stmt)
