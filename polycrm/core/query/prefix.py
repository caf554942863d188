"""An index for ``like`` filters that are a prefix (``name=Company 99%``).

A case-insensitive ``LIKE 'text%'`` cannot use a plain index on either
database: SQLite compiles it to ``lower(name) LIKE lower(?)`` and PostgreSQL
to ``name ILIKE ?``, so every such list read the whole tenant (80 ms at
100,000 accounts). For the paths in :data:`PREFIX_INDEXED` a pattern that is
literal text followed by one trailing ``%`` gets an extra condition, ANDed
with the unchanged ``LIKE``, that an index serves:

- SQLite: a range on the case-folded copy (``name_folded``, which
  ``ix_customer_name (tenant_id, name_folded)`` already indexes):
  ``name_folded >= fold(text) AND name_folded < fold(text) with its last
  character incremented``. Every row the ``LIKE`` matches lies in the range:
  SQLite's ``lower()`` and ``LIKE`` fold ASCII letters only and compare other
  characters exactly, and ``str.casefold`` folds character by character, so a
  name whose first characters match the text has a folded copy starting with
  the folded text (unless that is longer than the 255 characters the copy
  keeps; then no range is added). The ``LIKE`` then decides exactly as before.
- PostgreSQL: ``lower(name) LIKE lower(:pattern)``, which the expression index
  ``ix_customer_name_prefix (tenant_id, lower(name) text_pattern_ops)``
  (migration 0018) serves as a range; in a UTF-8 database ``ILIKE`` is
  itself ``lower(a) LIKE lower(b)``, so it selects exactly the same rows.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, and_, func, literal, true
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import Grouping
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal

from polycrm.core.models import TenantScoped
from polycrm.core.query.paths import escape_like

# (table, path) -> the case-folded column SQLite ranges over.
PREFIX_INDEXED = {("customer", "name"): "name_folded"}
FOLDED_MAX = 255


def prefix_condition(model: type[TenantScoped], path: str, pattern: str) -> Any | None:
    """The index-served condition for ``path LIKE pattern``, or None where there is none."""
    folded_key = PREFIX_INDEXED.get((model.__tablename__, path))
    if folded_key is None or not pattern.endswith("%") or "%" in pattern[:-1] or len(pattern) < 2:
        return None
    text = pattern[:-1]
    folded = text.casefold()
    if len(folded) > FOLDED_MAX or ord(folded[-1]) >= 0x10FFFF:
        sqlite_range = true()
    else:
        column = getattr(model, folded_key)
        sqlite_range = and_(column >= folded, column < folded[:-1] + chr(ord(folded[-1]) + 1))
    lowered = func.lower(getattr(model, path)).like(func.lower(literal(escape_like(text) + "%")), escape="\\")
    return PrefixRange(sqlite_range, lowered)


class PrefixRange(ColumnElement[bool]):
    """``sqlite`` on SQLite, ``postgresql`` on PostgreSQL, TRUE elsewhere (module docstring)."""

    inherit_cache = True
    type = Boolean()
    _is_implicitly_boolean = True
    _traverse_internals = [
        ("sqlite", InternalTraversal.dp_clauseelement),
        ("postgresql", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, sqlite: Any, postgresql: Any):
        self.sqlite = sqlite
        self.postgresql = postgresql


@compiles(PrefixRange)
def _compile_prefix(element: PrefixRange, compiler: Any, **kw: Any) -> str:
    return compiler.process(true(), **kw)


@compiles(PrefixRange, "sqlite")
def _compile_prefix_sqlite(element: PrefixRange, compiler: Any, **kw: Any) -> str:
    return compiler.process(Grouping(element.sqlite), **kw)


@compiles(PrefixRange, "postgresql")
def _compile_prefix_postgresql(element: PrefixRange, compiler: Any, **kw: Any) -> str:
    return compiler.process(Grouping(element.postgresql), **kw)
