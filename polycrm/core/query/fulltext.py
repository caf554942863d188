"""Text searches: every term occurs in one of the searched paths, through a
trigram index where the path has one.

The indexed paths (:data:`TRIGRAM_INDEXED`) are the folded ``search_text``
columns of customers (migration 0002), contacts and products (0008). On
SQLite a term of three or more characters is looked up in the FTS5 trigram
table over the column; shorter terms, and paths without an index, are
scanned for with ``ILIKE '%term%'``. On PostgreSQL the plain ``ILIKE`` runs
and the pg_trgm GIN index under the column serves it. Either way the rows
found are those of "the term occurs in the text, case-insensitively".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Boolean, and_, literal_column, or_, select, true
from sqlalchemy import column as sql_column
from sqlalchemy import table as sql_table
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import Grouping
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal

from polycrm.core.models import TenantScoped
from polycrm.core.query.paths import check_search_term, contains_text, searchable
from polycrm.store.engine import fts_tables

# Text columns with a trigram index, (table, path) -> the SQLite FTS5 table over
# it (migrations 0002 and 0008). On PostgreSQL the same columns have a pg_trgm
# GIN index, which the plain ILIKE uses by itself.
TRIGRAM_INDEXED = {
    ("customer", "search_text"): "customer_fts",
    ("contact", "search_text"): "contact_fts",
    ("product", "search_text"): "product_fts",
}
# A trigram index finds terms of at least three characters; shorter ones are scanned for.
MIN_TRIGRAM_TERM = 3


def terms_of(text: str) -> list[str]:
    """The distinct, case-folded, whitespace-separated terms of a search text."""
    return list(dict.fromkeys(t for t in text.casefold().split() if t))


def fulltext(model: type[TenantScoped], paths: str, text: str) -> Any:
    """Every whitespace-separated term occurs (case-insensitively) in one of the paths."""
    check_search_term(text)
    return matching(model, paths, terms_of(text))


def contains(model: type[TenantScoped], paths: str, text: str) -> Any:
    """The whole text, spaces and all, occurs (case-insensitively) in one of the paths."""
    check_search_term(text)
    return matching(model, paths, [text.casefold()] if text else [])


def matching(model: type[TenantScoped], paths: str, terms: Sequence[str]) -> Any:
    """Every term occurs in one of the comma-separated ``paths`` (no terms: every row)."""
    if not terms:
        return true()
    names = [p.strip() for p in paths.split(",")]
    indexes = [TRIGRAM_INDEXED.get((model.__tablename__, p)) for p in names]
    columns = [searchable(model, p) for p in names]
    if len(names) == 1 and indexes[0]:
        # One indexed path: the index's terms in one lookup.
        return _in_one_index(model, indexes[0], columns[0], terms)

    def found(term: str) -> Any:
        return or_(*(_term_in(model, fts, col, [term]) for fts, col in zip(indexes, columns)))

    return and_(*(found(t) for t in terms))


def _in_one_index(model: type[TenantScoped], fts_table: str, col: Any, terms: Sequence[str]) -> Any:
    indexed = [t for t in terms if _trigram_term(t)]
    conditions = [contains_text(col, t) for t in terms if t not in indexed]
    if indexed:
        conditions.insert(0, _term_in(model, fts_table, col, indexed))
    return and_(*conditions)


def _term_in(model: type[TenantScoped], fts_table: str | None, col: Any, terms: Sequence[str]) -> Any:
    """Each of ``terms`` occurs in ``col``: through its index where it has one and the terms suit it."""
    scanned = and_(*(contains_text(col, t) for t in terms))
    if fts_table is None or not all(_trigram_term(t) for t in terms):
        return scanned
    return TrigramMatch(fts_table, _fts_condition(model, fts_table, terms), scanned)


def _trigram_term(term: str) -> bool:
    # U+FFFE and U+FFFF are the only characters FTS5 does not index as they are.
    return len(term) >= MIN_TRIGRAM_TERM and "\ufffe" not in term and "\uffff" not in term


def _fts_condition(model: type[TenantScoped], fts_table: str, terms: Sequence[str]) -> Any:
    """``id IN (rows of the FTS table holding every term)``.

    Each term is an FTS5 phrase: with the trigram tokenizer, a run of
    consecutive trigrams, i.e. exactly the substring. The tokenizer folds case
    one character at a time, which leaves the already case-folded column and
    terms as they are (checked for every character ``str.casefold`` can
    produce but U+FFFE/U+FFFF), so it matches the rows ``ILIKE '%term%'`` does.
    """
    fts = sql_table(fts_table, sql_column("rowid"))
    phrases = " AND ".join('"' + t.replace('"', '""') + '"' for t in terms)
    return model.id.in_(select(fts.c.rowid).where(literal_column(fts_table).op("MATCH")(phrases)))


class TrigramMatch(ColumnElement[bool]):
    """Terms looked up in a trigram index: through the SQLite FTS5 table
    (``indexed``) where the database has one, as ``fallback`` (the ILIKE
    conditions, which PostgreSQL's GIN trigram index serves) everywhere else."""

    inherit_cache = True
    type = Boolean()
    _is_implicitly_boolean = True  # a condition in itself (no "= 1" added on SQLite)
    _traverse_internals = [
        ("fts_table", InternalTraversal.dp_string),
        ("indexed", InternalTraversal.dp_clauseelement),
        ("fallback", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, fts_table: str, indexed: Any, fallback: Any):
        self.fts_table = fts_table
        self.indexed = indexed
        self.fallback = fallback


@compiles(TrigramMatch)
def _compile_trigram_match(element: TrigramMatch, compiler: Any, **kw: Any) -> str:
    # Parenthesised, so that it stays one condition wherever it lands (NOT, OR).
    return compiler.process(Grouping(element.fallback), **kw)


@compiles(TrigramMatch, "sqlite")
def _compile_trigram_match_sqlite(element: TrigramMatch, compiler: Any, **kw: Any) -> str:
    # The engine notes which FTS tables exist (polycrm.store.engine) and
    # recompiles when that changes; a library without FTS5 trigram has none.
    if element.fts_table in fts_tables(compiler.dialect):
        return compiler.process(Grouping(element.indexed), **kw)
    return compiler.process(Grouping(element.fallback), **kw)
