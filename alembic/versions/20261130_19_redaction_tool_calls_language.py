"""Redaction of tool calls and of calls in other languages: redacted_tool_calls, and the
detected language and export hold reason of each redacted session.

Revision ID: 20261130_19
Revises: 1d3b7e5a9c20 (main's head after issue 13; re-chained on merge)
Create Date: 2026-11-30 17:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from alembic import op

revision: str = '20261130_19'
down_revision: str | None = '17a91c0de0a1'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('redacted_tool_calls',
    sa.Column('tenant_id', sa.String(length=63), nullable=False),
    sa.Column('session_id', sa.String(length=128), nullable=False),
    sa.Column('call_id', sa.Text(), nullable=False),
    sa.Column('policy_hash', sa.String(length=80), nullable=False),
    sa.Column('ordinal', sa.Integer(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('arguments', sa.Text(), nullable=True),
    sa.Column('result', sa.Text(), nullable=True),
    sa.Column('is_error', sa.Boolean(), nullable=False),
    sa.Column('started_ms', sa.BigInteger(), nullable=False),
    sa.Column('ended_ms', sa.BigInteger(), nullable=True),
    sa.Column('withheld', sa.String(length=32), nullable=True),
    sa.Column('findings', postgresql.JSON(astext_type=sa.Text()), nullable=False),
    sa.Column('policy_version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'),
              nullable=False),
    sa.PrimaryKeyConstraint('tenant_id', 'session_id', 'call_id', 'policy_hash',
                            name=op.f('pk_redacted_tool_calls'))
    )
    op.add_column('redaction_sessions', sa.Column('language', sa.String(length=16),
                                                  nullable=True))
    op.add_column('redaction_sessions', sa.Column('held', sa.String(length=64), nullable=True))


def downgrade() -> None:
    op.drop_column('redaction_sessions', 'held')
    op.drop_column('redaction_sessions', 'language')
    op.drop_table('redacted_tool_calls')
