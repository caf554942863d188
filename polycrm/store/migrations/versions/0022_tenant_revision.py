"""tenant.revision: a counter of the tenant's committed writes

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-03 13:00:00

Every transaction that commits a write of a tenant's data adds one to its
tenant's ``revision`` in the same transaction (polycrm/core/revision.py), so
whatever was computed from the tenant's data at revision R (a cached count, a
Cirrus ETag) is current exactly while the stored revision is still R, in every
process on the database. Existing tenants start at 0.
"""
import sqlite3

import sqlalchemy as sa
from alembic import op

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN on both dialects: on SQLite a batch "move and copy" of
    # the tenant table would drop it, and with it (foreign keys on) every row
    # that cascades from it.
    op.add_column("tenant", sa.Column("revision", sa.BigInteger(), nullable=False, server_default="0"))


def downgrade() -> None:
    # ALTER TABLE ... DROP COLUMN needs SQLite 3.35; an older one keeps the column (it has a default).
    if op.get_bind().dialect.name != "sqlite" or sqlite3.sqlite_version_info >= (3, 35):
        op.drop_column("tenant", "revision")
