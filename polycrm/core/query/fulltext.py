"""Text searches: every term occurs in one of the searched paths, through a
trigram index where the path has one.

The indexed paths (:data:`TRIGRAM_INDEXED`) are the folded ``search_text``
columns of customers (migration 0002), contacts and products (0008). On
SQLite a term of three or more characters is looked up in the FTS5 trigram
table over the column; shorter terms, and paths without an index, are
scanned for with ``ILIKE '%term%'``. On PostgreSQL the plain ``ILIKE`` runs
and the pg_trgm GIN index under the column serves it.

A term of one or two characters, which no trigram index can find, is looked
up in the index of every one- and two-character substring of the same
columns (:data:`SHORT_INDEXED`, migration 0025): an FTS5 table of those grams
on SQLite, a GIN index on ``polycrm_short_grams(search_text)`` on PostgreSQL.
Either way the rows found are those of "the term occurs in the text,
case-insensitively".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Boolean, Text, and_, func, literal, literal_column, or_, select, true
from sqlalchemy import column as sql_column
from sqlalchemy import table as sql_table
from sqlalchemy.dialects.postgresql import array as pg_array
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
# A trigram index finds terms of at least three characters; shorter ones are in the short index.
MIN_TRIGRAM_TERM = 3
# The same columns' index of one- and two-character grams (migration 0025):
# (table, path) -> its SQLite FTS5 table.
SHORT_INDEXED = {
    ("customer", "search_text"): "customer_short",
    ("contact", "search_text"): "contact_short",
    ("product", "search_text"): "product_short",
}
MAX_SHORT_TERM = 2
# The SQLite short index holds the grams of a text's first this many characters
# (migration 0025's INDEXED_CHARS); longer texts are scanned through their partial index.
SHORT_INDEXED_CHARS = 1024


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
        return _in_one_index(model, names[0], indexes[0], columns[0], terms)

    def found(term: str) -> Any:
        return or_(*(_term_in(model, path, fts, col, [term]) for path, fts, col in zip(names, indexes, columns)))

    return and_(*(found(t) for t in terms))


def _in_one_index(model: type[TenantScoped], path: str, fts_table: str, col: Any, terms: Sequence[str]) -> Any:
    indexed = [t for t in terms if _trigram_term(t)]
    short = [t for t in terms if _short_term(t)] if (model.__tablename__, path) in SHORT_INDEXED else []
    conditions = [contains_text(col, t) for t in terms if t not in indexed and t not in short]
    if short:
        conditions.insert(0, _term_in(model, path, fts_table, col, short))
    if indexed:
        conditions.insert(0, _term_in(model, path, fts_table, col, indexed))
    return and_(*conditions)


def _term_in(model: type[TenantScoped], path: str, fts_table: str | None, col: Any, terms: Sequence[str]) -> Any:
    """Each of ``terms`` occurs in ``col``: through its index where it has one and the terms suit it."""
    scanned = and_(*(contains_text(col, t) for t in terms))
    if fts_table is None:
        return scanned
    if all(_trigram_term(t) for t in terms):
        return TrigramMatch(fts_table, _fts_condition(model, fts_table, terms), scanned)
    short_table = SHORT_INDEXED.get((model.__tablename__, path))
    if short_table and all(_short_term(t) for t in terms):
        return ShortTermMatch(short_table, _short_condition(model, path, short_table, terms),
                              _pg_short_condition(col, terms), scanned)
    return scanned


def _trigram_term(term: str) -> bool:
    # U+FFFE and U+FFFF are the only characters FTS5 does not index as they are.
    return len(term) >= MIN_TRIGRAM_TERM and "\ufffe" not in term and "\uffff" not in term


def _short_term(term: str) -> bool:
    return 0 < len(term) <= MAX_SHORT_TERM


def gram_token(gram: str) -> str:
    """The short index's token of a one- or two-character gram: the hex of its UTF-8 (as the triggers of 0025 write it)."""
    return gram.encode("utf-8", "surrogatepass").hex()


def _short_condition(model: type[TenantScoped], path: str, short_table: str, terms: Sequence[str]) -> Any:
    """SQLite: ``id IN (rows whose grams hold every term, and the rows whose text
    is too long for the index that hold them)``.

    The index holds the two-character gram at each position of a (folded) text,
    one character at its end: a two-character term occurs in the text when its
    gram is there, a one-character term when a gram starts with it (a prefix
    query), as ``LIKE`` finds them. The long rows come from ``ix_<table>_long_search``,
    whose condition is written out literally so that SQLite may use it."""
    short = sql_table(short_table, sql_column("rowid"))
    tokens = " AND ".join(_short_query(t) for t in terms)
    in_index = select(short.c.rowid).where(literal_column(short_table).op("MATCH")(tokens))
    long_rows = sql_table(model.__tablename__, sql_column("id"), sql_column(path)).alias("long_text")
    text = long_rows.c[path]
    in_long = select(long_rows.c.id).where(
        func.length(text) > literal_column(str(SHORT_INDEXED_CHARS)),
        *(contains_text(text, t) for t in terms)).correlate(None)
    return model.id.in_(in_index.union_all(in_long))


def _short_query(term: str) -> str:
    """The FTS5 query of one term in the short index: its gram, or for one character
    the grams that start with it (an even-length hex prefix ends on a UTF-8 byte,
    and no character's UTF-8 is the start of another's)."""
    token = '"' + gram_token(term) + '"'
    return token + " *" if len(term) == 1 else token


def _pg_short_condition(col: Any, terms: Sequence[str]) -> Any:
    """PostgreSQL: the column's grams (of ``lower(text)``) hold ``lower(term)`` of every term.

    ``ILIKE`` compares ``lower()`` of text and pattern, so this finds its rows;
    the GIN index of migration 0025 is on the same expression."""
    wanted = pg_array([func.lower(literal(t, Text)) for t in terms], type_=Text)
    return func.polycrm_short_grams(col).op("@>")(wanted)


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


class ShortTermMatch(ColumnElement[bool]):
    """One- and two-character terms looked up in the short index (migration 0025):
    ``sqlite`` through its FTS5 table where the database has one, ``postgresql``
    on PostgreSQL, ``fallback`` (the ILIKE conditions) everywhere else."""

    inherit_cache = True
    type = Boolean()
    _is_implicitly_boolean = True
    _traverse_internals = [
        ("short_table", InternalTraversal.dp_string),
        ("sqlite", InternalTraversal.dp_clauseelement),
        ("postgresql", InternalTraversal.dp_clauseelement),
        ("fallback", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, short_table: str, sqlite: Any, postgresql: Any, fallback: Any):
        self.short_table = short_table
        self.sqlite = sqlite
        self.postgresql = postgresql
        self.fallback = fallback


@compiles(ShortTermMatch)
def _compile_short_match(element: ShortTermMatch, compiler: Any, **kw: Any) -> str:
    return compiler.process(Grouping(element.fallback), **kw)


@compiles(ShortTermMatch, "postgresql")
def _compile_short_match_pg(element: ShortTermMatch, compiler: Any, **kw: Any) -> str:
    return compiler.process(Grouping(element.postgresql), **kw)


@compiles(ShortTermMatch, "sqlite")
def _compile_short_match_sqlite(element: ShortTermMatch, compiler: Any, **kw: Any) -> str:
    if element.short_table in fts_tables(compiler.dialect):
        return compiler.process(Grouping(element.sqlite), **kw)
    return compiler.process(Grouping(element.fallback), **kw)
