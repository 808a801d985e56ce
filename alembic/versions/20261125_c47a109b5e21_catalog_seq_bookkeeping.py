"""Session catalog: per-session seq bookkeeping replaces one session_events_seen row per event.

The catalog now counts an event once by keeping, per session, ``max_seq`` and the holes below it
(``seq_holes``, inclusive [lo, hi] ranges) and the per-kind counts (``kind_counts``). Upgrade
derives both from the existing seen rows, then drops them. Downgrade recreates the seen rows from
``0..max_seq`` minus the holes (kinds are no longer known per seq: they come back as ``event``;
the per-kind counts of older sessions become approximate, the totals stay exact).

Revision ID: c47a109b5e21
Revises: 9d3b85125b16
Create Date: 2026-11-25 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from alembic import op

revision: str = 'c47a109b5e21'
down_revision: str | None = '9d3b85125b16'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('sessions', sa.Column('seq_holes', postgresql.JSONB(astext_type=sa.Text()),
                                        server_default=sa.text("'[]'::jsonb"), nullable=False))
    op.add_column('sessions', sa.Column('kind_counts', postgresql.JSONB(astext_type=sa.Text()),
                                        server_default=sa.text("'{}'::jsonb"), nullable=False))
    op.execute("""
        UPDATE sessions s SET kind_counts = k.counts
        FROM (SELECT tenant_id, session_id, jsonb_object_agg(kind, n) AS counts
              FROM (SELECT tenant_id, session_id, kind, count(*) AS n FROM session_events_seen
                    GROUP BY tenant_id, session_id, kind) per_kind
              GROUP BY tenant_id, session_id) k
        WHERE s.tenant_id = k.tenant_id AND s.session_id = k.session_id
    """)
    op.execute("""
        UPDATE sessions s SET seq_holes = h.holes
        FROM (SELECT tenant_id, session_id,
                     jsonb_agg(jsonb_build_array(prev + 1, seq - 1) ORDER BY seq) AS holes
              FROM (SELECT tenant_id, session_id, seq,
                           coalesce(lag(seq) OVER (PARTITION BY tenant_id, session_id
                                                   ORDER BY seq), -1) AS prev
                    FROM session_events_seen) gaps
              WHERE seq - prev > 1
              GROUP BY tenant_id, session_id) h
        WHERE s.tenant_id = h.tenant_id AND s.session_id = h.session_id
    """)
    op.drop_table('session_events_seen')


def downgrade() -> None:
    op.create_table(
        'session_events_seen',
        sa.Column('tenant_id', sa.String(length=63), nullable=False),
        sa.Column('session_id', sa.String(length=128), nullable=False),
        sa.Column('seq', sa.BigInteger(), nullable=False),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.ForeignKeyConstraint(['tenant_id', 'session_id'],
                                ['sessions.tenant_id', 'sessions.session_id'],
                                name=op.f('fk_session_events_seen_tenant_id_sessions'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('tenant_id', 'session_id', 'seq',
                                name=op.f('pk_session_events_seen')),
    )
    op.execute("""
        INSERT INTO session_events_seen (tenant_id, session_id, seq, kind)
        SELECT s.tenant_id, s.session_id, g.seq, 'event'
        FROM sessions s CROSS JOIN LATERAL generate_series(0, s.max_seq) AS g(seq)
        WHERE NOT EXISTS (SELECT 1 FROM jsonb_array_elements(s.seq_holes) AS h
                          WHERE g.seq BETWEEN (h->>0)::bigint AND (h->>1)::bigint)
    """)
    op.drop_column('sessions', 'kind_counts')
    op.drop_column('sessions', 'seq_holes')
