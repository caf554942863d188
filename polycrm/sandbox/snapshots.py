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
import gc
import hashlib
import re
import zlib
from contextlib import contextmanager
from decimal import Decimal
from typing import Any, Callable, NamedTuple

import orjson
from sqlalchemy import (
    JSON, Boolean, Date, DateTime, Integer, LargeBinary, Numeric, String, Table, Text, delete, insert, select, text,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from polycrm.core import auth, revision
from polycrm.core.errors import Conflict, Invalid, NotFound
from polycrm.core.models import Base, Tenant, utcnow
from polycrm.core.signin import WEB_SESSION
from polycrm.sandbox.admin import ADMIN_KEY
from polycrm.sandbox.models import Snapshot
from polycrm.store import index_fill
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
    return list(_tenant_tables())


_sorted: dict[int, list[Table]] = {}


def _tenant_tables() -> list[Table]:
    # Sorting the metadata's tables costs more than a small restore's statements:
    # once per set of tables.
    key = len(Base.metadata.tables)
    found = _sorted.get(key)
    if found is None:
        found = _sorted[key] = [
            t for t in Base.metadata.sorted_tables
            if "tenant_id" in t.c and not t.info.get("sandbox") and t.name not in NOT_STATE
        ]
    return found


def _self_references(table: Table) -> list[str]:
    """Columns pointing at the same table: inserted empty, then set, so the
    order of the rows does not matter (PostgreSQL checks each row at once)."""
    return [fk.parent.name for fk in table.foreign_keys if fk.column.table is table]


# -- values ----------------------------------------------------------------------
# A version 3 document holds every value in the form the database driver hands
# it over for the capture query and takes it back in the restore's statements,
# so a restore converts nothing (the conversions cost about two thirds of a
# SQLite restore into an empty tenant):
# - SQLite: the stored values as they are (integers, reals, text; a blob as
#   {"$blob": base64}, flagged by the document's "blobs");
# - PostgreSQL: integers and booleans as such, every other value as its text
#   form (exact for numerics, floats, timestamps and JSON text), cast back to
#   the column's type by the restore's statement.
# Version 1 and 2 documents (JSON of the Python values: decimals as strings,
# datetimes as ISO text) are turned into that form when they are restored.
VERSION = 3
BLOB = "$blob"


def _encode(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    raise TypeError(f"cannot snapshot a {type(value).__name__}")


def _decoder(column) -> Callable[[Any], Any] | None:
    """How a version 1/2 JSON value becomes its Python value again (None: as is)."""
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


def _as_text(column) -> bool:
    """PostgreSQL: whether a column travels as its text form."""
    return not isinstance(column.type, (Integer, Boolean))


def _python_to_native(dialect, column) -> Callable[[Any], Any] | None:
    """How a Python value of a column becomes the driver's form (None: as is)."""
    kind = column.type
    if dialect.name == "sqlite":
        return kind.bind_processor(dialect)
    if not _as_text(column):
        return None
    if isinstance(kind, JSON):
        return dialect._json_serializer
    if isinstance(kind, DateTime):
        return lambda v: v.isoformat(sep=" ")
    if isinstance(kind, LargeBinary):
        return lambda v: "\\x" + v.hex()
    return str


def _legacy_converter(dialect, column) -> Callable[[Any], Any] | None:
    """How a version 1/2 value of a column becomes the driver's form (None: as is)."""
    decode, native = _decoder(column), _python_to_native(dialect, column)
    if isinstance(column.type, JSON):
        # As the restore of those versions wrote it: a None went in as JSON null.
        return native
    if decode is None and native is None:
        return None
    if decode is None:
        return lambda v: None if v is None else native(v)
    if native is None:
        return lambda v: None if v is None else decode(v)
    return lambda v: None if v is None else native(decode(v))


def _dump_value(value: Any) -> Any:
    if isinstance(value, bytes):
        return {BLOB: base64.b64encode(value).decode()}
    return _encode(value)


def _load_blobs(rows: list[list]) -> None:
    for row in rows:
        for i, value in enumerate(row):
            if isinstance(value, dict):
                row[i] = base64.b64decode(value[BLOB])


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


def _digest_kind(conn: Connection) -> str:
    """Which digest this database computes (polycrm runs on SQLite and PostgreSQL only)."""
    if conn.dialect.name == "sqlite":
        conn.connection.dbapi_connection.create_function(DIGEST_FUNCTION, -1, _row_digest, deterministic=True)
        return "sqlite-md5"
    return "postgresql-md5"


def _digest_sql(dialect, table: Table) -> str:
    quote = dialect.identifier_preparer
    if dialect.name == "postgresql":
        # The table's name as an expression is the whole row (a composite value).
        return f"md5(CAST({quote.format_table(table)} AS text))"
    return f"{DIGEST_FUNCTION}({', '.join(quote.format_column(c) for c in table.c)})"


def _scope_sql(table: Table) -> str:
    where = "tenant_id = :tenant_id"
    if table.name == "credential":
        # The admin key and web sign-ins stay as they are through every restore
        # and reset: the developer is not locked out of the admin API or signed
        # out of the pages that restored.
        where += " AND kind NOT IN (" + ", ".join(f":kept_{k}" for k in range(len(KEPT_CREDENTIALS))) + ")"
    return where


def _scope_params(tenant_id: int) -> dict[str, Any]:
    return {"tenant_id": tenant_id, **{f"kept_{k}": kind for k, kind in enumerate(KEPT_CREDENTIALS)}}


# Statements built once per dialect and table (as text: compiling them costs
# more than running them).
_statements: dict[tuple, Any] = {}


def _native_columns(dialect, table: Table, names: list[str]) -> list[str]:
    """The select list giving these columns in the driver's form of a version 3 document."""
    quote = dialect.identifier_preparer
    if dialect.name == "sqlite":
        return [quote.quote(n) for n in names]
    return [f"CAST({quote.quote(n)} AS text)" if _as_text(table.c[n]) else quote.quote(n) for n in names]


def _capture_query(dialect, table: Table):
    """The tenant's rows of a table in the driver's form, each with its digest, by id."""
    key = ("capture", dialect.name, table.name)
    found = _statements.get(key)
    if found is None:
        columns = _native_columns(dialect, table, [c.name for c in table.c])
        found = _statements[key] = text(
            f"SELECT {', '.join(columns)}, {_digest_sql(dialect, table)} "
            f"FROM {dialect.identifier_preparer.format_table(table)} WHERE {_scope_sql(table)} ORDER BY id")
    return found


def _digest_query(dialect, tables: list[Table]):
    """SELECT table number, id, digest of the tenant's rows of these tables: one statement.
    A row whose id is outside the snapshot's ids of its table (:lo_N to :hi_N) cannot be in
    it and gets no digest (a restore over other rows deletes them unread)."""
    key = ("digests", dialect.name, tuple(t.name for t in tables))
    found = _statements.get(key)
    if found is None:
        quote = dialect.identifier_preparer
        found = _statements[key] = text(" UNION ALL ".join(
            f"SELECT {i}, id, CASE WHEN id BETWEEN :lo_{i} AND :hi_{i} THEN {_digest_sql(dialect, table)} END "
            f"FROM {quote.format_table(table)} WHERE {_scope_sql(table)}" for i, table in enumerate(tables)))
    return found


def _delete_statement(dialect, table: Table):
    """DELETE of the tenant's rows of a table whose ids are in :ids (one parameter: see _id_list)."""
    key = ("delete", dialect.name, table.name)
    found = _statements.get(key)
    if found is None:
        ids = ("id IN (SELECT value FROM json_each(:ids))" if dialect.name == "sqlite"
               else "id = ANY(CAST(:ids AS bigint[]))")
        found = _statements[key] = text(
            f"DELETE FROM {dialect.identifier_preparer.format_table(table)} WHERE {_scope_sql(table)} AND {ids}")
    return found


def _id_list(dialect, ids: list[int]) -> str:
    """Ids as one parameter (a JSON array for SQLite, an array literal for PostgreSQL): a
    statement with a parameter per id costs more to build than the delete itself."""
    if dialect.name == "sqlite":
        return orjson.dumps(ids).decode()
    return "{" + ",".join(map(str, ids)) + "}"


def capture(conn: Connection, tenant_id: int) -> tuple[bytes, int]:
    """The tenant's state as a compressed document, and how many rows it holds."""
    tables: dict[str, Any] = {}
    count = 0
    kind = _digest_kind(conn)
    params = _scope_params(tenant_id)
    for table in _tenant_tables():
        rows = conn.execute(_capture_query(conn.dialect, table), params).all()
        if rows:
            tables[str(table.name)] = {
                "columns": [c.name for c in table.c],
                "rows": [list(r[:-1]) for r in rows],
                "digests": [r[-1] for r in rows],
            }
            count += len(rows)
    settings = conn.scalar(select(Tenant.settings).where(Tenant.id == tenant_id))
    doc = {"version": VERSION, "values": conn.dialect.name, "digest": kind, "settings": settings or {},
           "tables": tables}
    blobs = []

    def dump_value(value: Any) -> Any:
        blobs.append(isinstance(value, bytes))
        return _dump_value(value)

    body = orjson.dumps(doc, default=dump_value)
    if any(blobs):
        doc["blobs"] = True
        body = orjson.dumps(doc, default=_dump_value)
    return zlib.compress(body, 1), count


def _current_rows(conn: Connection, table: Table, tenant_id: int, names: list[str]) -> dict[int, list]:
    """The tenant's rows of a table in the driver's form (as a version 3 document holds them), by id."""
    at = names.index("id")
    rows = conn.execute(text(
        f"SELECT {', '.join(_native_columns(conn.dialect, table, names))} "
        f"FROM {conn.dialect.identifier_preparer.format_table(table)} WHERE {_scope_sql(table)}"
    ), _scope_params(tenant_id)).all()
    return {row[at]: list(row) for row in rows}


def _current_digests(conn: Connection, tables: list[Table], tenant_id: int,
                     ids: dict[str, Any] | None = None) -> dict[str, dict[int, str | None]]:
    """The digests of the tenant's rows of these tables, by table and id. ``ids``: per table
    the snapshot's ids (a collection); a row outside their range gets None (no digest)."""
    found: dict[str, dict[int, str | None]] = {t.name: {} for t in tables}
    if tables:
        params = _scope_params(tenant_id)
        for i, table in enumerate(tables):
            kept = None if ids is None else ids.get(table.name)
            if kept is None:
                params[f"lo_{i}"], params[f"hi_{i}"] = -(2 ** 63), 2 ** 63 - 1
            elif kept:
                params[f"lo_{i}"], params[f"hi_{i}"] = min(kept), max(kept)
            else:
                params[f"lo_{i}"], params[f"hi_{i}"] = 1, 0
        for which, row_id, digest in conn.execute(_digest_query(conn.dialect, tables), params).all():
            found[tables[which].name][row_id] = digest
    return found


class _Saved:
    """One table of a snapshot: its rows in the driver's form by id, and how the table is compared now."""

    def __init__(self, conn: Connection, table: Table, entry: dict | None, native: bool, digest_kind: str | None):
        columns = entry["columns"] if entry else [c.name for c in table.c]
        # Columns the snapshot has and the table still has (a newer schema's
        # added columns take their defaults, dropped ones are left out).
        self.names = [n for n in columns if n in table.c]
        self.id_at = self.names.index("id")
        rows: list[list] = entry["rows"] if entry else []
        if len(self.names) != len(columns):
            where = [columns.index(n) for n in self.names]
            rows = [[raw[i] for i in where] for raw in rows]
        if not native:
            converters = [(i, c) for i, n in enumerate(self.names)
                          if (c := _legacy_converter(conn.dialect, table.c[n])) is not None]
            for row in rows:
                for i, convert in converters:
                    row[i] = convert(row[i])
        at = self.id_at
        self.rows = {row[at]: row for row in rows}
        # Digests count only when made by this database over the same columns.
        # An empty table needs none: every row the tenant has there now goes.
        self.digests: dict[int, str] | None = None
        if digest_kind is not None and (entry is None or (
                entry.get("digests") is not None and columns == [c.name for c in table.c])):
            self.digests = dict(zip(self.rows, entry["digests"])) if entry else {}


def apply(conn: Connection, tenant_id: int, data: bytes, *, checks_aside: bool = False) -> None:
    """Make the tenant's state equal to a captured one, inside the caller's transaction.

    Only what differs is written: rows the snapshot lacks are deleted
    (children first), rows it has that are gone are inserted (parents first),
    rows that differ get the snapshot's values. A test that changed ten rows
    costs ten writes, not a rewrite of the tenant (every customer or contact
    write also updates its search index). What differs is found by comparing
    row digests where the snapshot has them, without reading the rows. The
    tenant's revision moves with its settings (the data changed, past any
    workspace: core/revision.py).

    ``checks_aside``: the database's per-row foreign-key work is off for these
    writes (SQLite: the connection's ``foreign_keys`` off around the
    transaction; PostgreSQL: this sets ``session_replication_role`` to
    ``replica`` for them, see :func:`_may_set_checks_aside`); the same
    constraints are then checked set-wise over what was written and deleted,
    and :class:`_Unchecked` is raised (the caller rolls back and restores again
    with the checks on) where a foreign key's action or check would have had
    something to do.
    """
    doc = orjson.loads(zlib.decompress(data))
    saved_tables = doc["tables"]
    tables = _tenant_tables()
    kind = _digest_kind(conn)
    version = doc.get("version", 1)
    native = version >= 3
    if native and doc.get("values") != conn.dialect.name:
        # Snapshots live in the database they were taken from; one copied into
        # another kind of database holds values this one cannot take.
        raise Conflict(f"this snapshot was taken on {doc.get('values')}, not {conn.dialect.name}")
    if native and doc.get("blobs"):
        for entry in saved_tables.values():
            _load_blobs(entry["rows"])
    usable = kind if version >= 2 and doc.get("digest") == kind else None
    saved = {t.name: _Saved(conn, t, saved_tables.get(t.name), native, usable) for t in tables}

    def read(which: list[Table]) -> dict[str, dict[int, Any]]:
        """The tenant's current rows: digests where they count, else the rows."""
        by_digest = [t for t in which if saved[t.name].digests is not None]
        found: dict[str, dict[int, Any]] = dict(_current_digests(
            conn, by_digest, tenant_id, {t.name: saved[t.name].rows.keys() for t in by_digest}))
        for t in which:
            if t.name not in found:
                found[t.name] = _current_rows(conn, t, tenant_id, saved[t.name].names)
        return found

    current = read(tables)
    params = _scope_params(tenant_id)
    deleted: dict[str, list[int]] = {}
    for table in reversed(tables):
        extra = [i for i in current[table.name] if i not in saved[table.name].rows]
        if extra:
            deleted[table.name] = extra

    def plan() -> list[tuple[Table, _Saved, list[list], list[list]]]:
        """Per table (parents first): the snapshot's rows that are gone, and those that differ."""
        found = []
        for table in tables:
            kept = saved[table.name]
            have = current[table.name]
            if not have:
                missing, differ = list(kept.rows.values()), []
            else:
                missing, differ = [], []
                by_digest = kept.digests
                for row_id, row in kept.rows.items():
                    now = have.get(row_id)
                    if now is None:
                        missing.append(row)
                    elif (by_digest[row_id] if by_digest is not None else row) != now:
                        differ.append(row)
            if missing or differ:
                found.append((table, kept, missing, differ))
        return found

    keys = None
    if checks_aside:
        # No action runs with the checks aside, so what to write is known before the deletes.
        todo = plan()
        if deleted or todo:
            keys = _foreign_keys(conn)
            if keys is None or any(key.pointed != "id" for name in deleted for key in keys.pointing_at(name)):
                # A foreign key this restore cannot check set-wise: with the checks.
                raise _Unchecked
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
    for table in reversed(tables):
        extra = deleted.get(table.name)
        if extra:
            conn.execute(_delete_statement(conn.dialect, table), {**params, "ids": _id_list(conn.dialect, extra)})
    if not checks_aside:
        if deleted:
            # ON DELETE CASCADE / SET NULL may have changed rows of the tables
            # pointing at the deleted ones: read those again.
            again = [t for t in tables if any(fk.column.table.name in deleted for fk in t.foreign_keys)]
            current.update(read(again))
        todo = plan()

    if conn.dialect.name == "sqlite":
        writer: _SQLiteWriter | _PostgresWriter = _SQLiteWriter(conn, tenant_id, self_references=not checks_aside)
    else:
        writer = _PostgresWriter(conn, tenant_id)
    inserted: list[Table] = []
    for table, kept, missing, _ in todo:
        if missing:
            writer.insert(table, kept.names, missing)
            inserted.append(table)
    for table, kept, _, differ in todo:
        if differ:
            writer.update(table, kept.names, differ)
    writer.finish()
    if keys is not None:
        written = {table.name: (kept.names, missing + differ) for table, kept, missing, differ in todo}
        if keys.violated(conn, written, deleted):
            raise _Unchecked
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SET LOCAL session_replication_role = DEFAULT")
    if conn.dialect.name == "postgresql":
        _advance_sequences(conn, inserted)
    # The settings and the write's count in one write of the tenant row, the
    # transaction's last statement (core/revision.py).
    revision.bump(conn, tenant_id, settings=doc.get("settings") or {})


class _Unchecked(Exception):
    """A restore with the per-row foreign-key work aside cannot stand as it is:
    a foreign key's action or check would have had something to do (or one
    cannot be checked set-wise). The caller rolls back and restores again with
    the checks on, which then does what the database does for every write."""


# -- foreign keys, checked set-wise ------------------------------------------------
# A restore writes the rows of a consistent snapshot of the tenant itself, so
# the database's per-row foreign-key work (PostgreSQL: an after-trigger event
# per row and key, a lookup of the parent or, for a deleted row, a query per
# key pointing at it; SQLite: the same lookups and actions per row) finds
# nothing to do in the usual case and costs a third of a large restore. With
# it aside, one statement checks what the keys would have checked: every row
# written points at rows that exist, and no row anywhere (any tenant, any
# table, the credentials a restore keeps) points at a row deleted. If one
# does, an action (CASCADE, SET NULL) or a refusal was due: the restore runs
# again with the checks on. The keys come from the database's own catalog.
class _Key(NamedTuple):
    """A single-column foreign key: names as the catalog has them and as SQL."""

    child: str
    child_sql: str
    column: str
    column_sql: str
    parent: str
    parent_sql: str
    pointed: str
    pointed_sql: str
    pointed_type: str  # PostgreSQL: the pointed column's type, to cast JSON values to


class _ForeignKeys:
    """The database's foreign keys, by table and by the table they point at."""

    def __init__(self, dialect, keys: list[_Key]):
        self.dialect = dialect
        self.of: dict[str, list[_Key]] = {}
        self.into: dict[str, list[_Key]] = {}
        for key in keys:
            self.of.setdefault(key.child, []).append(key)
            self.into.setdefault(key.parent, []).append(key)

    def pointing_at(self, table: str) -> list[_Key]:
        return self.into.get(table, [])

    def violated(self, conn: Connection, written: dict[str, tuple[list[str], list[list]]],
                 deleted: dict[str, list[int]]) -> bool:
        """Whether a row written points at no row, or a row points at a row deleted (one statement).

        The rows written are at hand: each key's distinct values among them must
        each find their row (the pointed column is unique, so as many rows as
        values), one index lookup per value instead of a join per key."""
        sqlite = self.dialect.name == "sqlite"
        tests, params = [], {}
        for table, (names, rows) in written.items():
            for key in self.of.get(table, []):
                if key.column not in names:
                    continue
                at = names.index(key.column)
                values = {r[at] for r in rows} - {None}
                if not values:
                    continue
                if not all(isinstance(v, (int, float, str)) for v in values):
                    return True  # a value raw SQL stored that JSON cannot carry: with the checks
                name = f"v{len(params)}"
                params[name] = orjson.dumps(list(values)).decode()
                if sqlite:
                    found = f"SELECT value FROM json_each(:{name})"
                else:
                    found = (f"SELECT CAST(v AS {key.pointed_type}) "
                             f"FROM jsonb_array_elements_text(CAST(:{name} AS jsonb)) AS v")
                tests.append(f"(SELECT count(*) FROM {key.parent_sql} AS p WHERE p.{key.pointed_sql} IN ({found}))"
                             f" < {len(values)}")
        for table, ids in deleted.items():
            keys = self.into.get(table, [])
            if not keys:
                continue
            name = f"d{len(params)}"
            params[name] = _id_list(self.dialect, ids)
            for key in keys:
                if sqlite:
                    tests.append(f"EXISTS (SELECT 1 FROM {key.child_sql} AS c WHERE c.{key.column_sql} IN "
                                 f"(SELECT value FROM json_each(:{name})))")
                else:
                    tests.append(f"EXISTS (SELECT 1 FROM {key.child_sql} AS c JOIN "
                                 f"unnest(CAST(:{name} AS bigint[])) AS d(id) ON c.{key.column_sql} = d.id)")
        if not tests:
            return False
        return bool(conn.execute(text("SELECT " + " OR ".join(tests)), params).scalar())


def _foreign_keys(conn: Connection) -> _ForeignKeys | None:
    """The database's foreign keys, read from its catalog at each restore (a migration
    may have added some); None if one has several columns or no named parent column."""
    quote = conn.dialect.identifier_preparer.quote
    if conn.dialect.name == "sqlite":
        rows = conn.exec_driver_sql(
            'SELECT m.name, f.id, f.seq, f."from", f."table", f."to" FROM sqlite_master AS m '
            "JOIN pragma_foreign_key_list(m.name) AS f WHERE m.type = 'table'").all()
        if any(seq or to is None for _, _, seq, _, _, to in rows):
            return None
        keys = [_Key(child, quote(child), column, quote(column), parent, quote(parent), to, quote(to), "")
                for child, _, _, column, parent, to in rows]
    else:
        # The catalog's join costs ~2 ms of the server's CPU: kept per connection while
        # the database's foreign-key constraints are the same ones (a constraint added,
        # dropped or made again changes their count or their highest oid).
        marker = tuple(conn.exec_driver_sql(
            "SELECT count(*), max(oid) FROM pg_constraint WHERE contype = 'f'").one())
        kept = conn.connection.info.get(_KEYS)
        if kept is not None and kept[0] == marker:
            return kept[1]
        rows = conn.exec_driver_sql(
            "SELECT cl.relname, CAST(c.conrelid AS regclass)::text, a.attname, quote_ident(a.attname), pcl.relname, "
            "CAST(c.confrelid AS regclass)::text, pa.attname, quote_ident(pa.attname), "
            "format_type(pa.atttypid, pa.atttypmod), cardinality(c.conkey) "
            "FROM pg_constraint AS c JOIN pg_class AS cl ON cl.oid = c.conrelid "
            "JOIN pg_class AS pcl ON pcl.oid = c.confrelid "
            "JOIN pg_attribute AS a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] "
            "JOIN pg_attribute AS pa ON pa.attrelid = c.confrelid AND pa.attnum = c.confkey[1] "
            "WHERE c.contype = 'f'").all()
        found = None if any(r[9] != 1 for r in rows) else _ForeignKeys(conn.dialect, [_Key(*r[:9]) for r in rows])
        conn.connection.info[_KEYS] = (marker, found)
        return found
    return _ForeignKeys(conn.dialect, keys)


_KEYS = "polycrm_foreign_keys"


_MAY_SET_ASIDE = "polycrm_replication_role"


def _may_set_checks_aside(conn: Connection) -> bool:
    """PostgreSQL: whether this connection's role may set ``session_replication_role`` (a
    superuser, or from PostgreSQL 15 a role granted SET on it); noted once per connection.
    (SQLite's ``foreign_keys`` is the connection's own setting.)"""
    info = conn.connection.info
    found = info.get(_MAY_SET_ASIDE)
    if found is None:
        superuser, version = conn.exec_driver_sql(
            "SELECT current_setting('is_superuser') = 'on', current_setting('server_version_num')::int").one()
        found = bool(superuser) or (version >= 150000 and bool(conn.exec_driver_sql(
            "SELECT has_parameter_privilege('session_replication_role', 'SET')").scalar()))
        info[_MAY_SET_ASIDE] = found
    return found


@contextmanager
def _foreign_keys_off(conn: Connection, wanted: bool):
    """SQLite: the connection's foreign keys off for the transaction begun inside (the
    pragma is a no-op within one), on again after it, whatever happened. Yields
    whether the checks are aside (PostgreSQL: apply sets them aside itself)."""
    if not wanted or conn.dialect.name != "sqlite":
        yield wanted
        return
    raw = conn.connection.dbapi_connection
    raw.execute("PRAGMA foreign_keys=OFF")
    try:
        yield True
    finally:
        try:
            raw.execute("PRAGMA foreign_keys=ON")
        except Exception:
            # A pooled connection must never stay without its foreign keys.
            conn.invalidate()
            raise


# From how many rows a SQLite table's insert triggers that keep an index (FTS,
# short grams, R*Tree) are set aside and the index filled in one statement
# (about 4x less work for 500 rows).
SET_WISE_FROM = 50


class _SQLiteWriter:
    """Writes rows in the driver's form: one executemany per table (positional
    parameters, no per-value work), columns pointing into the same table set
    afterwards (SQLite checks a row's foreign keys at the end of its statement,
    and each row of an executemany is a statement)."""

    def __init__(self, conn: Connection, tenant_id: int, *, self_references: bool = True):
        self.conn, self.tenant_id = conn, tenant_id
        # Whether rows pointing into their own table need the fix-up (not with foreign keys off).
        self.self_references = self_references
        self.fixups: list[tuple[Table, list[str], list[list]]] = []

    def insert(self, table: Table, names: list[str], rows: list[list]) -> None:
        later = [names.index(c) for c in _self_references(table) if c in names] if self.self_references else []
        if later:
            pointing = [r for r in rows if any(r[i] is not None for i in later)]
            if pointing:
                at = names.index("id")
                self.fixups.append((table, ["id"] + [names[i] for i in later],
                                    [[r[at]] + [r[i] for i in later] for r in pointing]))
                blank = []
                for r in pointing:
                    r = list(r)
                    for i in later:
                        r[i] = None
                    blank.append(r)
                pointing_ids = {id(r) for r in pointing}
                rows = [r for r in rows if id(r) not in pointing_ids] + blank
        quote = self.conn.dialect.identifier_preparer
        sql = (f"INSERT INTO {quote.format_table(table)} ({', '.join(quote.quote(n) for n in names)}) "
               f"VALUES ({', '.join('?' * len(names))})")
        params = list(map(tuple, rows))
        if len(rows) < SET_WISE_FROM:
            self.conn.exec_driver_sql(sql, params)
            return
        # Set aside the index triggers for the insert, fill their indexes in one
        # statement each, put the triggers back as they were (their own SQL).
        # DDL is transactional in SQLite: a failed restore rolls the triggers
        # back too, and the restore holds the write lock throughout.
        aside = index_fill.set_aside(self.conn, table.name)
        self.conn.exec_driver_sql(sql, params)
        if aside:
            at = names.index("id")
            ids = orjson.dumps([r[at] for r in rows]).decode()
            # The short-gram tokens cut in Python from the rows at hand (half the CPU of
            # SQL's); a value that is not text (raw SQL may store any) is left to SQL.
            texts = None
            if "search_text" in names:
                i = names.index("search_text")
                if all(isinstance(r[i], str) for r in rows):
                    texts = [(r[at], r[i]) for r in rows]
            index_fill.fill(self.conn, aside, "t.id IN (SELECT value FROM json_each(?))", (ids,), texts)
            index_fill.put_back(self.conn, aside)

    def update(self, table: Table, names: list[str], rows: list[list]) -> None:
        quote = self.conn.dialect.identifier_preparer
        at = names.index("id")
        others = [i for i in range(len(names)) if i != at]
        sql = (f"UPDATE {quote.format_table(table)} SET {', '.join(f'{quote.quote(names[i])} = ?' for i in others)} "
               f"WHERE id = ? AND tenant_id = ?")
        self.conn.exec_driver_sql(sql, [tuple([r[i] for i in others] + [r[at], self.tenant_id]) for r in rows])

    def finish(self) -> None:
        for table, names, rows in self.fixups:
            self.update(table, names, rows)


class _PostgresWriter:
    """Writes a table's rows in one statement that reads them from one JSON
    parameter (an executemany sends a statement per row), values cast from their
    text form. Foreign keys are checked at the end of the statement, so rows
    pointing at rows of the same statement go in as they are."""

    def __init__(self, conn: Connection, tenant_id: int):
        self.conn, self.tenant_id = conn, tenant_id

    def _values(self, table: Table, names: list[str]) -> list[str]:
        dialect = self.conn.dialect
        found = []
        for i, n in enumerate(names):
            column = table.c[n]
            if isinstance(column.type, (String, Text)):
                found.append(f"r->>{i}")
            else:
                found.append(f"CAST(r->>{i} AS {column.type.compile(dialect=dialect)})")
        return found

    def insert(self, table: Table, names: list[str], rows: list[list]) -> None:
        quote = self.conn.dialect.identifier_preparer
        key = ("insert", table.name, tuple(names))
        sql = _statements.get(key)
        if sql is None:
            sql = _statements[key] = text(
                f"INSERT INTO {quote.format_table(table)} ({', '.join(quote.quote(n) for n in names)}) "
                f"SELECT {', '.join(self._values(table, names))} FROM jsonb_array_elements(CAST(:rows AS jsonb)) AS r")
        self.conn.execute(sql, {"rows": orjson.dumps(rows).decode()})

    def update(self, table: Table, names: list[str], rows: list[list]) -> None:
        quote = self.conn.dialect.identifier_preparer
        key = ("update", table.name, tuple(names))
        sql = _statements.get(key)
        if sql is None:
            values = self._values(table, names)
            at = names.index("id")
            name = quote.format_table(table)
            sets = ", ".join(f"{quote.quote(n)} = {v}" for i, (n, v) in enumerate(zip(names, values)) if i != at)
            sql = _statements[key] = text(
                f"UPDATE {name} SET {sets} FROM jsonb_array_elements(CAST(:rows AS jsonb)) AS r "
                f"WHERE {name}.id = {values[at]} AND {name}.tenant_id = :tenant_id")
        self.conn.execute(sql, {"rows": orjson.dumps(rows).decode(), "tenant_id": self.tenant_id})

    def finish(self) -> None:
        pass


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
    """Put the tenant back into the state saved under ``name``, in one transaction
    (with the per-row foreign-key work aside where it may be, see apply)."""
    try:
        return _restore(db, tenant_id, name, kind, checks_aside=True)
    except _Unchecked:
        return _restore(db, tenant_id, name, kind, checks_aside=False)


@contextmanager
def _no_collections():
    """Python's cyclic garbage collector off meanwhile: a document's tens of thousands
    of values (no cycles among them, refcounting frees them) would otherwise set off
    collections that walk every object of the process (a full one costs ~10 ms in a
    server's process)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _restore(db: Database, tenant_id: int, name: str, kind: str, *, checks_aside: bool) -> dict[str, Any]:
    t = Snapshot.__table__
    with _begin(db) as conn, _foreign_keys_off(conn, checks_aside) as aside, conn.begin():
        found = conn.execute(
            select(t.c.data, t.c.rows).where(t.c.tenant_id == tenant_id, t.c.name == name, t.c.kind == kind)
        ).first()
        if found is None:
            if kind == INITIAL:
                raise Conflict("this tenant was created before snapshots existed: it has no empty state to reset to")
            raise NotFound(f"no snapshot named {name!r}", "name")
        try:
            if aside and conn.dialect.name == "postgresql":
                aside = _may_set_checks_aside(conn)
            with _no_collections():
                apply(conn, tenant_id, found.data, checks_aside=aside)
        except IntegrityError:
            if aside:
                # Whatever the database refused, it is refused with its own checks on.
                raise _Unchecked from None
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
