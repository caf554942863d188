"""OAuth apps: clients, authorization codes, issued tokens

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-02 17:00:00

See polycrm/oauth/ and docs/integrations.md ("OAuth apps").
"""
from alembic import op
import sqlalchemy as sa

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'oauth_client',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.Column('client_id', sa.String(length=128), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('redirect_uris', sa.JSON(), nullable=False),
        sa.Column('public', sa.Boolean(), nullable=False),
        sa.Column('credential_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('removed_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['credential_id'], ['credential.id'], name=op.f('fk_oauth_client_credential_id_credential'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_oauth_client_tenant_id_tenant'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_oauth_client')),
        sa.UniqueConstraint('client_id', name=op.f('uq_oauth_client_client_id')),
    )
    op.create_index(op.f('ix_oauth_client_tenant_id'), 'oauth_client', ['tenant_id'], unique=False)
    op.create_table(
        'oauth_code',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.Column('client_pk', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('code_hash', sa.String(length=64), nullable=False),
        sa.Column('redirect_uri', sa.String(length=2000), nullable=False),
        sa.Column('code_challenge', sa.String(length=128), nullable=True),
        sa.Column('scope', sa.String(length=500), nullable=True),
        sa.Column('expires_at', sa.DateTime(), nullable=False),
        sa.Column('used_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['client_pk'], ['oauth_client.id'], name=op.f('fk_oauth_code_client_pk_oauth_client'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_oauth_code_tenant_id_tenant'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_oauth_code_user_id_app_user'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_oauth_code')),
        sa.UniqueConstraint('code_hash', name=op.f('uq_oauth_code_code_hash')),
    )
    op.create_index(op.f('ix_oauth_code_tenant_id'), 'oauth_code', ['tenant_id'], unique=False)
    op.create_table(
        'oauth_token',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.Column('credential_id', sa.Integer(), nullable=False),
        sa.Column('client_id', sa.String(length=128), nullable=False),
        sa.Column('client_pk', sa.Integer(), nullable=True),
        sa.Column('token_type', sa.String(length=10), nullable=False),
        sa.Column('scope', sa.String(length=500), nullable=True),
        sa.Column('grant_id', sa.String(length=64), nullable=True),
        sa.Column('code_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['client_pk'], ['oauth_client.id'], name=op.f('fk_oauth_token_client_pk_oauth_client'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['credential_id'], ['credential.id'], name=op.f('fk_oauth_token_credential_id_credential'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_oauth_token_tenant_id_tenant'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_oauth_token')),
        sa.UniqueConstraint('credential_id', name=op.f('uq_oauth_token_credential_id')),
    )
    op.create_index(op.f('ix_oauth_token_client_id'), 'oauth_token', ['client_id'], unique=False)
    op.create_index(op.f('ix_oauth_token_grant_id'), 'oauth_token', ['grant_id'], unique=False)
    op.create_index(op.f('ix_oauth_token_tenant_id'), 'oauth_token', ['tenant_id'], unique=False)


def downgrade() -> None:
    op.drop_table('oauth_token')
    op.drop_table('oauth_code')
    op.drop_table('oauth_client')
