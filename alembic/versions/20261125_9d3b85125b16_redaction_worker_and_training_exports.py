"""Redaction worker and training exports: consent, ended sessions, redacted turns, policies,
exports and their lineage (export -> sessions).

Revision ID: 9d3b85125b16
Revises: a1d10c0de5e5
Create Date: 2026-11-25 15:44:47.868516
"""

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from alembic import op

revision: str = '9d3b85125b16'
down_revision: str | None = 'a1d10c0de5e5'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('redacted_turns',
    sa.Column('tenant_id', sa.String(length=63), nullable=False),
    sa.Column('session_id', sa.String(length=128), nullable=False),
    sa.Column('turn_id', sa.Text(), nullable=False),
    sa.Column('policy_hash', sa.String(length=80), nullable=False),
    sa.Column('ordinal', sa.Integer(), nullable=False),
    sa.Column('speaker', sa.String(length=8), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('start_ms', sa.BigInteger(), nullable=False),
    sa.Column('end_ms', sa.BigInteger(), nullable=False),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('withheld', sa.String(length=32), nullable=True),
    sa.Column('findings', postgresql.JSON(astext_type=sa.Text()), nullable=False),
    sa.Column('detector_version', sa.String(length=128), nullable=False),
    sa.Column('model', sa.String(length=128), nullable=False),
    sa.Column('policy_version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('tenant_id', 'session_id', 'turn_id', 'policy_hash',
                            name=op.f('pk_redacted_turns'))
    )
    op.create_table('redaction_consent',
    sa.Column('tenant_id', sa.String(length=63), nullable=False),
    sa.Column('session_id', sa.String(length=128), nullable=False),
    sa.Column('scope', sa.String(length=16), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('tenant_id', 'session_id', 'scope', name=op.f('pk_redaction_consent'))
    )
    op.create_table('redaction_policies',
    sa.Column('tenant_id', sa.String(length=63), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('policy_hash', sa.String(length=80), nullable=False),
    sa.Column('body', postgresql.JSON(astext_type=sa.Text()), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('tenant_id', name=op.f('pk_redaction_policies'))
    )
    op.create_table('redaction_sessions',
    sa.Column('tenant_id', sa.String(length=63), nullable=False),
    sa.Column('session_id', sa.String(length=128), nullable=False),
    sa.Column('expected_frames', sa.BigInteger(), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('source_frames', sa.BigInteger(), nullable=True),
    sa.Column('policy_hash', sa.String(length=80), nullable=True),
    sa.Column('policy_version', sa.Integer(), nullable=True),
    sa.Column('turns', sa.Integer(), nullable=False),
    sa.Column('findings', sa.Integer(), nullable=False),
    sa.Column('redacted_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('tenant_id', 'session_id', name=op.f('pk_redaction_sessions'))
    )
    op.create_index('ix_redaction_sessions_tenant_redacted', 'redaction_sessions',
                    ['tenant_id', 'redacted_at'], unique=False)
    op.create_table('training_exports',
    sa.Column('export_id', sa.String(length=64), nullable=False),
    sa.Column('tenant_id', sa.String(length=63), nullable=False),
    sa.Column('format', sa.String(length=16), nullable=False),
    sa.Column('since', sa.DateTime(timezone=True), nullable=True),
    sa.Column('policy_hash', sa.String(length=80), nullable=False),
    sa.Column('sessions', sa.Integer(), nullable=False),
    sa.Column('bucket', sa.String(length=63), nullable=False),
    sa.Column('manifest_key', sa.String(length=512), nullable=False),
    sa.Column('manifest_sha256', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('export_id', name=op.f('pk_training_exports'))
    )
    op.create_index('ix_training_exports_tenant', 'training_exports', ['tenant_id'], unique=False)
    op.create_table('training_export_sessions',
    sa.Column('export_id', sa.String(length=64), nullable=False),
    sa.Column('session_id', sa.String(length=128), nullable=False),
    sa.Column('tenant_id', sa.String(length=63), nullable=False),
    sa.ForeignKeyConstraint(
        ['export_id'], ['training_exports.export_id'],
        name=op.f('fk_training_export_sessions_export_id_training_exports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('export_id', 'session_id', name=op.f('pk_training_export_sessions'))
    )
    op.create_index('ix_training_export_sessions_tenant_session', 'training_export_sessions',
                    ['tenant_id', 'session_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_training_export_sessions_tenant_session',
                  table_name='training_export_sessions')
    op.drop_table('training_export_sessions')
    op.drop_index('ix_training_exports_tenant', table_name='training_exports')
    op.drop_table('training_exports')
    op.drop_index('ix_redaction_sessions_tenant_redacted', table_name='redaction_sessions')
    op.drop_table('redaction_sessions')
    op.drop_table('redaction_policies')
    op.drop_table('redaction_consent')
    op.drop_table('redacted_turns')
