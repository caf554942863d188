"""field_change: field-level history of the main records

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 16:10:00

One row per changed field of a customer, contact, product, activity,
opportunity, quote, order or ticket: who, when, old -> new, through which
API or page (polycrm/core/history.py, docs/web.md).
"""
import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "field_change",
        sa.Column("entity", sa.String(length=40), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("field", sa.String(length=255), nullable=False),
        sa.Column("old_value", sa.Text(), nullable=True),
        sa.Column("new_value", sa.Text(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("changed_at", sa.DateTime(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenant.id"], name=op.f("fk_field_change_tenant_id_tenant"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_field_change")),
    )
    op.create_index("ix_field_change_record", "field_change", ["tenant_id", "entity", "record_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_field_change_record", table_name="field_change")
    op.drop_table("field_change")
