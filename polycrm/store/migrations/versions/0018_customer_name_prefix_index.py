"""customer: an index for name prefix filters on PostgreSQL

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02 16:10:00

``name=Company 99%`` (a Cirrus account list filter) is a case-insensitive
``LIKE`` with a literal prefix. ``polycrm.core.query.prefix`` adds to it a
condition an index can serve: on SQLite a range on ``name_folded``, which
``ix_customer_name`` already indexes; on PostgreSQL
``lower(name) LIKE lower(:pattern)``, which needs this expression index with
``text_pattern_ops`` (the database's collation need not sort bytewise, the
pattern operator class does). Nothing to do on SQLite.

Like the trigram indexes of 0002 and 0008 it is dialect-specific and not in
the models; ``env.py`` keeps autogenerate away from it.
"""
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

INDEX = "ix_customer_name_prefix"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE INDEX IF NOT EXISTS {INDEX} ON customer (tenant_id, lower(name) text_pattern_ops)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP INDEX IF EXISTS {INDEX}")
