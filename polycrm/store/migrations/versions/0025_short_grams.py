"""search indexes for 1- and 2-character terms of the text searches

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-03 10:30:00

A trigram index (0002, 0008) finds only terms of three or more characters;
a ``fulltext`` term of one or two characters (Cirrus ``fulltext``, centiaCRM
``query``, the web search) scanned every row of the tenant. These index every
one- and two-character substring ("gram") of each folded ``search_text`` of
customers, contacts and products, so a short term is an index lookup on both
databases with the same matching as before (the term occurs in the text):

- SQLite: ``<table>_short``, a contentless FTS5 table (``detail=none``: row
  ids only) whose tokens are the hex UTF-8 of the two-character gram at each
  position (one character at the last), kept by three triggers that cut the
  grams with ``substr`` over the positions in ``search_position`` (1 ..
  :data:`INDEXED_CHARS`). A two-character term is its gram's token; a
  one-character term is the prefix query of its token, since every character
  of a text starts the gram of its position (UTF-8 being a prefix code, the
  tokens with that hex prefix are exactly the grams that start with it). One-
  character grams were measured as well: twice the write cost per row
  (about 100 against 50 us in a trigger) for one-character lookups that are
  faster only where the term is in most rows. A text longer than that is
  also found through the small partial index ``ix_<table>_long_search``, which
  the search scans for its long rows. Skipped (the search scanning as before)
  when the library has no FTS5.
- PostgreSQL: ``polycrm_short_grams(text)``, the one- and two-character
  grams of ``lower(text)`` (an immutable SQL function), and a GIN index on it per
  table, which ``polycrm_short_grams(search_text) @> ARRAY[lower(term)]`` uses
  (``ILIKE`` compares ``lower()`` of both sides).

None of this is in the models' metadata; ``env.py`` keeps autogenerate away.
A later migration that recreates one of these tables on SQLite must call
:func:`create_sqlite_short_index` again (its triggers go with the table).
"""
from alembic import op
from sqlalchemy.exc import DBAPIError

revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None

TABLES = ("customer", "contact", "product")
POSITIONS = "search_position"
# Characters of a text that the SQLite triggers cut grams from; longer texts
# (far beyond any customer's, but allowed) are scanned through their partial index.
INDEXED_CHARS = 1024


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        if not _try(f"CREATE VIRTUAL TABLE IF NOT EXISTS polycrm_fts5_probe USING fts5(x)"):
            return  # no FTS5: short terms keep scanning
        op.execute("DROP TABLE polycrm_fts5_probe")
        op.execute(f"CREATE TABLE IF NOT EXISTS {POSITIONS} (n INTEGER PRIMARY KEY)")
        op.execute(f"WITH RECURSIVE p(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM p WHERE n < {INDEXED_CHARS}) "
                   f"INSERT OR IGNORE INTO {POSITIONS} (n) SELECT n FROM p")
        for table in TABLES:
            create_sqlite_short_index(table)
    elif dialect == "postgresql":
        op.execute(PG_GRAMS_FUNCTION)
        for table in TABLES:
            op.execute(f"CREATE INDEX IF NOT EXISTS ix_{table}_search_short ON {table} "
                       f"USING gin (polycrm_short_grams(search_text))")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in TABLES:
        if dialect == "sqlite":
            for name in _triggers(table):
                op.execute(f"DROP TRIGGER IF EXISTS {name}")
            op.execute(f"DROP TABLE IF EXISTS {table}_short")
            op.execute(f"DROP INDEX IF EXISTS ix_{table}_long_search")
        elif dialect == "postgresql":
            op.execute(f"DROP INDEX IF EXISTS ix_{table}_search_short")
    if dialect == "sqlite":
        op.execute(f"DROP TABLE IF EXISTS {POSITIONS}")
    elif dialect == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS polycrm_short_grams(text)")


# The characters of lower(t) (string_to_array with no delimiter), then its two-character
# grams. Not made distinct: GIN keeps each key of a row once, and sorting them here cost
# six times the rest (10,000 customers: 20.3 s against 3.4 s under load).
PG_GRAMS_FUNCTION = """
CREATE OR REPLACE FUNCTION polycrm_short_grams(t text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT string_to_array(l, NULL) || ARRAY(SELECT substr(l, i, 2) FROM generate_series(1, length(l) - 1) AS i)
  FROM lower(t) AS l
$$
"""


def _triggers(table: str) -> tuple[str, str, str]:
    return f"{table}_short_insert", f"{table}_short_delete", f"{table}_short_update"


def _try(statement: str) -> bool:
    """Run one statement in a savepoint; False (and nothing changed) if the database refuses it."""
    bind = op.get_bind()
    try:
        with bind.begin_nested():
            bind.exec_driver_sql(statement)
    except DBAPIError:
        return False
    return True


def grams_select(text: str, row_id: str) -> str:
    """SELECT of (row id, the grams of ``text`` as FTS tokens) for the short index.

    Each position gives its two-character gram (one character at the end), as
    the hex of its UTF-8 (hex digits are tokens to every tokenizer; UTF-8
    decodes one way, so no two grams share a token). An aggregate of no rows is
    one row: an empty text gets its (empty) row too. ``polycrm.store.index_fill``
    fills with the same expression."""
    return f"SELECT {row_id}, {_tokens(text)} FROM {POSITIONS} WHERE n <= length({text})"


def create_sqlite_short_index(table: str) -> None:
    """The short-gram FTS5 table over ``table.search_text``, its triggers, its long-text index and contents."""
    short = f"{table}_short"
    existed = op.get_bind().exec_driver_sql(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?", (short,)).scalar()
    op.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS {short} USING fts5("
               f"grams, content='', detail='none', columnsize=0, tokenize='ascii')")
    insert = f"INSERT INTO {short}(rowid, grams) {grams_select('new.search_text', 'new.id')};"
    delete = f"INSERT INTO {short}({short}, rowid, grams) {_deleted('old.search_text', 'old.id', short)};"
    on_insert, on_delete, on_update = _triggers(table)
    op.execute(f"CREATE TRIGGER IF NOT EXISTS {on_insert} AFTER INSERT ON {table} BEGIN {insert} END")
    op.execute(f"CREATE TRIGGER IF NOT EXISTS {on_delete} AFTER DELETE ON {table} BEGIN {delete} END")
    op.execute(f"CREATE TRIGGER IF NOT EXISTS {on_update} AFTER UPDATE OF id, search_text ON {table} "
               f"BEGIN {delete} {insert} END")
    op.execute(f"CREATE INDEX IF NOT EXISTS ix_{table}_long_search ON {table} (id) "
               f"WHERE length(search_text) > {INDEXED_CHARS}")
    if not existed:  # an index that is there already holds its rows: filling it again would double them
        op.execute(f"INSERT INTO {short}(rowid, grams) SELECT t.id, "
                   f"(SELECT {_tokens('t.search_text')} FROM {POSITIONS} WHERE n <= length(t.search_text)) "
                   f"FROM {table} AS t")


def _deleted(text: str, row_id: str, short: str) -> str:
    # A contentless table forgets a row given the very tokens it was given.
    return f"SELECT 'delete', {row_id}, {_tokens(text)} FROM {POSITIONS} WHERE n <= length({text})"


def _tokens(text: str) -> str:
    return f"group_concat(hex(substr({text}, n, 2)), ' ')"
