"""Transcripts: ``transcript_sessions.frames_version``, written by every transaction that stores
frames of the session, so the builder can tell whether its in-memory copy of a session's frames
is complete. Existing rows get NULL, which no copy ever trusts: they are read back from Postgres
once, as after a restart.

Revision ID: 5e3f0b7a2d41
Revises: c47a109b5e21
Create Date: 2026-11-25 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = '5e3f0b7a2d41'
down_revision: str | None = 'c47a109b5e21'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('transcript_sessions', sa.Column('frames_version', sa.Uuid(), nullable=True))


def downgrade() -> None:
    op.drop_column('transcript_sessions', 'frames_version')
