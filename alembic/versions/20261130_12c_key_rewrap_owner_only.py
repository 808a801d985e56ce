"""Re-wrapping a session key is the owner's act, under a flag, like destroying one (issue 12/14).

The key guard had been relaxed so ``voxledger keys rewrap`` could replace a live wrapped key; that
also let the pipeline's role overwrite a key with garbage, which destroys it without the audit row
``voxledger_destroy_session_key`` writes. Now a live key may be replaced by another live key only
by the table's owner inside a transaction that set ``voxledger.key_rewrap`` (``keys rewrap`` runs
as the owner and sets it); everything else stays as before.

Revision ID: 12c0e3a9f1b2
Revises: 7c2e4a91b6d3
Create Date: 2026-11-30 22:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = '12c0e3a9f1b2'
down_revision: str | None = '7c2e4a91b6d3'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OWNER = ("(SELECT r.rolname FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner "
          "WHERE c.oid = TG_RELID)")


def _guard(rewrap_rule: str) -> str:
    return f"""
CREATE OR REPLACE FUNCTION voxledger_guard_session_key() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    IF OLD.wrapped_dek IS NOT NULL THEN
      RAISE EXCEPTION 'voxledger: a session row holding a key is never deleted; destroy its key '
        'with voxledger_destroy_session_key() first' USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN OLD;
  END IF;
  IF NEW.wrapped_dek IS NOT DISTINCT FROM OLD.wrapped_dek THEN
    RETURN NEW;
  END IF;
  IF OLD.wrapped_dek IS NOT NULL AND NEW.wrapped_dek IS NOT NULL THEN
    -- A re-wrap under a newer KEK (`voxledger keys rewrap`).
    IF {rewrap_rule} THEN
      RETURN NEW;
    END IF;
    RAISE EXCEPTION 'voxledger: a session key is re-wrapped only by the owner (voxledger keys rewrap)'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  -- Destroying (or resurrecting) a key: only inside voxledger_destroy_session_key, which runs
  -- as the owner (SECURITY DEFINER) and sets the flag.
  IF NEW.wrapped_dek IS NOT NULL
     OR coalesce(current_setting('voxledger.key_destruction', true), '') <> 'on'
     OR current_user <> {_OWNER} THEN
    RAISE EXCEPTION 'voxledger: session keys are destroyed only by voxledger_destroy_session_key()'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END $$"""


def upgrade() -> None:
    op.execute(_guard("coalesce(current_setting('voxledger.key_rewrap', true), '') = 'on' "
                      f"AND current_user = {_OWNER}"))


def downgrade() -> None:
    op.execute(_guard("true"))
