"""sandbox_journal: the request journal of the admin API (docs/sandbox.md)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 16:20:00

One row per recorded API request, secrets masked, bodies capped
(polycrm/sandbox/journal.py). Read newest first per tenant, hence the
(tenant_id, id) index, which also serves the trimming to the newest N.
"""
import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sandbox_journal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("api", sa.String(length=20), nullable=False),
        sa.Column("operation", sa.String(length=255), nullable=False),
        sa.Column("credential_id", sa.Integer(), nullable=True),
        sa.Column("method", sa.String(length=10), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("duration_ms", sa.Float(), nullable=False),
        sa.Column("request_headers", sa.JSON(), nullable=False),
        sa.Column("request_body", sa.Text(), nullable=False),
        sa.Column("response_headers", sa.JSON(), nullable=False),
        sa.Column("response_body", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenant.id"], name=op.f("fk_sandbox_journal_tenant_id_tenant"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sandbox_journal")),
    )
    op.create_index("ix_sandbox_journal_tenant", "sandbox_journal", ["tenant_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_sandbox_journal_tenant", table_name="sandbox_journal")
    op.drop_table("sandbox_journal")
