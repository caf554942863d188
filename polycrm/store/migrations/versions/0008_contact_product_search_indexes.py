"""contact and product search indexes: trigram text search, as 0002 for customers

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24 10:00:00

Contacts and products have a folded ``search_text`` (Cirrus ``fulltext``,
centiaCRM ``query``, the web search) that every search scanned with LIKE.
This gives them what 0002 gave ``customer.search_text``:

- SQLite: ``contact_fts`` and ``product_fts``, FTS5 tables with the
  ``trigram`` tokenizer (external content), kept current by three triggers
  each. A search term of three or more characters is looked up there
  (``polycrm.core.query.fulltext``). Skipped, with the search falling back to
  LIKE, when the SQLite library has no FTS5 or no trigram tokenizer.
- PostgreSQL: a GIN trigram index on each ``search_text`` (pg_trgm), which
  ``ILIKE '%term%'`` uses as it is. Skipped when the extension is not
  available or may not be created.

As with 0002, neither is in the models' metadata (``env.py`` keeps
autogenerate away from them), and a later migration that recreates the
``contact`` or ``product`` table on SQLite must create the triggers again.
"""
from alembic import op
from sqlalchemy.exc import DBAPIError

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

TABLES = ("contact", "product")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in TABLES:
        if dialect == "sqlite":
            create_sqlite_fts(table)
        elif dialect == "postgresql":
            create_pg_trigram_index(table)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in TABLES:
        if dialect == "sqlite":
            for name in _triggers(table):
                op.execute(f"DROP TRIGGER IF EXISTS {name}")
            op.execute(f"DROP TABLE IF EXISTS {table}_fts")
        elif dialect == "postgresql":
            op.execute(f"DROP INDEX IF EXISTS ix_{table}_search_trgm")


def _triggers(table: str) -> tuple[str, str, str]:
    return f"{table}_fts_insert", f"{table}_fts_delete", f"{table}_fts_update"


def _try(statement: str) -> bool:
    """Run one statement in a savepoint; False (and nothing changed) if the database refuses it."""
    bind = op.get_bind()
    try:
        with bind.begin_nested():
            bind.exec_driver_sql(statement)
    except DBAPIError:
        return False
    return True


def create_sqlite_fts(table: str) -> None:
    """The trigram FTS5 table over ``table.search_text``, its triggers and its contents."""
    fts = f"{table}_fts"
    if not _try(f"CREATE VIRTUAL TABLE IF NOT EXISTS {fts} USING fts5("
                f"search_text, content='{table}', content_rowid='id', tokenize='trigram')"):
        return  # no FTS5 or no trigram tokenizer: the search keeps using LIKE
    insert = f"INSERT INTO {fts}(rowid, search_text) VALUES (new.id, new.search_text);"
    delete = f"INSERT INTO {fts}({fts}, rowid, search_text) VALUES ('delete', old.id, old.search_text);"
    on_insert, on_delete, on_update = _triggers(table)
    op.execute(f"CREATE TRIGGER IF NOT EXISTS {on_insert} AFTER INSERT ON {table} BEGIN {insert} END")
    op.execute(f"CREATE TRIGGER IF NOT EXISTS {on_delete} AFTER DELETE ON {table} BEGIN {delete} END")
    op.execute(f"CREATE TRIGGER IF NOT EXISTS {on_update} AFTER UPDATE OF id, search_text ON {table} "
               f"BEGIN {delete} {insert} END")
    op.execute(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")


def create_pg_trigram_index(table: str) -> None:
    """pg_trgm and a GIN trigram index on ``table.search_text``, where the server allows it."""
    bind = op.get_bind()
    installed = bind.exec_driver_sql("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'").first()
    if not installed and not _try("CREATE EXTENSION IF NOT EXISTS pg_trgm"):
        return  # not installed on the server, or no right to create it: ILIKE without the index
    op.execute(f"CREATE INDEX IF NOT EXISTS ix_{table}_search_trgm ON {table} USING gin (search_text gin_trgm_ops)")
