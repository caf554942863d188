"""customer search indexes: trigram text search, live-row count index

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 16:30:00

- ``ix_customer_live (tenant_id, deleted, active)``: counting a tenant's live
  (active) customers reads this index alone instead of every row.
- SQLite: ``customer_fts``, an FTS5 table with the ``trigram`` tokenizer over
  ``customer.search_text`` (external content: it stores only the index and
  reads the text from ``customer``), kept current by three triggers. A
  ``fulltext`` term of three or more characters is looked up there
  (``polycrm.core.query``). Skipped, with the search falling back to LIKE, when
  the SQLite library has no FTS5 or no trigram tokenizer (before 3.34).
- PostgreSQL: the ``pg_trgm`` extension and a GIN trigram index on
  ``customer.search_text``, which ``ILIKE '%term%'`` uses as it is. Skipped when
  the extension is not available or may not be created.

Neither the FTS table, its triggers nor the GIN index are in the models'
metadata (they depend on the dialect and on what the server offers);
``env.py`` keeps autogenerate away from them. A later migration that
recreates the ``customer`` table on SQLite (a batch "move and copy") drops the
triggers with it and must call :func:`create_sqlite_fts` again.
"""
from alembic import op
from sqlalchemy.exc import DBAPIError

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

FTS_TABLE = "customer_fts"
TRIGGERS = ("customer_fts_insert", "customer_fts_delete", "customer_fts_update")
PG_INDEX = "ix_customer_search_trgm"


def upgrade() -> None:
    op.execute("CREATE INDEX IF NOT EXISTS ix_customer_live ON customer (tenant_id, deleted, active)")
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        create_sqlite_fts()
    elif dialect == "postgresql":
        create_pg_trigram_index()


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name in TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute(f"DROP TABLE IF EXISTS {FTS_TABLE}")
    elif dialect == "postgresql":
        op.execute(f"DROP INDEX IF EXISTS {PG_INDEX}")
    op.execute("DROP INDEX IF EXISTS ix_customer_live")


def _try(statement: str) -> bool:
    """Run one statement in a savepoint; False (and nothing changed) if the database refuses it."""
    bind = op.get_bind()
    try:
        with bind.begin_nested():
            bind.exec_driver_sql(statement)
    except DBAPIError:
        return False
    return True


def create_sqlite_fts() -> None:
    """The trigram FTS5 table over customer.search_text, its triggers and its contents."""
    if not _try(f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5("
                f"search_text, content='customer', content_rowid='id', tokenize='trigram')"):
        return  # no FTS5 or no trigram tokenizer: fulltext keeps using LIKE
    insert = f"INSERT INTO {FTS_TABLE}(rowid, search_text) VALUES (new.id, new.search_text);"
    delete = f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, search_text) VALUES ('delete', old.id, old.search_text);"
    op.execute(f"CREATE TRIGGER IF NOT EXISTS customer_fts_insert AFTER INSERT ON customer BEGIN {insert} END")
    op.execute(f"CREATE TRIGGER IF NOT EXISTS customer_fts_delete AFTER DELETE ON customer BEGIN {delete} END")
    op.execute(f"CREATE TRIGGER IF NOT EXISTS customer_fts_update AFTER UPDATE OF id, search_text ON customer "
               f"BEGIN {delete} {insert} END")
    op.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')")


def create_pg_trigram_index() -> None:
    """pg_trgm and a GIN trigram index on customer.search_text, where the server allows it."""
    bind = op.get_bind()
    installed = bind.exec_driver_sql("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'").first()
    if not installed and not _try("CREATE EXTENSION IF NOT EXISTS pg_trgm"):
        return  # not installed on the server, or no right to create it: ILIKE without the index
    op.execute(f"CREATE INDEX IF NOT EXISTS {PG_INDEX} ON customer USING gin (search_text gin_trgm_ops)")
