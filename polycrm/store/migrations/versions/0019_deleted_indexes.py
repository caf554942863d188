"""ix_<table>_deleted: the few deleted rows of each listed kind

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02 16:15:00

A list counts its live rows as all the tenant's rows (from any tenant index)
less the deleted ones (from these small partial indexes) instead of reading
every row to test ``deleted`` (core.query.listing.live_count, docs/web.md).
Partial on "deleted IS true", so no query for live rows can pick one by mistake.
"""
import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

DELETED_INDEXED = ("customer", "contact", "product", "activity", "opportunity", "quote", "ticket")


def upgrade() -> None:
    for table in DELETED_INDEXED:
        op.create_index(f"ix_{table}_deleted", table, ["tenant_id"],
                        sqlite_where=sa.text("deleted IS 1"), postgresql_where=sa.text("deleted IS true"))


def downgrade() -> None:
    for table in DELETED_INDEXED:
        op.drop_index(f"ix_{table}_deleted", table_name=table)
