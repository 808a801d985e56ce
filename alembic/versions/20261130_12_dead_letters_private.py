"""dead letters: one encrypted row per stream message, tenant/session, status, retention

Revision ID: 12a0dead1e77
Revises: 1d3b7e5a9c20
Create Date: 2026-11-30 17:20:00

Existing rows kept their payload in plaintext and one copy per consumer: the upgrade keeps one
row per stream message (merging the consumers' names) and drops the plaintext, which cannot be
encrypted here without the keys (the metadata and reasons stay).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '12a0dead1e77'
down_revision: str | None = '1d3b7e5a9c20'  # re-chained after main's purged_at
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('dead_letters', sa.Column(
        'consumers', postgresql.ARRAY(sa.String(length=64)), nullable=True))
    op.execute("""
        UPDATE dead_letters d SET consumers = m.names
        FROM (SELECT stream_seq, subject, array_agg(DISTINCT consumer)::varchar[] AS names,
                     min(id) AS keep FROM dead_letters GROUP BY stream_seq, subject) m
        WHERE d.id = m.keep""")
    op.execute("DELETE FROM dead_letters WHERE consumers IS NULL")
    op.alter_column('dead_letters', 'consumers', nullable=False)
    op.drop_index('uq_dead_letters_consumer_seq', table_name='dead_letters')
    op.add_column('dead_letters', sa.Column('raw_length', sa.Integer(), server_default='0',
                                            nullable=False))
    op.execute("UPDATE dead_letters SET raw_length = length(raw)")
    op.drop_column('dead_letters', 'raw')
    for name, type_ in (('tenant_id', sa.String(length=63)), ('session_id', sa.String(length=128)),
                        ('event_id', sa.String(length=36)), ('key_tenant', sa.String(length=63)),
                        ('raw_dek', sa.LargeBinary()), ('raw_ct', sa.LargeBinary()),
                        ('retried_at', sa.DateTime(timezone=True))):
        op.add_column('dead_letters', sa.Column(name, type_, nullable=True))
    op.add_column('dead_letters', sa.Column('status', sa.String(length=16),
                                            server_default='open', nullable=False))
    op.add_column('dead_letters', sa.Column('retries', sa.Integer(), server_default='0',
                                            nullable=False))
    op.create_index('uq_dead_letters_stream_seq_subject', 'dead_letters',
                    ['stream_seq', 'subject'], unique=True)
    op.create_index('ix_dead_letters_tenant_received', 'dead_letters',
                    ['tenant_id', 'received_at'], unique=False)
    op.create_index('ix_dead_letters_received_at', 'dead_letters', ['received_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_dead_letters_received_at', table_name='dead_letters')
    op.drop_index('ix_dead_letters_tenant_received', table_name='dead_letters')
    op.drop_index('uq_dead_letters_stream_seq_subject', table_name='dead_letters')
    for name in ('retries', 'status', 'retried_at', 'raw_ct', 'raw_dek', 'key_tenant',
                 'event_id', 'session_id', 'tenant_id', 'raw_length', 'consumers'):
        op.drop_column('dead_letters', name)
    # The payloads were encrypted and are not restored: the old column comes back empty.
    op.add_column('dead_letters', sa.Column('raw', sa.LargeBinary(), server_default=sa.text("''::bytea"),
                                            nullable=False))
    op.alter_column('dead_letters', 'raw', server_default=None)
    op.create_index('uq_dead_letters_consumer_seq', 'dead_letters', ['consumer', 'stream_seq'],
                    unique=True)
