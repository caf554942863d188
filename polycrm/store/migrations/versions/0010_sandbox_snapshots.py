"""sandbox_snapshot: saved tenant states for the admin API (docs/sandbox.md)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 16:00:00

One row per snapshot: the tenant's rows of every tenant-scoped table as one
compressed JSON document (polycrm/sandbox/snapshots.py). Existing tenants get
no "initial" snapshot here (a reset to "empty" tells them so); the tenants
made from now on get theirs when they are created.
"""
import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sandbox_snapshot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenant.id"], name=op.f("fk_sandbox_snapshot_tenant_id_tenant"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sandbox_snapshot")),
        sa.UniqueConstraint("tenant_id", "name", name=op.f("uq_sandbox_snapshot_tenant_id")),
    )


def downgrade() -> None:
    op.drop_table("sandbox_snapshot")
