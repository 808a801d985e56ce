"""Raw audio in one object per sealed batch: each segment row locates its part (issue 13 item 6).

A segment row is now one part of the batch object ``raw/<tenant>/_batch/<position>.seg``:
``object_key``, ``object_offset`` and ``object_length`` locate its ciphertext there, ``codec``
says how the plaintext was compressed before encryption (``zstd``). Rows sealed before have none of
these (NULL): their ``key`` is the object and its whole body the uncompressed segment's ciphertext.

Revision ID: 9f3f613dac0e
Revises: 14b0e1a5ed00
Create Date: 2026-12-01 03:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = '9f3f613dac0e'
down_revision: str | None = '14b0e1a5ed00'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('ledger_audio_segments', sa.Column('object_key', sa.String(512), nullable=True))
    op.add_column('ledger_audio_segments', sa.Column('object_offset', sa.BigInteger(),
                                                     nullable=True))
    op.add_column('ledger_audio_segments', sa.Column('object_length', sa.BigInteger(),
                                                     nullable=True))
    op.add_column('ledger_audio_segments', sa.Column('codec', sa.String(8), nullable=True))
    op.create_index('ix_ledger_audio_segments_object', 'ledger_audio_segments', ['object_key'])


def downgrade() -> None:
    op.drop_index('ix_ledger_audio_segments_object', table_name='ledger_audio_segments')
    for column in ('codec', 'object_length', 'object_offset', 'object_key'):
        op.drop_column('ledger_audio_segments', column)
