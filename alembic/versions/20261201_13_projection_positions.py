"""Projections follow the sealed ledger (issue 13): ``projection_positions``; drop
``transcript_frames``.

Each projection keeps, per tenant, the next ledger position it reads, written in the same
transaction as its effect. The transcript builder no longer keeps a plaintext copy of the frames:
it re-reads a session's sealed entries when it needs them. Downgrade recreates an empty
``transcript_frames`` (its rows are rebuilt from the ledger, not restored).

Revision ID: 133acbb7c81e
Revises: 9f3f613dac0e
Create Date: 2026-12-01 03:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '133acbb7c81e'
down_revision: str | None = '9f3f613dac0e'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'projection_positions',
        sa.Column('projection', sa.String(length=64), nullable=False),
        sa.Column('tenant_id', sa.String(length=63), nullable=False),
        sa.Column('position', sa.BigInteger(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'),
                  nullable=False),
        sa.PrimaryKeyConstraint('projection', 'tenant_id', name=op.f('pk_projection_positions')))
    op.drop_table('transcript_frames')


def downgrade() -> None:
    op.create_table(
        'transcript_frames',
        sa.Column('tenant_id', sa.String(length=63), nullable=False),
        sa.Column('session_id', sa.String(length=128), nullable=False),
        sa.Column('seq', sa.BigInteger(), nullable=False),
        sa.Column('event_id', sa.String(length=36), nullable=False),
        sa.Column('provider', sa.String(length=32), nullable=False),
        sa.Column('direction', sa.String(length=8), nullable=False),
        sa.Column('type', sa.String(length=128), nullable=False),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('mono_ns', sa.BigInteger(), nullable=False),
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('payload', postgresql.JSON(astext_type=sa.Text()), nullable=False),
        sa.Column('audio', postgresql.JSON(astext_type=sa.Text()), nullable=True),
        sa.ForeignKeyConstraint(
            ['tenant_id', 'session_id'],
            ['transcript_sessions.tenant_id', 'transcript_sessions.session_id'],
            name=op.f('fk_transcript_frames_tenant_id_transcript_sessions'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('tenant_id', 'session_id', 'seq', name=op.f('pk_transcript_frames')))
    op.drop_table('projection_positions')
