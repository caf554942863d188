"""Statements built once, compiled once per dialect and run on the DBAPI cursor.

The lean reads (:mod:`polycrm.core.query.rows`) and the tenant's revision are a
few indexed lookups per request; SQLAlchemy's execution context (parameter
processing, the compiled cache, the result object) costs more than the
lookups themselves. A statement known by a fixed key is compiled here once and
run straight on the connection's DBAPI cursor, in the connection's own
transaction, converting values exactly as SQLAlchemy would. Statement
listeners (``before_cursor_execute``: the tests count statements with them)
still see every statement: with one attached, the statement goes through
SQLAlchemy as usual.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class Compiled:
    """A prebuilt statement compiled once for a dialect and run on the DBAPI cursor
    of the workspace's connection (same transaction): SQLAlchemy's execution
    context costs more than the indexed lookups these statements are. The
    values are converted as SQLAlchemy would (the bind processors of the
    compiled statement; each column's result processor for the type code the
    driver reports, found with the first execution)."""

    __slots__ = ("binds", "convert", "dialect", "positional", "sql", "types")

    def __init__(self, stmt: Any, dialect: Any):
        compiled = stmt.compile(dialect=dialect)
        self.dialect = dialect
        self.sql = compiled.string
        self.positional = tuple(compiled.positiontup) if compiled.positional else None
        self.binds = {name: fn for name, fn in compiled._bind_processors.items() if fn is not None}
        self.types = [column.type for column in stmt.selected_columns]
        self.convert: list[tuple[int, Callable[[Any], Any]]] | None = None

    @staticmethod
    def usable(stmt: Any, dialect: Any) -> Compiled | None:
        compiled = stmt.compile(dialect=dialect)
        # An expanding IN list is rendered per execution: left to SQLAlchemy.
        if compiled.post_compile_params or compiled.literal_execute_params:
            return None
        return Compiled(stmt, dialect)

    def run(self, connection: Any, params: dict[str, Any]) -> list[tuple]:
        binds = self.binds
        if binds:
            params = {name: (binds[name](value) if name in binds else value) for name, value in params.items()}
        args = tuple(params[name] for name in self.positional) if self.positional is not None else params
        cursor = connection.connection.dbapi_connection.cursor()
        try:
            cursor.execute(self.sql, args)
            rows = cursor.fetchall()
            if self.convert is None:
                self.convert = [
                    (i, fn) for i, (kind, described) in enumerate(zip(self.types, cursor.description))
                    if (fn := kind._cached_result_processor(self.dialect, described[1])) is not None]
        finally:
            cursor.close()
        convert = self.convert
        if not convert or not rows:
            return rows
        changed = []
        for row in rows:
            row = list(row)
            for i, fn in convert:
                row[i] = fn(row[i])
            changed.append(tuple(row))
        return changed


_COMPILED: dict[tuple, Compiled | None] = {}


def run(connection: Any, key: tuple, stmt: Any, params: dict[str, Any]) -> Any:
    """Rows of ``stmt``, a statement built once and known by ``key``, on ``connection``
    (in its transaction): see :class:`Compiled`. The caller scopes it to a tenant."""
    dialect = connection.dialect
    found = _COMPILED.get((key, dialect.name), _COMPILED)
    if found is _COMPILED:
        found = _COMPILED[(key, dialect.name)] = Compiled.usable(stmt, dialect)
    if found is None or connection.dispatch.before_cursor_execute:
        return connection.execute(stmt, params)
    return found.run(connection, params)
