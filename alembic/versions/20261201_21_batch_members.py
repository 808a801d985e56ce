"""Batches at the tap (issue 13 item 5): a stream message may hold several events.

``consumer_progress.next_member``: an ordered consumer's bisection can commit the first members
of one batch message in one transaction and the rest in the next; the row then says how many
members of message ``stream_seq + 1`` are committed (0: none, the usual case), so neither half
is skipped nor applied twice. ``dead_letters.member``: each refused member of a batch is its own
dead letter (index within its message; 0 for a single-frame message).

Revision ID: 5b7d2e91c4a3
Revises: 133acbb7c81e
Create Date: 2026-12-01 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '5b7d2e91c4a3'
down_revision: str | None = '133acbb7c81e'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('consumer_progress',
                  sa.Column('next_member', sa.Integer(), server_default='0', nullable=False))
    op.add_column('dead_letters',
                  sa.Column('member', sa.Integer(), server_default='0', nullable=False))
    op.drop_index('uq_dead_letters_stream_seq_subject', table_name='dead_letters')
    op.create_index('uq_dead_letters_stream_seq_subject_member', 'dead_letters',
                    ['stream_seq', 'subject', 'member'], unique=True)


def downgrade() -> None:
    # Rows of batch members beyond the first cannot keep (stream_seq, subject) unique.
    op.execute("DELETE FROM dead_letters WHERE member <> 0")
    op.drop_index('uq_dead_letters_stream_seq_subject_member', table_name='dead_letters')
    op.create_index('uq_dead_letters_stream_seq_subject', 'dead_letters',
                    ['stream_seq', 'subject'], unique=True)
    op.drop_column('dead_letters', 'member')
    # A partly committed batch message is taken again from its start (the sealer dedupes).
    op.drop_column('consumer_progress', 'next_member')
