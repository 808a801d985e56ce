"""Transcripts: per-session frames (audio as lengths), turns with a generated tsvector + GIN index
over heard text, tool calls.

Revision ID: 4c0ac690a9b9
Revises: 8fa7b596e099
Create Date: 2026-11-25 15:29:02.201479
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '4c0ac690a9b9'
down_revision: str | None = '8fa7b596e099'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('transcript_sessions',
    sa.Column('tenant_id', sa.String(length=63), nullable=False),
    sa.Column('session_id', sa.String(length=128), nullable=False),
    sa.Column('provider', sa.String(length=32), nullable=False),
    sa.Column('agent', sa.String(length=128), nullable=True),
    sa.Column('model', sa.String(length=128), nullable=True),
    sa.Column('language', sa.String(length=16), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('timeline_ms', sa.BigInteger(), nullable=False),
    sa.Column('frames', sa.Integer(), nullable=False),
    sa.Column('turns', sa.Integer(), nullable=False),
    sa.Column('interrupted', sa.Boolean(), nullable=False),
    sa.Column('has_tool_call', sa.Boolean(), nullable=False),
    sa.Column('frame_errors', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('tenant_id', 'session_id', name=op.f('pk_transcript_sessions'))
    )
    op.create_index('ix_transcript_sessions_tenant_started', 'transcript_sessions', ['tenant_id', 'started_at'], unique=False)
    op.create_table('tool_calls',
    sa.Column('tenant_id', sa.String(length=63), nullable=False),
    sa.Column('session_id', sa.String(length=128), nullable=False),
    sa.Column('call_id', sa.Text(), nullable=False),
    sa.Column('ordinal', sa.Integer(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('arguments', sa.Text(), nullable=True),
    sa.Column('result', sa.Text(), nullable=True),
    sa.Column('is_error', sa.Boolean(), nullable=False),
    sa.Column('cancelled', sa.Boolean(), nullable=False),
    sa.Column('started_ms', sa.BigInteger(), nullable=False),
    sa.Column('ended_ms', sa.BigInteger(), nullable=True),
    sa.Column('turn_id', sa.Text(), nullable=True),
    sa.Column('withheld', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id', 'session_id'], ['transcript_sessions.tenant_id', 'transcript_sessions.session_id'], name=op.f('fk_tool_calls_tenant_id_transcript_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'session_id', 'call_id', name=op.f('pk_tool_calls'))
    )
    op.create_table('transcript_frames',
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
    sa.ForeignKeyConstraint(['tenant_id', 'session_id'], ['transcript_sessions.tenant_id', 'transcript_sessions.session_id'], name=op.f('fk_transcript_frames_tenant_id_transcript_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'session_id', 'seq', name=op.f('pk_transcript_frames'))
    )
    op.create_table('transcript_turns',
    sa.Column('tenant_id', sa.String(length=63), nullable=False),
    sa.Column('session_id', sa.String(length=128), nullable=False),
    sa.Column('turn_id', sa.Text(), nullable=False),
    sa.Column('ordinal', sa.Integer(), nullable=False),
    sa.Column('speaker', sa.String(length=8), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('start_ms', sa.BigInteger(), nullable=False),
    sa.Column('end_ms', sa.BigInteger(), nullable=False),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('generated_text', sa.Text(), nullable=True),
    sa.Column('heard_text', sa.Text(), nullable=True),
    sa.Column('approximate', sa.Boolean(), nullable=False),
    sa.Column('heard_ms', sa.BigInteger(), nullable=True),
    sa.Column('generated_ms', sa.BigInteger(), nullable=True),
    sa.Column('language', sa.String(length=16), nullable=True),
    sa.Column('response_id', sa.Text(), nullable=True),
    sa.Column('withheld', sa.String(length=32), nullable=True),
    sa.Column('search', postgresql.TSVECTOR(), sa.Computed("to_tsvector('english'::regconfig, coalesce(heard_text, ''))", persisted=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'session_id'], ['transcript_sessions.tenant_id', 'transcript_sessions.session_id'], name=op.f('fk_transcript_turns_tenant_id_transcript_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'session_id', 'turn_id', name=op.f('pk_transcript_turns'))
    )
    op.create_index('ix_transcript_turns_search', 'transcript_turns', ['search'], unique=False, postgresql_using='gin')


def downgrade() -> None:
    op.drop_index('ix_transcript_turns_search', table_name='transcript_turns', postgresql_using='gin')
    op.drop_table('transcript_turns')
    op.drop_table('transcript_frames')
    op.drop_table('tool_calls')
    op.drop_index('ix_transcript_sessions_tenant_started', table_name='transcript_sessions')
    op.drop_table('transcript_sessions')
