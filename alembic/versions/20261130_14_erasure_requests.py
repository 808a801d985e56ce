"""erasure: requests and per-store status (issue 14)

Revision ID: e14a5e0f7c01
Revises: 1d3b7e5a9c20
Create Date: 2026-11-30 17:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from alembic import op

revision: str = 'e14a5e0f7c01'
down_revision: str | None = 'c12a0e5e0b11'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'erasure_requests',
        sa.Column('request_id', sa.String(length=36), nullable=False),
        sa.Column('tenant_id', sa.String(length=63), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('subject_digest', sa.String(length=64), nullable=False),
        sa.Column('identifiers', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column('sessions', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.Column('identifiers_ct', sa.LargeBinary(), nullable=True),
        sa.Column('identifiers_key', sa.LargeBinary(), nullable=True),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('extension_reason', sa.Text(), nullable=True),
        sa.Column('requested_position', sa.BigInteger(), nullable=True),
        sa.Column('closed_position', sa.BigInteger(), nullable=True),
        sa.Column('closed_event_id', sa.String(length=36), nullable=True),
        sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('refused_reason', sa.Text(), nullable=True),
        sa.Column('residue', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'),
                  nullable=False),
        sa.PrimaryKeyConstraint('request_id', name=op.f('pk_erasure_requests')),
    )
    op.create_index('ix_erasure_requests_tenant_status', 'erasure_requests',
                    ['tenant_id', 'status'], unique=False)
    op.create_table(
        'erasure_stores',
        sa.Column('request_id', sa.String(length=36), nullable=False),
        sa.Column('store', sa.String(length=32), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('deleted', sa.BigInteger(), nullable=False),
        sa.Column('shredded', sa.BigInteger(), nullable=False),
        sa.Column('beyond_use', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column('detail', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'),
                  nullable=False),
        sa.ForeignKeyConstraint(['request_id'], ['erasure_requests.request_id'],
                                name=op.f('fk_erasure_stores_request_id_erasure_requests'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('request_id', 'store', name=op.f('pk_erasure_stores')),
    )


def downgrade() -> None:
    op.drop_table('erasure_stores')
    op.drop_index('ix_erasure_requests_tenant_status', table_name='erasure_requests')
    op.drop_table('erasure_requests')
