"""Core paths, the criterion type, and the one LIKE escaping function.

A path names a column (``"name"``), a part of a JSON column
(``"addresses.postal.city"``, ``"extra.warehouseid"``), or a column of a
referenced row (``"customer_id->customer.type_id"``: the row the foreign key
``customer_id`` points at, in the table named after ``->``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Date, DateTime, String, Text, cast, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal

from polycrm.core.errors import Invalid
from polycrm.core import limits
from polycrm.core.models import ENTITIES, TenantScoped

# The longest search term (or LIKE pattern) a query takes. Longer ones are
# refused as bad input, in every API and page: no person types them, and
# SQLite refuses LIKE patterns over 50,000 bytes with an error of its own.
SEARCH_TERM_MAX = 1000


def check_search_term(text: str) -> None:
    """:class:`Invalid` for a search term longer than :data:`SEARCH_TERM_MAX` characters,
    or one holding a NUL or a lone surrogate (no index can be asked for those)."""
    if len(text) > SEARCH_TERM_MAX:
        raise Invalid(f"the search term must be at most {SEARCH_TERM_MAX} characters (got {len(text)})",
                      field="search")
    limits.check_text(text, "search", None)


@dataclass(frozen=True)
class Criterion:
    op: str
    path: str
    value: Any
    # For JSON paths: how to read the stored value ("str", "int", "float").
    cast: str = "str"


def entity_kind(model: type[TenantScoped]) -> str:
    """The name a model goes by in links and custom fields (its table name)."""
    return model.__tablename__


def column(model: type[TenantScoped], path: str, cast: str = "str") -> Any:
    """The SQL expression of a core path on ``model``."""
    if "->" in path:
        fk, _, rest = path.partition("->")
        table, _, inner = rest.partition(".")
        other = ENTITIES[table]
        return (
            select(column(other, inner, cast))
            .where(other.id == getattr(model, fk))
            .correlate(model)
            .scalar_subquery()
        )
    head, _, rest = path.partition(".")
    attr = getattr(model, head)
    if not rest:
        return attr
    element = attr[tuple(rest.split("."))] if "." in rest else attr[rest]
    if cast == "int":
        return element.as_integer()
    if cast == "float":
        return element.as_float()
    return element.as_string()


class JsonText(ColumnElement[str]):
    """The text at a JSON path written into the SQL itself, not sent as a parameter:
    an index on the same expression (``ix_customer_city_sort``, migration 0026)
    can then serve a sort by it. Used for sorting; the parts are checked names."""

    inherit_cache = True
    type = Text()
    _traverse_internals = [("element", InternalTraversal.dp_clauseelement),
                           ("parts", InternalTraversal.dp_plain_obj)]

    def __init__(self, element: Any, parts: tuple[str, ...]):
        if not all(p.isidentifier() for p in parts):
            raise ValueError(f"not a JSON path of names: {parts!r}")
        self.element = element
        self.parts = parts


@compiles(JsonText)
def _compile_json_text(element: JsonText, compiler: Any, **kw: Any) -> str:
    return f"({compiler.process(element.element, **kw)} #>> '{{{','.join(element.parts)}}}')"


@compiles(JsonText, "sqlite")
def _compile_json_text_sqlite(element: JsonText, compiler: Any, **kw: Any) -> str:
    # As text, as column() reads it: a JSON number sorts as its digits, as on PostgreSQL.
    return f"CAST(json_extract({compiler.process(element.element, **kw)}, '$.{'.'.join(element.parts)}') AS VARCHAR)"


def sort_column(model: type[TenantScoped], path: str) -> Any:
    """The SQL expression a sort by a core path orders by: :func:`column`, but a
    JSON part as :class:`JsonText`, so that an index can serve it."""
    head, _, rest = path.partition(".")
    if "->" in path or not rest:
        return column(model, path)
    return JsonText(getattr(model, head), tuple(rest.split(".")))


def is_text(expr: Any) -> bool:
    return isinstance(getattr(expr, "type", None), (String, Text))


def is_date(expr: Any) -> bool:
    return isinstance(getattr(expr, "type", None), (Date, DateTime))


def escape_like(text: str, *, keep_percent: bool = False) -> str:
    """``text`` for a LIKE pattern with ``escape='\\\\'``: ``_`` and ``\\`` are
    literal, and so is ``%`` unless ``keep_percent`` (the caller's wildcard).

    The one LIKE escaper of the code base: every LIKE, ILIKE and search goes
    through it.
    """
    text = text.replace("\\", "\\\\").replace("_", "\\_")
    return text if keep_percent else text.replace("%", "\\%")


def like(expr: Any, pattern: str) -> Any:
    """Case-insensitive LIKE; ``%`` is the only wildcard."""
    check_search_term(pattern)
    return expr.ilike(escape_like(pattern, keep_percent=True), escape="\\")


def same_text(expr: Any, text: str) -> Any:
    """Case-insensitive equality (LIKE without wildcards, on every dialect).

    A value longer than a LIKE pattern may be (:data:`SEARCH_TERM_MAX`)
    compares lower-cased instead: an exact value is not a search term."""
    if len(text) > SEARCH_TERM_MAX:
        return func.lower(expr) == text.lower()
    return expr.ilike(escape_like(text), escape="\\")


def contains_text(expr: Any, term: str) -> Any:
    """Case-insensitive substring match; every character of ``term`` is literal."""
    check_search_term(term)
    return expr.ilike("%" + escape_like(term) + "%", escape="\\")


class IsoDate(ColumnElement[str]):
    """A date (or the day of a date-time) as its ISO text ``YYYY-MM-DD``, so
    that a text search can match it (``2026-05``, ``05-14``) on every dialect."""

    inherit_cache = True
    type = Text()
    _traverse_internals = [("element", InternalTraversal.dp_clauseelement)]

    def __init__(self, element: Any):
        self.element = element


@compiles(IsoDate)
def _compile_iso_date(element: IsoDate, compiler: Any, **kw: Any) -> str:
    # to_char does not depend on the session's DateStyle, a cast to text would.
    return compiler.process(func.to_char(element.element, "YYYY-MM-DD"), **kw)


@compiles(IsoDate, "sqlite")
def _compile_iso_date_sqlite(element: IsoDate, compiler: Any, **kw: Any) -> str:
    # SQLite keeps dates and date-times as ISO text; the day is its first ten characters.
    return compiler.process(func.substr(cast(element.element, Text), 1, 10), **kw)


def searchable(model: type[TenantScoped], path: str) -> Any:
    """The text a search matches for a path: the column, or a date as ISO text."""
    expr = column(model, path)
    return IsoDate(expr) if is_date(expr) else expr
