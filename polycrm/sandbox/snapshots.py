"""Snapshots of a tenant's whole state, restored exactly; resets.

A snapshot is generic over the schema: every table of the metadata with a
``tenant_id`` column (CRM records, credentials, custom fields, documents, ...)
except the sandbox's own bookkeeping (``info["sandbox"]``) contributes the rows
of that tenant, plus the tenant's settings. Files are content-addressed blobs
that are never removed, so a document row brought back finds its bytes.

A restore runs in one transaction and writes only what differs from the
snapshot, found by comparing row digests (below): rows the snapshot
lacks are deleted (children first), rows it has that are gone are inserted
with their own ids (parents first), rows that differ get its values; so ids,
numbers and ``changed_at`` (the change feed) are as they were. The tenant's
admin key is neither saved nor deleted, so it keeps working whatever is
restored. Other tenants' rows are never touched (every statement names the
tenant).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
import zlib
from decimal import Decimal
from typing import Any, Callable

import orjson
from sqlalchemy import (
    Date, DateTime, LargeBinary, Numeric, Table, bindparam, delete, func, insert, literal_column, select, text,
    union_all, update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from polycrm.core import auth, revision
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


# -- row digests ----------------------------------------------------------------
# Each row of a snapshot carries a digest of the row as the database stores it
# (PostgreSQL: md5 of the row's text form; SQLite: a hash of the stored values,
# by a function registered on the connection). A restore asks the database
# for the digests of the tenant's current rows, in one statement, instead of
# reading every row into Python: equal digests mean an untouched row. A digest
# only stands for the row under the same columns; a table whose columns changed
# since the snapshot is compared row by row.
DIGEST_FUNCTION = "polycrm_row_digest"


def _row_digest(*values: Any) -> str:
    # repr tells 1, 1.0 and '1' apart, and floats round-trip through it.
    return hashlib.md5(repr(values).encode(), usedforsecurity=False).hexdigest()


def _digest_kind(conn: Connection) -> str | None:
    """Which digest this database computes (None: the dialect has none)."""
    name = conn.dialect.name
    if name == "sqlite":
        conn.connection.dbapi_connection.create_function(DIGEST_FUNCTION, -1, _row_digest, deterministic=True)
        return "sqlite-md5"
    if name == "postgresql":
        return "postgresql-md5"
    return None


def _digest_sql(dialect, table: Table) -> str:
    quote = dialect.identifier_preparer
    if dialect.name == "postgresql":
        # The table's name as an expression is the whole row (a composite value).
        return f"md5(CAST({quote.format_table(table)} AS text))"
    return f"{DIGEST_FUNCTION}({', '.join(quote.format_column(c) for c in table.c)})"


_digest_queries: dict[tuple, Any] = {}


def _digest_query(dialect, tables: list[Table]):
    """SELECT table number, id, digest of the tenant's rows of these tables: one
    statement, built once (as text: compiling a 30-part UNION costs more than running it)."""
    key = (dialect.name, tuple(t.name for t in tables))
    found = _digest_queries.get(key)
    if found is None:
        quote = dialect.identifier_preparer
        parts = []
        for i, table in enumerate(tables):
            where = "tenant_id = :tenant_id"
            if table.name == "credential":
                where += " AND kind NOT IN (" + ", ".join(f":kept_{k}" for k in range(len(KEPT_CREDENTIALS))) + ")"
            parts.append(f"SELECT {i}, id, {_digest_sql(dialect, table)} FROM {quote.format_table(table)} WHERE {where}")
        found = _digest_queries[key] = text(" UNION ALL ".join(parts))
    return found


def capture(conn: Connection, tenant_id: int) -> tuple[bytes, int]:
    """The tenant's state as a compressed document, and how many rows it holds."""
    tables: dict[str, Any] = {}
    count = 0
    kind = _digest_kind(conn)
    for table in tenant_tables():
        query = select(table, literal_column(_digest_sql(conn.dialect, table))) if kind else select(table)
        rows = conn.execute(query.where(_scope(table, tenant_id)).order_by(table.c.id)).all()
        if rows:
            entry: dict[str, Any] = {"columns": [c.name for c in table.c]}
            if kind:
                entry["rows"] = [list(r[:-1]) for r in rows]
                entry["digests"] = [r[-1] for r in rows]
            else:
                entry["rows"] = [list(r) for r in rows]
            tables[str(table.name)] = entry
            count += len(rows)
    settings = conn.scalar(select(Tenant.settings).where(Tenant.id == tenant_id))
    doc = {"version": 2, "digest": kind, "settings": settings or {}, "tables": tables}
    return zlib.compress(orjson.dumps(doc, default=_encode), 1), count


def _current(conn: Connection, table: Table, tenant_id: int, names: list[str]) -> dict[int, list]:
    """The tenant's rows of a table as JSON values (as a snapshot holds them), by id."""
    rows = conn.execute(select(*(table.c[n] for n in names)).where(_scope(table, tenant_id))).all()
    plain = orjson.loads(orjson.dumps([list(r) for r in rows], default=_encode))
    return {row[0]: row for row in plain}


def _current_digests(conn: Connection, tables: list[Table], tenant_id: int) -> dict[str, dict[int, str]]:
    """The digests of the tenant's rows of these tables, by table and id."""
    found: dict[str, dict[int, str]] = {t.name: {} for t in tables}
    if tables:
        params = {"tenant_id": tenant_id, **{f"kept_{k}": kind for k, kind in enumerate(KEPT_CREDENTIALS)}}
        for which, row_id, digest in conn.execute(_digest_query(conn.dialect, tables), params).all():
            found[tables[which].name][row_id] = digest
    return found


class _Saved:
    """One table of a snapshot: its rows by id, and how the table is compared now."""

    def __init__(self, table: Table, entry: dict | None, digest_kind: str | None):
        columns = entry["columns"] if entry else [c.name for c in table.c]
        # Columns the snapshot has and the table still has, id first (a newer
        # schema's added columns take their defaults, dropped ones are left out).
        self.names = ["id"] + [n for n in columns if n in table.c and n != "id"]
        where = [columns.index(n) for n in self.names]
        raw_rows = entry["rows"] if entry else []
        self.rows = {raw[where[0]]: raw for raw in raw_rows}
        self._where = where
        # Digests count only when made by this database over the same columns.
        # An empty table needs none: every row the tenant has there now goes.
        self.digests: dict[int, str] | None = None
        if digest_kind is not None and (entry is None or (
                entry.get("digests") is not None and columns == [c.name for c in table.c])):
            self.digests = dict(zip(self.rows, entry["digests"])) if entry else {}

    def values(self, row_id: int) -> list:
        raw = self.rows[row_id]
        return [raw[i] for i in self._where]


def apply(conn: Connection, tenant_id: int, data: bytes) -> None:
    """Make the tenant's state equal to a captured one, inside the caller's transaction.

    Only what differs is written: rows the snapshot lacks are deleted
    (children first), rows it has that are gone are inserted (parents first),
    rows that differ get the snapshot's values. A test that changed ten rows
    costs ten writes, not a rewrite of the tenant (every customer or contact
    write also updates its search index). What differs is found by comparing
    row digests where the snapshot has them, without reading the rows.
    """
    doc = orjson.loads(zlib.decompress(data))
    saved_tables = doc["tables"]
    tables = tenant_tables()
    kind = _digest_kind(conn)
    usable = kind if doc.get("version", 1) >= 2 and doc.get("digest") == kind else None
    saved = {t.name: _Saved(t, saved_tables.get(t.name), usable) for t in tables}

    def read(which: list[Table]) -> dict[str, dict[int, Any]]:
        """The tenant's current rows: digests where they count, else the rows."""
        by_digest = [t for t in which if saved[t.name].digests is not None]
        found: dict[str, dict[int, Any]] = dict(_current_digests(conn, by_digest, tenant_id))
        for t in which:
            if t.name not in found:
                found[t.name] = _current(conn, t, tenant_id, saved[t.name].names)
        return found

    def same(table: Table, row_id: int, now: Any) -> bool:
        kept = saved[table.name]
        if kept.digests is not None:
            return kept.digests[row_id] == now
        return kept.values(row_id) == now

    current = read(tables)
    emptied: set[str] = set()
    for table in reversed(tables):
        extra = [i for i in current[table.name] if i not in saved[table.name].rows]
        if extra:
            for chunk in range(0, len(extra), 500):
                conn.execute(delete(table).where(_scope(table, tenant_id), table.c.id.in_(extra[chunk:chunk + 500])))
            emptied.add(table.name)
    if emptied:
        # ON DELETE CASCADE / SET NULL may have changed rows of the tables
        # pointing at the deleted ones: read those again.
        again = [t for t in tables if any(fk.column.table.name in emptied for fk in t.foreign_keys)]
        current.update(read(again))

    fixups: list[tuple[Table, list[dict]]] = []
    changed: list[tuple[Table, list[dict]]] = []
    inserted: list[Table] = []
    for table in tables:
        kept = saved[table.name]
        names = kept.names
        decoders = [_decoder(table.c[n]) for n in names]
        have = current[table.name]
        missing, differ = [], []
        for row_id in kept.rows:
            now = have.get(row_id)
            if now is not None and same(table, row_id, now):
                continue
            row = {n: (d(v) if d is not None and v is not None else v)
                   for n, v, d in zip(names, kept.values(row_id), decoders)}
            (missing if now is None else differ).append(row)
        if missing:
            later = _self_references(table)
            if later:
                fixups.append((table, [{"_id": r["id"], **{c: r[c] for c in later}} for r in missing
                                       if any(r[c] is not None for c in later)]))
                missing = [{**r, **{c: None for c in later}} for r in missing]
            _insert_rows(conn, table, missing)
            inserted.append(table)
        if differ:
            changed.append((table, differ))
    for table, rows in changed:
        _update_by_id(conn, table, rows)
    for table, rows in fixups:
        if rows:
            _update_by_id(conn, table, rows, key="_id")
    conn.execute(update(Tenant.__table__).where(Tenant.id == tenant_id).values(settings=doc.get("settings") or {}))
    if conn.dialect.name == "postgresql":
        _advance_sequences(conn, inserted)


# From how many rows a SQLite table's FTS index is filled in one statement
# rather than by its per-row insert trigger (about 4x less work for 500 rows).
SET_WISE_FTS_FROM = 50


def _insert_rows(conn: Connection, table: Table, rows: list[dict]) -> None:
    """Insert rows with their own ids. On PostgreSQL as one statement that reads
    them from one JSON parameter (an executemany sends a statement per row)."""
    if conn.dialect.name == "sqlite" and len(rows) >= SET_WISE_FTS_FROM:
        _insert_rows_set_wise_fts(conn, table, rows)
        return
    if conn.dialect.name != "postgresql" or len(rows) < 2:
        conn.execute(insert(table), rows)
        return
    quote = conn.dialect.identifier_preparer
    name = quote.format_table(table)
    columns = ", ".join(quote.quote(c) for c in rows[0])
    conn.execute(text(f"INSERT INTO {name} ({columns}) SELECT {columns} "
                      f"FROM json_populate_recordset(NULL::{name}, CAST(:rows AS json))"),
                 {"rows": orjson.dumps(rows, default=_encode).decode()})


def _insert_rows_set_wise_fts(conn: Connection, table: Table, rows: list[dict]) -> None:
    """SQLite: insert with the table's FTS insert trigger (migrations 0002/0008)
    set aside, then index the new rows in one statement, and put the trigger back
    as it was (its own SQL). DDL is transactional in SQLite: a failed restore
    rolls the trigger back too, and the restore holds the write lock throughout."""
    trigger = conn.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name = ?", (f"{table.name}_fts_insert",)
    ).first()
    if trigger is None:  # no FTS index on this table or this database
        conn.execute(insert(table), rows)
        return
    fts = f"{table.name}_fts"
    # An external-content FTS5 table's columns are the content table's, by name.
    columns = ", ".join(f'"{r[1]}"' for r in conn.exec_driver_sql(f'PRAGMA table_info("{fts}")'))
    conn.exec_driver_sql(f'DROP TRIGGER "{trigger.name}"')
    conn.execute(insert(table), rows)
    conn.exec_driver_sql(
        f'INSERT INTO "{fts}"(rowid, {columns}) SELECT id, {columns} FROM "{table.name}" '
        f"WHERE id IN (SELECT value FROM json_each(?))",
        (orjson.dumps([r["id"] for r in rows]).decode(),),
    )
    conn.exec_driver_sql(trigger.sql)


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
            # Written past any workspace: the tenant's data changed (core/revision.py).
            revision.bump(conn, tenant_id)
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
