"""Retention policies, per-session retention classes, disposition runs and disposals, legal holds
and the S3 object versions they lock (issue 15).

Revision ID: 15a7e7e4c0d1
Revises: 1d3b7e5a9c20
Create Date: 2026-11-30 17:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from alembic import op

revision: str = '15a7e7e4c0d1'
down_revision: str | None = 'e14a5e0f7c01'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        'retention_policies',
        sa.Column('tenant_id', sa.String(63), nullable=False),
        sa.Column('data_class', sa.String(32), nullable=False),
        sa.Column('retention_class', sa.String(64), nullable=False),
        sa.Column('days', sa.Integer(), nullable=True),
        sa.Column('changed_by', sa.String(128), nullable=False),
        sa.Column('changed_at', _TS, nullable=False),
        sa.PrimaryKeyConstraint('tenant_id', 'data_class', 'retention_class',
                                name=op.f('pk_retention_policies')),
    )
    op.create_table(
        'retention_sessions',
        sa.Column('tenant_id', sa.String(63), nullable=False),
        sa.Column('session_id', sa.String(128), nullable=False),
        sa.Column('retention_class', sa.String(64), nullable=False),
        sa.Column('started_at', _TS, nullable=False),
        sa.Column('source', sa.String(16), nullable=False),
        sa.PrimaryKeyConstraint('tenant_id', 'session_id', name=op.f('pk_retention_sessions')),
    )
    op.create_index('ix_retention_sessions_started', 'retention_sessions',
                    ['tenant_id', 'started_at'])
    op.create_table(
        'retention_runs',
        sa.Column('run_id', sa.String(36), nullable=False),
        sa.Column('tenant_id', sa.String(63), nullable=False),
        sa.Column('as_of', _TS, nullable=False),
        sa.Column('status', sa.String(16), nullable=False),
        sa.Column('started_at', _TS, nullable=False),
        sa.Column('finished_at', _TS, nullable=True),
        sa.Column('journal_position', sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint('run_id', name=op.f('pk_retention_runs')),
    )
    op.create_index('ix_retention_runs_tenant_status', 'retention_runs', ['tenant_id', 'status'])
    op.create_table(
        'retention_run_items',
        sa.Column('run_id', sa.String(36), nullable=False),
        sa.Column('session_id', sa.String(128), nullable=False),
        sa.Column('data_class', sa.String(32), nullable=False),
        sa.Column('status', sa.String(16), nullable=False),
        sa.Column('matter', sa.String(128), nullable=True),
        sa.Column('outcome', postgresql.JSONB(astext_type=sa.Text()),
                  server_default=sa.text("'{}'::jsonb"), nullable=False),
        sa.PrimaryKeyConstraint('run_id', 'session_id', 'data_class',
                                name=op.f('pk_retention_run_items')),
    )
    op.create_table(
        'retention_disposals',
        sa.Column('tenant_id', sa.String(63), nullable=False),
        sa.Column('session_id', sa.String(128), nullable=False),
        sa.Column('data_class', sa.String(32), nullable=False),
        sa.Column('run_id', sa.String(36), nullable=False),
        sa.Column('disposed_at', _TS, nullable=False),
        sa.PrimaryKeyConstraint('tenant_id', 'session_id', 'data_class',
                                name=op.f('pk_retention_disposals')),
    )
    op.create_table(
        'legal_holds',
        sa.Column('hold_id', sa.String(36), nullable=False),
        sa.Column('tenant_id', sa.String(63), nullable=False),
        sa.Column('scope', sa.String(16), nullable=False),
        sa.Column('session_id', sa.String(128), nullable=True),
        sa.Column('subject_kind', sa.String(16), nullable=True),
        sa.Column('subject_index', sa.String(64), nullable=True),
        sa.Column('matter', sa.String(128), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('placed_by', sa.String(128), nullable=False),
        sa.Column('placed_at', _TS, nullable=False),
        sa.Column('released_by', sa.String(128), nullable=True),
        sa.Column('released_at', _TS, nullable=True),
        sa.Column('release_reason', sa.Text(), nullable=True),
        sa.Column('created_at', _TS, server_default=sa.text('now()'), nullable=False),
        sa.PrimaryKeyConstraint('hold_id', name=op.f('pk_legal_holds')),
    )
    op.create_index('ix_legal_holds_tenant', 'legal_holds', ['tenant_id', 'released_at'])
    op.create_table(
        'legal_hold_objects',
        sa.Column('tenant_id', sa.String(63), nullable=False),
        sa.Column('bucket', sa.String(63), nullable=False),
        sa.Column('key', sa.String(512), nullable=False),
        sa.Column('version_id', sa.String(1024), nullable=False),
        sa.Column('session_id', sa.String(128), nullable=False),
        sa.Column('locked_at', _TS, nullable=False),
        sa.PrimaryKeyConstraint('tenant_id', 'bucket', 'key', 'version_id',
                                name=op.f('pk_legal_hold_objects')),
    )
    op.create_index('ix_legal_hold_objects_session', 'legal_hold_objects',
                    ['tenant_id', 'session_id'])


def downgrade() -> None:
    op.drop_index('ix_legal_hold_objects_session', table_name='legal_hold_objects')
    op.drop_table('legal_hold_objects')
    op.drop_index('ix_legal_holds_tenant', table_name='legal_holds')
    op.drop_table('legal_holds')
    op.drop_table('retention_disposals')
    op.drop_table('retention_run_items')
    op.drop_index('ix_retention_runs_tenant_status', table_name='retention_runs')
    op.drop_table('retention_runs')
    op.drop_index('ix_retention_sessions_started', table_name='retention_sessions')
    op.drop_table('retention_sessions')
    op.drop_table('retention_policies')
