"""Ledger: ``ledger_cosignatures``, witness cosignatures of checkpoints (issue 16), insert-only.

Revision ID: 16a7c0519e11
Revises: 1d3b7e5a9c20
Create Date: 2026-11-30 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = '16a7c0519e11'
down_revision: str | None = '15a7e7e4c0d1'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'ledger_cosignatures',
        sa.Column('tenant_id', sa.String(length=63), nullable=False),
        sa.Column('size', sa.BigInteger(), nullable=False),
        sa.Column('witness', sa.String(length=255), nullable=False),
        sa.Column('key_id', sa.LargeBinary(length=4), nullable=False),
        sa.Column('witness_url', sa.String(length=1024), nullable=False),
        sa.Column('line', sa.Text(), nullable=False),
        sa.Column('worm_key', sa.String(length=512), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'),
                  nullable=False),
        sa.PrimaryKeyConstraint('tenant_id', 'size', 'witness', name=op.f('pk_ledger_cosignatures')),
    )


def downgrade() -> None:
    op.drop_table('ledger_cosignatures')
