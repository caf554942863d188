"""integration platform: webhooks, the outbox and the delivery log

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 16:00:00

See polycrm/platform/models.py and docs/integrations.md.
"""
from alembic import op
import sqlalchemy as sa

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'webhook',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.Column('api', sa.String(length=20), nullable=False),
        sa.Column('url', sa.String(length=2000), nullable=False),
        sa.Column('events', sa.JSON(), nullable=False),
        sa.Column('secret', sa.String(length=200), nullable=False),
        sa.Column('hook', sa.String(length=80), nullable=True),
        sa.Column('credential_id', sa.Integer(), nullable=True),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('disabled_reason', sa.String(length=200), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['credential_id'], ['credential.id'], name=op.f('fk_webhook_credential_id_credential'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_webhook_tenant_id_tenant'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook')),
    )
    op.create_index(op.f('ix_webhook_tenant_id'), 'webhook', ['tenant_id'], unique=False)
    op.create_table(
        'outbox_event',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.Column('entity', sa.String(length=40), nullable=False),
        sa.Column('record_id', sa.Integer(), nullable=False),
        sa.Column('op', sa.String(length=10), nullable=False),
        sa.Column('changes', sa.JSON(), nullable=False),
        sa.Column('snapshot', sa.JSON(), nullable=False),
        sa.Column('quiet_credential_id', sa.Integer(), nullable=True),
        sa.Column('dispatched', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_outbox_event_tenant_id_tenant'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_event')),
    )
    op.create_index('ix_outbox_event_pending', 'outbox_event', ['dispatched', 'id'], unique=False)
    op.create_index(op.f('ix_outbox_event_tenant_id'), 'outbox_event', ['tenant_id'], unique=False)
    op.create_table(
        'webhook_delivery',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.Column('webhook_id', sa.Integer(), nullable=False),
        sa.Column('event_id', sa.Integer(), nullable=True),
        sa.Column('event', sa.String(length=60), nullable=False),
        sa.Column('record_key', sa.String(length=60), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('last_status', sa.Integer(), nullable=True),
        sa.Column('response_excerpt', sa.Text(), nullable=True),
        sa.Column('next_try_at', sa.DateTime(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('delivered_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_webhook_delivery_tenant_id_tenant'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['webhook_id'], ['webhook.id'], name=op.f('fk_webhook_delivery_webhook_id_webhook'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_delivery')),
    )
    op.create_index('ix_webhook_delivery_due', 'webhook_delivery', ['status', 'next_try_at'], unique=False)
    op.create_index('ix_webhook_delivery_order', 'webhook_delivery', ['webhook_id', 'record_key', 'id'], unique=False)
    op.create_index('ix_webhook_delivery_tenant', 'webhook_delivery', ['tenant_id', 'id'], unique=False)


def downgrade() -> None:
    op.drop_table('webhook_delivery')
    op.drop_table('outbox_event')
    op.drop_table('webhook')
