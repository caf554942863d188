"""customer and product: indexes for the case-insensitive number checks

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25 10:00:00

A customer's or product's number is unique in its tenant compared trimmed and
case-insensitively (``customers.number_holder``, ``by_folded_number``,
``products.number_holder``). The check asks for
``lower(trim(number)) = :folded``, which the plain number indexes cannot
serve, so every write that gave a number (and every Microbizz upsert by a
number not stored as given) read the whole tenant. An index on that exact
expression lets SQLite and PostgreSQL, which both match an indexed
expression to the query's text, find the holder directly.

The folded number comes first, before ``tenant_id``: only a query that asks
for a folded number can use the index. With ``tenant_id`` first SQLite,
planning without statistics, counted a tenant's live customers through it
(reading every row for ``deleted`` and ``active``) instead of through
``ix_customer_live`` (0004).

The customer index is full: ``by_folded_number`` finds deleted customers too
(a live one first). The product index is partial over the live rows, the
only ones products are looked up among by folded number; its WHERE clause is
written the way SQLAlchemy renders ``deleted.is_(False)`` per dialect.

The models declare both indexes with ``models.folded``, the expression the
checks query by, which spells ``trim`` as PostgreSQL reports it back so that
autogenerate finds model and database alike.
"""
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

LIVE = {"sqlite": "deleted IS 0", "postgresql": "deleted IS false"}


def upgrade() -> None:
    where = LIVE.get(op.get_bind().dialect.name)
    clause = f" WHERE {where}" if where else ""
    op.execute("CREATE INDEX IF NOT EXISTS ix_customer_number_folded ON customer (lower(trim(number)), tenant_id)")
    op.execute("CREATE INDEX IF NOT EXISTS ix_product_number_folded ON product "
               f"(lower(trim(number)), tenant_id){clause}")


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_product_number_folded")
    op.execute("DROP INDEX IF EXISTS ix_customer_number_folded")
