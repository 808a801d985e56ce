"""Transcripts: ``transcript_turns.modality``, whether a turn was spoken (``audio``) or typed by
the app (``text``, OpenAI ``input_text``). Existing rows were all interpreted as spoken, so they
get ``audio``; a replay of the ledger marks typed turns.

Revision ID: 7c2e4a91b6d3
Revises: 1d3b7e5a9c20
Create Date: 2026-11-30 18:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = '7c2e4a91b6d3'
down_revision: str | None = '20261130_19'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('transcript_turns', sa.Column('modality', sa.String(length=8), nullable=False,
                                                server_default='audio'))


def downgrade() -> None:
    op.drop_column('transcript_turns', 'modality')
