"""customer: an index for sorting account numbers as numbers

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 19:50:00

Cirrus ``sorting=number_asc`` (and ``_desc``) orders accounts by
``length(coalesce(number, ''))``, then ``coalesce(number, '')``, then id, so
that numbers sort as numbers. With no index on those expressions every page
sorted the whole tenant (2.8x slower at 100,000 accounts than at 10,000);
with one, a page is a walk of the index's first rows. Both SQLite and
PostgreSQL match the query's expressions to the index's text.

The index is partial, over the live, active rows that Cirrus lists by
default (the rows of ``ix_customer_live``, 0004). A full index was tried
first: SQLite, planning without statistics, then counted a tenant's live
customers through it, reading every row for ``deleted`` and ``active``
(71 ms instead of 12 at 100,000), and the list by name lost what the sort by
number gained. Over the same rows as ``ix_customer_live``, a count reads
either index alone, and a lookup by number or name, whose index matches more
of the query, is never planned through it. The WHERE clause is written the
way SQLAlchemy renders ``deleted.is_(False)`` and ``active.is_(True)``.
"""
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

LIVE = {"sqlite": "deleted IS 0 AND active IS 1", "postgresql": "deleted IS false AND active IS true"}


def upgrade() -> None:
    where = LIVE.get(op.get_bind().dialect.name)
    clause = f" WHERE {where}" if where else ""
    op.execute("CREATE INDEX IF NOT EXISTS ix_customer_number_sort ON customer "
               f"(tenant_id, length(coalesce(number, '')), coalesce(number, ''), id){clause}")


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_customer_number_sort")
