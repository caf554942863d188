"""Snapshots of a tenant's whole state, restored exactly; resets.

A snapshot is generic over the schema: every table of the metadata with a
``tenant_id`` column (CRM records, credentials, custom fields, documents, ...)
except the sandbox's own bookkeeping (``info["sandbox"]``) contributes the rows
of that tenant, plus the tenant's settings. Files are content-addressed blobs
that are never removed, so a document row brought back finds its bytes.

A restore runs in one transaction: delete the tenant's rows (children first),
insert the snapshot's rows with their own ids (parents first), so ids,
numbers and ``changed_at`` (the change feed) are as they were. The tenant's
admin key is neither saved nor deleted, so it keeps working whatever is
restored. Other tenants' rows are never touched (every statement names the
tenant).
"""

from __future__ import annotations

import base64
import datetime as dt
import re
import zlib
from decimal import Decimal
from typing import Any, Callable

import orjson
from sqlalchemy import bindparam, Date, DateTime, LargeBinary, Numeric, Table, delete, func, insert, select, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from polycrm.core import auth
from polycrm.core.errors import Conflict, Invalid, NotFound
from polycrm.core.models import Base, Tenant, utcnow
from polycrm.core.signin import WEB_SESSION
from polycrm.sandbox.admin import ADMIN_KEY
from polycrm.sandbox.models import Snapshot
from polycrm.store.engine import Database

KEPT_CREDENTIALS = (ADMIN_KEY, WEB_SESSION)
INITIAL = "initial"
USER = "user"
# Reset targets that are not snapshot names.
RESERVED = ("empty", "demo")
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


# Tables with a tenant_id that are not the tenant's CRM state: the integration
# platform's hooks (the developer's wiring, kept like the admin key), its
# outbox and delivery log (restoring them would send old events again).
NOT_STATE = frozenset({"webhook", "outbox_event", "webhook_delivery"})


def tenant_tables() -> list[Table]:
    """The tables a snapshot covers, parents before children."""
    return [
        t for t in Base.metadata.sorted_tables
        if "tenant_id" in t.c and not t.info.get("sandbox") and t.name not in NOT_STATE
    ]


def _scope(table: Table, tenant_id: int):
    where = table.c.tenant_id == tenant_id
    if table.name == "credential":
        # The admin key and web sign-ins stay as they are through every restore
        # and reset: the developer is not locked out of the admin API or signed
        # out of the pages that restored.
        where = where & table.c.kind.not_in(KEPT_CREDENTIALS)
    return where


def _self_references(table: Table) -> list[str]:
    """Columns pointing at the same table: inserted empty, then set, so the
    order of the rows does not matter (PostgreSQL checks each row at once)."""
    return [fk.parent.name for fk in table.foreign_keys if fk.column.table is table]


# -- encoding ------------------------------------------------------------------
def _encode(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    raise TypeError(f"cannot snapshot a {type(value).__name__}")


def _decoder(column) -> Callable[[Any], Any] | None:
    """How a column's JSON value becomes its Python value again (None: as is)."""
    kind = column.type
    if isinstance(kind, DateTime):
        return dt.datetime.fromisoformat
    if isinstance(kind, Date):
        return dt.date.fromisoformat
    if isinstance(kind, Numeric) and kind.asdecimal:
        return Decimal
    if isinstance(kind, LargeBinary):
        return base64.b64decode
    return None


def capture(conn: Connection, tenant_id: int) -> tuple[bytes, int]:
    """The tenant's state as a compressed document, and how many rows it holds."""
    tables: dict[str, Any] = {}
    count = 0
    for table in tenant_tables():
        rows = conn.execute(select(table).where(_scope(table, tenant_id)).order_by(table.c.id)).all()
        if rows:
            tables[str(table.name)] = {"columns": [str(f) for f in rows[0]._fields], "rows": [list(r) for r in rows]}
            count += len(rows)
    settings = conn.scalar(select(Tenant.settings).where(Tenant.id == tenant_id))
    doc = {"version": 1, "settings": settings or {}, "tables": tables}
    return zlib.compress(orjson.dumps(doc, default=_encode), 1), count


def _current(conn: Connection, table: Table, tenant_id: int, names: list[str]) -> dict[int, list]:
    """The tenant's rows of a table as JSON values (as a snapshot holds them), by id."""
    rows = conn.execute(select(*(table.c[n] for n in names)).where(_scope(table, tenant_id))).all()
    plain = orjson.loads(orjson.dumps([list(r) for r in rows], default=_encode))
    return {row[0]: row for row in plain}


def apply(conn: Connection, tenant_id: int, data: bytes) -> None:
    """Make the tenant's state equal to a captured one, inside the caller's transaction.

    Only what differs is written: rows the snapshot lacks are deleted
    (children first), rows it has that are gone are inserted (parents first),
    rows that differ get the snapshot's values. A test that changed ten rows
    costs ten writes, not a rewrite of the tenant (every customer or contact
    write also updates its search index).
    """
    doc = orjson.loads(zlib.decompress(data))
    saved_tables = doc["tables"]
    tables = tenant_tables()
    layout: dict[str, list[str]] = {}
    saved: dict[str, dict[int, list]] = {}
    for table in tables:
        entry = saved_tables.get(table.name)
        # Columns the snapshot has and the table still has, id first (a newer
        # schema's added columns take their defaults, dropped ones are left out).
        columns = entry["columns"] if entry else [c.name for c in table.c]
        names = ["id"] + [n for n in columns if n in table.c and n != "id"]
        layout[table.name] = names
        if entry:
            where = [columns.index(n) for n in names]
            saved[table.name] = {raw[where[0]]: [raw[i] for i in where] for raw in entry["rows"]}
        else:
            saved[table.name] = {}

    current = {t.name: _current(conn, t, tenant_id, layout[t.name]) for t in tables}
    emptied: set[str] = set()
    for table in reversed(tables):
        extra = [i for i in current[table.name] if i not in saved[table.name]]
        if extra:
            for chunk in range(0, len(extra), 500):
                conn.execute(delete(table).where(_scope(table, tenant_id), table.c.id.in_(extra[chunk:chunk + 500])))
            emptied.add(table.name)
    if emptied:
        # ON DELETE CASCADE / SET NULL may have changed rows of the tables
        # pointing at the deleted ones: read those again.
        for table in tables:
            if any(fk.column.table.name in emptied for fk in table.foreign_keys):
                current[table.name] = _current(conn, table, tenant_id, layout[table.name])

    fixups: list[tuple[Table, list[dict]]] = []
    changed: list[tuple[Table, list[dict]]] = []
    for table in tables:
        names = layout[table.name]
        decoders = [_decoder(table.c[n]) for n in names]
        have = current[table.name]
        missing, differ = [], []
        for row_id, raw in saved[table.name].items():
            now = have.get(row_id)
            if now == raw:
                continue
            row = {n: (d(v) if d is not None and v is not None else v) for n, v, d in zip(names, raw, decoders)}
            (missing if now is None else differ).append(row)
        if missing:
            later = _self_references(table)
            if later:
                fixups.append((table, [{"_id": r["id"], **{c: r[c] for c in later}} for r in missing
                                       if any(r[c] is not None for c in later)]))
                missing = [{**r, **{c: None for c in later}} for r in missing]
            conn.execute(insert(table), missing)
        if differ:
            changed.append((table, differ))
    for table, rows in changed:
        _update_by_id(conn, table, rows)
    for table, rows in fixups:
        if rows:
            _update_by_id(conn, table, rows, key="_id")
    conn.execute(update(Tenant.__table__).where(Tenant.id == tenant_id).values(settings=doc.get("settings") or {}))
    if conn.dialect.name == "postgresql":
        _advance_sequences(conn, [t for t in tables if t.name in saved_tables])


def _update_by_id(conn: Connection, table: Table, rows: list[dict], key: str = "id") -> None:
    """Set each row's values by its id (one executemany per set of columns)."""
    columns = [c for c in rows[0] if c not in ("id", "_id")]
    stmt = update(table).where(table.c.id == bindparam("_row_id")).values({c: bindparam(c) for c in columns})
    conn.execute(stmt, [{"_row_id": r[key], **{c: r[c] for c in columns}} for r in rows])


def _advance_sequences(conn: Connection, tables: list[Table]) -> None:
    """Rows came back with explicit ids: no sequence may hand those out again.

    Sequences never go back, so this only matters for a snapshot restored into
    a database whose sequences are behind it; one statement for all tables
    (``nextval`` spends one id per table, gaps are harmless)."""
    if not tables:
        return
    parts = [
        f"setval(pg_get_serial_sequence('{t.name}', 'id'), GREATEST("
        f"(SELECT coalesce(max(id), 0) FROM {t.name}), nextval(pg_get_serial_sequence('{t.name}', 'id'))))"
        for t in tables
    ]
    conn.execute(text("SELECT " + ", ".join(parts)))


# -- the services ----------------------------------------------------------------
def _begin(db: Database) -> Connection:
    """A connection whose transactions write (BEGIN IMMEDIATE on SQLite)."""
    return db.engine.connect().execution_options(polycrm_write=True)


def check_name(name: Any) -> str:
    if not isinstance(name, str) or not NAME.match(name):
        raise Invalid("name must be 1-100 letters, digits, '.', '_' or '-', starting with a letter or digit", "name")
    if name in RESERVED:
        raise Invalid(f"name {name!r} is reserved (a reset target)", "name")
    return name


def save(db: Database, tenant_id: int, name: str, *, kind: str = USER) -> dict[str, Any]:
    """Save the tenant's state under ``name`` (replacing a snapshot of that name)."""
    if kind == USER:
        check_name(name)
    with _begin(db) as conn, conn.begin():
        data, count = capture(conn, tenant_id)
        conn.execute(delete(Snapshot.__table__).where(Snapshot.tenant_id == tenant_id, Snapshot.name == name))
        now = utcnow()
        conn.execute(insert(Snapshot.__table__).values(
            tenant_id=tenant_id, name=name, kind=kind, created_at=now, rows=count, size=len(data), data=data,
        ))
    return {"name": name, "created_at": now.isoformat(), "rows": count, "size": len(data)}


def save_initial(db: Database, tenant_id: int) -> None:
    """Remember the state a tenant was created in (``reset`` to ``empty``)."""
    save(db, tenant_id, "empty", kind=INITIAL)


def listing(db: Database, tenant_id: int) -> list[dict[str, Any]]:
    t = Snapshot.__table__
    with db.engine.connect() as conn:
        rows = conn.execute(
            select(t.c.name, t.c.created_at, t.c.rows, t.c.size)
            .where(t.c.tenant_id == tenant_id, t.c.kind == USER).order_by(t.c.created_at, t.c.id)
        ).all()
    return [{"name": r.name, "created_at": r.created_at.isoformat(), "rows": r.rows, "size": r.size} for r in rows]


def remove(db: Database, tenant_id: int, name: str) -> None:
    t = Snapshot.__table__
    with _begin(db) as conn, conn.begin():
        gone = conn.execute(delete(t).where(t.c.tenant_id == tenant_id, t.c.name == name, t.c.kind == USER))
        if gone.rowcount == 0:
            raise NotFound(f"no snapshot named {name!r}", "name")


def restore(db: Database, tenant_id: int, name: str, *, kind: str = USER) -> dict[str, Any]:
    """Put the tenant back into the state saved under ``name``, in one transaction."""
    t = Snapshot.__table__
    with _begin(db) as conn, conn.begin():
        found = conn.execute(
            select(t.c.data, t.c.rows).where(t.c.tenant_id == tenant_id, t.c.name == name, t.c.kind == kind)
        ).first()
        if found is None:
            if kind == INITIAL:
                raise Conflict("this tenant was created before snapshots existed: it has no empty state to reset to")
            raise NotFound(f"no snapshot named {name!r}", "name")
        try:
            apply(conn, tenant_id, found.data)
        except IntegrityError:
            # See docs/sandbox.md, "Known limit": an id reused by another tenant (SQLite).
            raise Conflict("a row of the snapshot cannot come back: its id or unique key is taken; "
                           "nothing was restored") from None
    return {"name": name, "rows": found.rows}


def reset(db: Database, tenant_id: int, to: Any, blobs=None) -> dict[str, Any]:
    """``empty``: the state the tenant was created in (its credentials and admin
    key keep working); ``demo``: that plus the demo data; any other name: that
    snapshot."""
    if not isinstance(to, str) or not to:
        raise Invalid("to must be \"empty\", \"demo\" or the name of a snapshot", "to")
    if to not in RESERVED:
        restore(db, tenant_id, to)
        return {"to": to}
    restore(db, tenant_id, "empty", kind=INITIAL)
    if to == "demo":
        from polycrm.core import demo, fixtures
        from polycrm.core.workspace import Workspace

        with auth.system_session(db) as session:
            admin_id = auth.first_admin_id(session, tenant_id)
        with Workspace(db, tenant_id, admin_id, blobs=blobs) as ws:
            fixtures.load(ws, demo.sample_data())
    return {"to": to}
