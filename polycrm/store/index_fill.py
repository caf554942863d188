"""Filling a SQLite table's indexes that triggers keep, for many new rows at once.

The FTS5 trigram index (migrations 0002, 0008) and the short-gram index (0025)
of ``customer``, ``contact`` and ``product``, and the customers' R*Tree of
points (0021), are kept by per-row triggers. A writer that inserts many rows
in one transaction (``polycrm load``, a snapshot restore) sets the insert
triggers aside, inserts, indexes the new rows in one statement per index and
creates the triggers again from their own SQL. SQLite's DDL is transactional
and the writer holds the write lock: no other connection writes a row
meanwhile, and a rollback brings the triggers back.

The set-wise statements must give each row exactly what its trigger would (a
contentless FTS5 table forgets a row only given the same tokens):
:func:`short_grams` is the expression of migration 0025's triggers, and a test
holds the two together.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from polycrm.store.engine import SHORT_POSITIONS

# The characters of a text the short index holds (migration 0025's INDEXED_CHARS).
SHORT_INDEXED_CHARS = 1024


def short_grams(text: str) -> str:
    """SQL of the short index's tokens of ``text`` over the positions ``n`` (migration 0025):
    each position's two-character gram (one character at the end) as the hex of its UTF-8."""
    return f"group_concat(hex(substr({text}, n, 2)), ' ')"


@dataclass(frozen=True)
class SetAside:
    """An index's insert trigger, dropped for a bulk insert: its SQL, the statement
    that indexes the rows of the table matching a condition on ``t`` instead, and
    the FTS5 table it feeds (None for the R*Tree)."""

    trigger: str
    sql: str
    fill: str
    fts_table: str | None


def _fts_fill(conn: Any, table: str) -> str:
    fts = f"{table}_fts"
    # An external-content FTS5 table's columns are the content table's, by name.
    names = [r[1] for r in conn.exec_driver_sql(f'PRAGMA table_info("{fts}")')]
    columns = ", ".join(f'"{n}"' for n in names)
    picked = ", ".join(f't."{n}"' for n in names)
    return f'INSERT INTO "{fts}"(rowid, {columns}) SELECT t.id, {picked} FROM "{table}" AS t WHERE {{where}}'


def _short_fill(conn: Any, table: str) -> str:
    # The trigger's subquery per row (it gives an empty text its row too, as the trigger
    # does); 0.9x the CPU of a join over the positions grouped by row.
    return (f'INSERT INTO "{table}_short"(rowid, grams) SELECT t.id, (SELECT {short_grams("t.search_text")} '
            f'FROM {SHORT_POSITIONS} WHERE n <= length(t.search_text)) FROM "{table}" AS t WHERE {{where}}')


def _geo_fill(conn: Any, table: str) -> str:
    # As the trigger of migration 0021: customers with both coordinates.
    return ("INSERT INTO customer_geo SELECT t.id, t.latitude, t.latitude, t.longitude, t.longitude "
            "FROM customer AS t WHERE ({where}) AND t.latitude IS NOT NULL AND t.longitude IS NOT NULL")


def _kinds(table: str) -> dict[str, tuple[Any, str | None]]:
    """The insert triggers a table may have that only add the new row to an index:
    name -> (the fill statement's maker, the FTS5 table)."""
    found = {f"{table}_fts_insert": (_fts_fill, f"{table}_fts"),
             f"{table}_short_insert": (_short_fill, f"{table}_short")}
    if table == "customer":
        found["customer_geo_insert"] = (_geo_fill, None)
    return found


def set_aside(conn: Any, table: str) -> list[SetAside]:
    """Drop the index insert triggers of ``table`` (those this database has, in the
    order they were made) and return what :func:`fill` and :func:`put_back` need."""
    kinds = _kinds(table)
    marks = ", ".join("?" * len(kinds))
    found = conn.exec_driver_sql(
        f"SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name IN ({marks}) ORDER BY rowid",
        tuple(kinds)).all()
    aside = []
    for name, sql in found:
        make, fts_table = kinds[name]
        aside.append(SetAside(name, sql, make(conn, table), fts_table))
        conn.exec_driver_sql(f'DROP TRIGGER "{name}"')
    return aside


def fill(conn: Any, aside: list[SetAside], where: str, params: tuple,
         texts: list[tuple[int, str]] | None = None) -> None:
    """Index the rows ``t`` of the table that match ``where`` (SQL with ``?`` for ``params``).

    ``texts``: those rows' (id, search_text) when the caller has them at hand (the
    load): the short-gram index then gets its tokens from :func:`short_tokens`,
    about half the CPU of cutting them in SQL (43 against 20 us per customer)."""
    for sql, values in fill_statements(aside, where, params, texts):
        conn.exec_driver_sql(sql, values)


def fill_statements(aside: list[SetAside], where: str, params: tuple,
                    texts: list[tuple[int, str]] | None = None) -> list[tuple[str, tuple]]:
    """What :func:`fill` runs: one statement (and its parameters) per index, each a
    single step for SQLite. The short grams cut in Python go in as one JSON array
    read with ``json_each`` rather than an ``executemany`` row by row, so that a
    bulk load can run the statements in a thread of their own: SQLite works on
    them without Python's lock, while a row-by-row ``executemany`` takes it back
    for every row."""
    statements = []
    for index in aside:
        if texts is not None and index.trigger.endswith("_short_insert"):
            grams = orjson.dumps([(row_id, short_tokens(text)) for row_id, text in texts]).decode()
            statements.append((f'INSERT INTO "{index.fts_table}"(rowid, grams) '
                               "SELECT value ->> 0, value ->> 1 FROM json_each(?)", (grams,)))
        else:
            statements.append((index.fill.format(where=where), params))
    return statements


class _Spread(dict):
    """Code point -> its character's UTF-8 as SQLite's hex() gives it, twice, with a blank
    between ("C3B6 C3B6"), made as met."""

    def __missing__(self, code: int) -> str:
        hexed = chr(code).encode("utf-8").hex().upper()
        self[code] = spread = f"{hexed} {hexed}"
        return spread


_SPREAD = _Spread()


def short_tokens(text: str) -> str | None:
    """What :func:`short_grams` gives for ``text`` (a stored text: no NUL, no lone
    surrogate, which the core refuses; SQLite would end or mangle it there), in
    Python: the grams at the first ``SHORT_INDEXED_CHARS`` positions, None for ''."""
    text = text[:SHORT_INDEXED_CHARS + 1]  # the gram at the last position is two characters long
    if not text:
        return None
    # Each character becomes "H H" (H its hex), so the text becomes "H0 H0H1 H1H2 ... Hn":
    # after the first blank, each position's two-character gram and the last character's
    # one, made in one str.translate (C) instead of a string per gram (half the time).
    spread = text.translate(_SPREAD)
    grams = spread[spread.index(" ") + 1:]
    if len(text) > SHORT_INDEXED_CHARS:
        grams = grams[:grams.rindex(" ")]  # no one-character gram after the indexed positions
    return grams


def put_back(conn: Any, aside: list[SetAside]) -> None:
    """Create the set-aside triggers again, as they were, in the order they were made."""
    for index in aside:
        conn.exec_driver_sql(index.sql)
