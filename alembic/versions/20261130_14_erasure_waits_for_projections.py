"""Destroying a session key waits for projection batches of that session in flight (issue 14).

Projections fed by the raw stream (catalog, transcripts, redaction) drop the events of a session
whose key is destroyed, checking ``ledger_sessions`` in the same transaction as their effect with
``FOR KEY SHARE``. ``voxledger_destroy_session_key`` now takes ``FOR UPDATE`` on the row first,
which conflicts with that lock (and not with the sealer's counter updates): a batch that saw the
key alive commits before the key dies, so the erasure's forgetters, which run after, delete what
it wrote; every later batch sees the key gone. A live session erased cannot be recreated.

Revision ID: 14b0e1a5ed00
Revises: 12c0e3a9f1b2
Create Date: 2026-11-30 23:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = '14b0e1a5ed00'
down_revision: str | None = '12c0e3a9f1b2'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _destroy(lock: str) -> str:
    return f"""
CREATE OR REPLACE FUNCTION voxledger_destroy_session_key(p_tenant text, p_session text, p_reason text)
RETURNS boolean LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE had boolean;
BEGIN
  IF p_reason IS NULL OR length(btrim(p_reason)) = 0 OR length(p_reason) > 200 THEN
    RAISE EXCEPTION 'voxledger: a reason of 1 to 200 characters is required'
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  {lock}
  PERFORM set_config('voxledger.key_destruction', 'on', true);
  UPDATE ledger_sessions SET wrapped_dek = NULL, updated_at = now()
    WHERE tenant_id = p_tenant AND session_id = p_session AND wrapped_dek IS NOT NULL;
  had := FOUND;
  PERFORM set_config('voxledger.key_destruction', 'off', true);
  INSERT INTO ledger_key_destructions (tenant_id, session_id, reason, destroyed_by, had_key)
    VALUES (p_tenant, p_session, p_reason, session_user, had);
  RETURN had;
END $$"""


def upgrade() -> None:
    op.execute(_destroy("PERFORM 1 FROM ledger_sessions WHERE tenant_id = p_tenant "
                        "AND session_id = p_session FOR UPDATE;"))


def downgrade() -> None:
    op.execute(_destroy(""))
