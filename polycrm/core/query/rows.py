"""Lean reads: rows as light records instead of ORM objects, for rendering answers.

Loading a row through the ORM costs several times the query itself: the
statement is built and its cache key computed again, the session adds the
tenant condition as a new option (:mod:`polycrm.core.tenancy`), and each row
becomes an instrumented object in the identity map. An answer that only
reads rows does not need any of that. Here a statement is built once per
shape, with bind parameters, and run on the workspace's own connection (the
same transaction, so it sees what the workspace wrote); each row comes back
as a :func:`record_type` tuple: attribute access by column name and the
model's ``__tablename__``, so code written for ORM objects reads records
unchanged (``q.entity_kind(type(record))`` works too). Records are read-only.

Tenancy: these statements do not pass through the session's ORM execution,
so the session does not scope them; every statement here is built by
:func:`_select`, which adds ``tenant_id = :tenant_id``, and run by
:func:`_execute` or :func:`_run`, which bind the workspace's tenant (and refuse
a workspace of no tenant). Nothing else in this module builds a statement, and nothing
outside it runs Core selects of tenant rows.
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import Select, and_, bindparam, or_, select
from sqlalchemy.engine import Result

from polycrm.core import limits
from polycrm.core.errors import TenancyError
from polycrm.core.models import Link, TenantScoped
from polycrm.core.workspace import Workspace
from polycrm.store import prebuilt

_RECORD_TYPES: dict[type, type] = {}
_COLUMNS: dict[type, list[Any]] = {}
_STATEMENTS: dict[tuple, Select] = {}


def record_type(model: type[TenantScoped]) -> type:
    """The read-only record class of a model: a named tuple of its columns."""
    found = _RECORD_TYPES.get(model)
    if found is None:
        keys = [prop.key for prop in model.__mapper__.column_attrs]
        base = collections.namedtuple(f"{model.__name__}Record", keys)  # type: ignore[misc]
        found = type(base.__name__, (base,), {
            "__slots__": (), "__tablename__": model.__tablename__, "__model__": model,
        })
        _RECORD_TYPES[model] = found
    return found


def is_record(obj: Any) -> bool:
    return type(obj) in _RECORD_TYPES.values()


def table_columns(model: type[TenantScoped]) -> list[Any]:
    """The model's columns in mapper order (the order of its record's fields)."""
    found = _COLUMNS.get(model)
    if found is None:
        found = _COLUMNS[model] = [prop.columns[0] for prop in model.__mapper__.column_attrs]
    return found


def _select(model: type[TenantScoped], *where: Any, columns: Sequence[Any] | None = None) -> Select:
    table = model.__table__
    return select(*(columns or table_columns(model))).where(table.c.tenant_id == bindparam("tenant_id"), *where)


def _connection(ws: Workspace) -> Any:
    if ws.tenant_id is None:
        raise TenancyError("tenant-scoped query outside a tenant")
    return _session_connection(ws.session)


def _session_connection(session: Any, *, flush: bool = True) -> Any:
    if flush and session.info.get("write"):
        # Rows changed in memory are written first, as an autoflush would, so
        # that a record read here agrees with the ORM object of the same row.
        session.flush()
    # The session's connection, kept for as long as its transaction lasts:
    # asking the session for it again costs more than some of these queries.
    transaction = session.get_transaction()
    kept = session.info.get("lean_connection")
    if transaction is None or kept is None or kept[0] is not transaction:
        connection = session.connection()
        session.info["lean_connection"] = (session.get_transaction(), connection)
        return connection
    return kept[1]


def _run(ws: Workspace, key: tuple, stmt: Select, params: dict[str, Any]) -> Any:
    """Rows of a prebuilt statement (:func:`_statement`'s ``key``): on the DBAPI
    cursor when it can be compiled once, unless statement listeners are watching
    this connection (tests count statements), else through SQLAlchemy."""
    return prebuilt.run(_connection(ws), key, stmt, {"tenant_id": ws.tenant_id, **params})


def _execute(ws: Workspace, stmt: Select, params: dict[str, Any]) -> Result:
    return _connection(ws).execute(stmt, {"tenant_id": ws.tenant_id, **params})


# Up to this many values, ``column IN (...)`` is a statement of its own with
# one bind parameter per value, compiled once; more values take one expanding
# parameter, which SQLAlchemy rewrites on every execution (a third of the
# cost of a one-row lookup).
INLINE_VALUES = 8


def _in(column: Any, name: str, count: int) -> Any:
    if count > INLINE_VALUES:
        return column.in_(bindparam(name, expanding=True))
    if count == 1:
        return column == bindparam(f"{name}_0")
    return column.in_([bindparam(f"{name}_{i}") for i in range(count)])


def _shape(count: int) -> int:
    """The statement-cache key part of an IN list of ``count`` values."""
    return count if count <= INLINE_VALUES else -1


def _in_params(name: str, values: Sequence[Any]) -> dict[str, Any]:
    if len(values) > INLINE_VALUES:
        return {name: values}
    return {f"{name}_{i}": value for i, value in enumerate(values)}


def _statement(key: tuple, build) -> Select:
    stmt = _STATEMENTS.get(key)
    if stmt is None:
        stmt = _STATEMENTS[key] = build()
    return stmt


def records(model: type[TenantScoped], rows: Iterable[Sequence[Any]]) -> list[Any]:
    """Rows of :func:`table_columns` of ``model`` as its records."""
    make = record_type(model)._make
    return [make(row) for row in rows]


def by_ids(ws: Workspace, model: type[TenantScoped], ids: Iterable[Any]) -> dict[int, Any]:
    """Records by id (deleted ones too), in one query; ids that cannot be row ids are left out."""
    wanted = sorted({key for key in map(limits.id_in_range, ids) if key})
    if not wanted:
        return {}
    table = model.__table__
    count = len(wanted)
    key = ("by_ids", model, _shape(count))
    stmt = _statement(key, lambda: _select(model, _in(table.c.id, "ids", count)))
    return {rec.id: rec for rec in records(model, _run(ws, key, stmt, _in_params("ids", wanted)))}


def tuples(ws: Workspace, model: type[TenantScoped], names: Sequence[str], where: Sequence[Any] = (), *,
           order_by: Sequence[Any] = (), limit: int | None = None) -> list[Sequence[Any]]:
    """Plain tuples of the named columns of the tenant's rows of ``model``
    meeting ``where``: the leanest read there is, for syncs of thousands of rows
    (no record type, no mapping per row)."""
    table = model.__table__
    stmt = _select(model, *where, columns=[table.c[name] for name in names])
    if order_by:
        stmt = stmt.order_by(*order_by)
    if limit is not None:
        stmt = stmt.limit(limit)
    return _execute(ws, stmt, {}).all()


def children(ws: Workspace, model: type[TenantScoped], fk: str, parent_ids: Iterable[int],
             sort_key: tuple, order: Callable[[], Sequence[Any]]) -> list[Any]:
    """Live records whose ``fk`` is one of ``parent_ids``, in the order of the
    ORDER BY clauses ``order()`` makes (built once per ``sort_key``)."""
    wanted = sorted({int(i) for i in parent_ids})
    if not wanted:
        return []
    table = model.__table__
    count = len(wanted)

    def build() -> Select:
        return _select(model, table.c.deleted.is_(False), _in(table.c[fk], "ids", count)).order_by(*order())

    key = ("children", model, fk, sort_key, _shape(count))
    stmt = _statement(key, build)
    return records(model, _run(ws, key, stmt, _in_params("ids", wanted)))


# (kind, outgoing, other kind): links of ``kind`` whose source (outgoing) or
# target (incoming) is the record being read and whose other end is of ``other kind``.
LinkSpec = tuple[str, bool, str]


def links(ws: Workspace, me_kind: str, ids: Iterable[int],
          specs: Iterable[LinkSpec]) -> dict[tuple[LinkSpec, int], list[int]]:
    """The live links of every spec that touch the records ``ids`` of kind
    ``me_kind``: ``{(spec, record id): [ids at the other end, in link id order]}``,
    one query for any number of records and link kinds."""
    wanted = sorted({int(i) for i in ids})
    specs = set(specs)
    if not wanted or not specs:
        return {}
    t = Link.__table__
    incoming = sorted({kind for kind, out, _ in specs if not out})
    outgoing = sorted({kind for kind, out, _ in specs if out})
    shape = (_shape(len(wanted)), _shape(len(incoming)), _shape(len(outgoing)))

    def build() -> Select:
        cols = [t.c.kind, t.c.source_kind, t.c.source_id, t.c.target_kind, t.c.target_id]
        # The tenant inside each branch as well, so that each can use its own
        # index (ix_link_target, the unique key by source).
        tenant = t.c.tenant_id == bindparam("tenant_id")
        branches = []
        if incoming:
            branches.append(and_(tenant, _in(t.c.kind, "incoming", len(incoming)), t.c.target_kind == bindparam("me"),
                                 _in(t.c.target_id, "ids", len(wanted))))
        if outgoing:
            branches.append(and_(tenant, _in(t.c.kind, "outgoing", len(outgoing)), t.c.source_kind == bindparam("me"),
                                 _in(t.c.source_id, "ids", len(wanted))))
        return _select(Link, t.c.deleted.is_(False), or_(*branches), columns=cols).order_by(t.c.id)

    key = ("links", shape)
    stmt = _statement(key, build)
    params = {"me": me_kind, **_in_params("ids", wanted), **_in_params("incoming", incoming),
              **_in_params("outgoing", outgoing)}
    mine = set(wanted)
    found: dict[tuple[LinkSpec, int], list[int]] = {}
    for kind, source_kind, source_id, target_kind, target_id in _run(ws, key, stmt, params):
        # A link between two records of this kind may count in both directions.
        if source_kind == me_kind and source_id in mine and (kind, True, target_kind) in specs:
            found.setdefault(((kind, True, target_kind), source_id), []).append(target_id)
        if target_kind == me_kind and target_id in mine and (kind, False, source_kind) in specs:
            found.setdefault(((kind, False, source_kind), target_id), []).append(source_id)
    return found


def is_live(ws: Workspace, model: type[TenantScoped], id_: Any, **equal: Any) -> bool:
    """Whether the tenant has a live (not deleted) row ``id_`` of ``model`` whose
    columns ``equal`` name hold those values: one indexed lookup in the
    workspace's transaction (what the workspace changed and did not write yet
    is written first), for the checks of a write that only need to know."""
    key = limits.id_in_range(id_) if id_ else None
    if key is None:
        return False
    table = model.__table__
    names = tuple(sorted(equal))
    stmt = _statement(("is_live", model, names), lambda: _select(
        model, table.c.id == bindparam("id"), table.c.deleted.is_(False),
        *(table.c[name] == bindparam(f"eq_{name}") for name in names), columns=[table.c.id]))
    params = {"id": key, **{f"eq_{name}": equal[name] for name in names}}
    return bool(_run(ws, ("is_live", model, names), stmt, params))


def live_ids(ws: Workspace, model: type[TenantScoped], key: tuple, where: Callable[[], Sequence[Any]],
             **params: Any) -> list[int]:
    """Ids, in order, of the tenant's live rows of ``model`` meeting ``where()``
    (built once per ``key``; its bind parameters are ``params``), in the
    workspace's transaction: for a write's checks that ask which row holds a
    value (a number) and nearly always find none. For conditions an index
    narrows to a few rows: every matching id is read."""
    table = model.__table__
    full_key = ("live_ids", model, key)
    stmt = _statement(full_key, lambda: _select(
        model, table.c.deleted.is_(False), *where(), columns=[table.c.id]).order_by(table.c.id))
    return [row[0] for row in _run(ws, full_key, stmt, params)]


def any_row(session: Any, tenant_id: int, model: type[TenantScoped], key: tuple,
            where: Callable[[], Sequence[Any]], **params: Any) -> bool:
    """Whether the tenant has any row of ``model`` meeting ``where()`` (built once
    per ``key``; its bind parameters are ``params``), in the session's
    transaction: for the listeners of a session that have no workspace at hand
    (the outbox's webhook check). For small tables: every matching id is read."""
    if tenant_id is None:
        raise TenancyError("tenant-scoped query outside a tenant")
    table = model.__table__
    full_key = ("any_row", model, key)
    # No LIMIT: SQLite renders one with an OFFSET parameter of its own, which a
    # prebuilt statement cannot bind; the tables asked about are small.
    stmt = _statement(full_key, lambda: _select(model, *where(), columns=[table.c.id]))
    # Not flushed first: the listeners that ask run inside a flush.
    return bool(prebuilt.run(_session_connection(session, flush=False), full_key, stmt,
                             {**params, "tenant_id": tenant_id}))
