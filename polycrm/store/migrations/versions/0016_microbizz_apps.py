"""Microbizz app platform: registered apps and their connections

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 16:10:00

See polycrm/platform/apps.py and docs/integrations.md.
"""
from alembic import op
import sqlalchemy as sa

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'microbizz_app',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.Column('publicid', sa.String(length=100), nullable=False),
        sa.Column('secret', sa.String(length=200), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_microbizz_app_tenant_id_tenant'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_microbizz_app')),
        sa.UniqueConstraint('tenant_id', 'publicid', name=op.f('uq_microbizz_app_tenant_id')),
    )
    op.create_table(
        'app_connection',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.Column('app_id', sa.Integer(), nullable=False),
        sa.Column('credential_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('accesstoken', sa.String(length=200), nullable=False),
        sa.Column('hooks', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('disconnected_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['app_id'], ['microbizz_app.id'], name=op.f('fk_app_connection_app_id_microbizz_app'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['credential_id'], ['credential.id'], name=op.f('fk_app_connection_credential_id_credential'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_app_connection_tenant_id_tenant'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_app_connection')),
    )
    op.create_index(op.f('ix_app_connection_tenant_id'), 'app_connection', ['tenant_id'], unique=False)


def downgrade() -> None:
    op.drop_table('app_connection')
    op.drop_table('microbizz_app')
