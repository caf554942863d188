"""customer.billing_name and product.sku: dropped, no API reads or writes them

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 19:00:00

centiaCRM's ``billing_name`` is the invoice address's name and its ``sku`` the
product number (docs/centiacrm.md); 0003 moved what the old columns held. The
columns are dropped with a plain ``ALTER TABLE ... DROP COLUMN``: SQLite has it
since 3.35, and neither column is in an index or in the customer FTS triggers
(0002), so the table is not rebuilt and the triggers stay. On an older SQLite
the columns are left in place: nullable and unmapped, they are never written.
"""
import sqlite3

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

COLUMNS = (("customer", "billing_name", 255), ("product", "sku", 100))


def _can_drop() -> bool:
    return op.get_bind().dialect.name != "sqlite" or sqlite3.sqlite_version_info >= (3, 35)


def upgrade() -> None:
    if _can_drop():
        for table, column, _ in COLUMNS:
            op.drop_column(table, column)


def downgrade() -> None:
    if _can_drop():
        for table, column, length in COLUMNS:
            op.add_column(table, sa.Column(column, sa.String(length), nullable=True))
