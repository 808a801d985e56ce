"""API: ``api_tokens`` (tenant, role, label, SHA-256 of the secret, revocation).

Revision ID: 17a91c0de0a1
Revises: 1d3b7e5a9c20
Create Date: 2026-11-30 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = '17a91c0de0a1'
down_revision: str | None = '16a7c0519e11'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'api_tokens',
        sa.Column('token_id', sa.String(length=32), nullable=False),
        sa.Column('tenant_id', sa.String(length=63), nullable=False),
        sa.Column('role', sa.String(length=16), nullable=False),
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('secret_sha256', sa.LargeBinary(length=32), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'),
                  nullable=False),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('token_id', name=op.f('pk_api_tokens')),
    )
    op.create_index('ix_api_tokens_tenant', 'api_tokens', ['tenant_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_api_tokens_tenant', table_name='api_tokens')
    op.drop_table('api_tokens')
