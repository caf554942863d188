"""login_throttle: failed password and secret checks per account and address

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 16:30:00

One row per key (``account:<realm>:<login>`` or ``address:<ip>``) with its
count of failures, the time of the last one and until when the key is
blocked, as seconds since the epoch (polycrm/core/throttle.py,
docs/security.md). Web sessions need no table of their own: they are
credential rows of kind ``web.session``.
"""
import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_throttle",
        sa.Column("key", sa.String(length=320), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure", sa.Float(), nullable=False),
        sa.Column("blocked_until", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_login_throttle")),
    )


def downgrade() -> None:
    op.drop_table("login_throttle")
