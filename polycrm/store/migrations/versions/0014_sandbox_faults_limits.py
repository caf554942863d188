"""sandbox_fault, sandbox_limit, sandbox_rate: injected faults and emulated rate limits

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 16:40:00

Kept in the database, not in the server's memory, so every process of a
server applies the same rules and counts against the same limits
(polycrm/sandbox/faults.py, polycrm/sandbox/limits.py, docs/sandbox.md).
"""
import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sandbox_fault",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("rule", sa.JSON(), nullable=False),
        sa.Column("matched", sa.Integer(), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenant.id"], name=op.f("fk_sandbox_fault_tenant_id_tenant"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sandbox_fault")),
    )
    op.create_index("ix_sandbox_fault_tenant", "sandbox_fault", ["tenant_id", "position"])
    op.create_table(
        "sandbox_limit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("api", sa.String(length=20), nullable=False),
        sa.Column("per_second", sa.Float(), nullable=True),
        sa.Column("per_minute", sa.Integer(), nullable=True),
        sa.Column("burst", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenant.id"], name=op.f("fk_sandbox_limit_tenant_id_tenant"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sandbox_limit")),
        sa.UniqueConstraint("tenant_id", "api", name=op.f("uq_sandbox_limit_tenant_id")),
    )
    op.create_table(
        "sandbox_rate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("limit_id", sa.Integer(), nullable=False),
        sa.Column("credential_id", sa.Integer(), nullable=False),
        sa.Column("tokens", sa.Float(), nullable=False),
        sa.Column("refilled_at", sa.Float(), nullable=False),
        sa.Column("minute", sa.Integer(), nullable=False),
        sa.Column("minute_count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["limit_id"], ["sandbox_limit.id"], name=op.f("fk_sandbox_rate_limit_id_sandbox_limit"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sandbox_rate")),
        sa.UniqueConstraint("limit_id", "credential_id", name=op.f("uq_sandbox_rate_limit_id")),
    )


def downgrade() -> None:
    op.drop_table("sandbox_rate")
    op.drop_table("sandbox_limit")
    op.drop_index("ix_sandbox_fault_tenant", table_name="sandbox_fault")
    op.drop_table("sandbox_fault")
