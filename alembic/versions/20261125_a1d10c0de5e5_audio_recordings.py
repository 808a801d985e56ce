"""Audio recordings: per session and kind, multipart upload state, hashes, duration, gaps.

Revision ID: a1d10c0de5e5
Revises: 4c0ac690a9b9
Create Date: 2026-11-25 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'a1d10c0de5e5'
down_revision: str | None = '4c0ac690a9b9'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'audio_recordings',
        sa.Column('tenant_id', sa.String(length=63), nullable=False),
        sa.Column('session_id', sa.String(length=128), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('object_key', sa.String(length=512), nullable=False),
        sa.Column('upload_id', sa.String(length=1024), nullable=True),
        sa.Column('salt', sa.LargeBinary(length=16), nullable=False),
        sa.Column('parts', sa.JSON(), nullable=False),
        sa.Column('sample_rate', sa.Integer(), nullable=False),
        sa.Column('channels', sa.Integer(), nullable=False),
        sa.Column('last_seq', sa.BigInteger(), nullable=False),
        sa.Column('duration_ms', sa.BigInteger(), nullable=True),
        sa.Column('pcm_bytes', sa.BigInteger(), nullable=True),
        sa.Column('object_bytes', sa.BigInteger(), nullable=True),
        sa.Column('sha256', sa.String(length=64), nullable=True),
        sa.Column('pcm_sha256', sa.String(length=64), nullable=True),
        sa.Column('gaps', sa.JSON(), nullable=True),
        sa.Column('restarts', sa.Integer(), nullable=False),
        sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'),
                  nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'),
                  nullable=False),
        sa.PrimaryKeyConstraint('tenant_id', 'session_id', 'kind', name=op.f('pk_audio_recordings')),
    )


def downgrade() -> None:
    op.drop_table('audio_recordings')
