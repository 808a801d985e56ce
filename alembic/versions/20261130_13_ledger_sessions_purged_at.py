"""Ledger: ``ledger_sessions.purged_at``, when the session's raw frames were purged from the
JetStream buffer after its end was sealed and every consumer had acknowledged them.

Revision ID: 1d3b7e5a9c20
Revises: 5e3f0b7a2d41
Create Date: 2026-11-30 17:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = '1d3b7e5a9c20'
down_revision: str | None = '5e3f0b7a2d41'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('ledger_sessions',
                  sa.Column('purged_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column('ledger_sessions', 'purged_at')
