"""sandbox_idempotency: Idempotency-Key on Cirrus and centiaCRM writes

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 17:00:00

One row per (tenant, caller, key): the request body's fingerprint and the
first answer, replayed for 24 hours (polycrm/sandbox/idempotency.py).
"""
import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sandbox_idempotency",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("caller", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("headers", sa.JSON(), nullable=True),
        sa.Column("body", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenant.id"], name=op.f("fk_sandbox_idempotency_tenant_id_tenant"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sandbox_idempotency")),
        sa.UniqueConstraint("tenant_id", "caller", "key", name=op.f("uq_sandbox_idempotency_tenant_id")),
    )


def downgrade() -> None:
    op.drop_table("sandbox_idempotency")
