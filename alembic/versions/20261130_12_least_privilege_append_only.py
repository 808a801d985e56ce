"""Least privilege and an append-only ledger (issue 12, item 5).

- ``voxledger_writer`` (NOLOGIN): what the pipeline and the CLI may do. DML on every table, no DDL
  (the owner runs migrations). ``voxledger up`` makes a login role a member of it. Default
  privileges give later tables the same DML, so a new capability's tables need no grant here.
- ``ledger_entries``, ``ledger_checkpoints`` and ``ledger_key_destructions`` accept INSERT only:
  UPDATE, DELETE and TRUNCATE are not granted, and a trigger refuses them for every role (the
  owner included) unless a superuser disables triggers on purpose.
- The WORM outbox moves out of ``ledger_checkpoints.worm_written_at`` into ``ledger_worm_outbox``
  (rows deleted once written), so the checkpoint row is never updated.
- A session key (``ledger_sessions.wrapped_dek``) is destroyed only by
  ``voxledger_destroy_session_key(tenant, session, reason)``: SECURITY DEFINER, records who, when
  and why. The writer may not delete a session row, and a trigger refuses any other change of the
  key (rewriting it, or nulling it anywhere but inside that function, which runs as the owner).

Creating the role needs CREATEROLE (or a DBA who ran ``CREATE ROLE voxledger_writer NOLOGIN``).

Revision ID: c12a0e5e0b11
Revises: 1d3b7e5a9c20
Create Date: 2026-11-30 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = 'c12a0e5e0b11'
down_revision: str | None = '12a0dead1e77'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WRITER = "voxledger_writer"
APPEND_ONLY = ("ledger_entries", "ledger_checkpoints", "ledger_key_destructions")


def upgrade() -> None:
    op.create_table(
        'ledger_worm_outbox',
        sa.Column('tenant_id', sa.String(length=63), nullable=False),
        sa.Column('size', sa.BigInteger(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'),
                  nullable=False),
        sa.PrimaryKeyConstraint('tenant_id', 'size'))
    op.execute("INSERT INTO ledger_worm_outbox (tenant_id, size, created_at) "
               "SELECT tenant_id, size, created_at FROM ledger_checkpoints "
               "WHERE worm_written_at IS NULL")
    op.drop_column('ledger_checkpoints', 'worm_written_at')
    op.create_table(
        'ledger_key_destructions',
        sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column('tenant_id', sa.String(length=63), nullable=False),
        sa.Column('session_id', sa.String(length=128), nullable=False),
        sa.Column('reason', sa.String(length=200), nullable=False),
        sa.Column('destroyed_by', sa.String(length=63), nullable=False),
        sa.Column('had_key', sa.Boolean(), nullable=False),
        sa.Column('destroyed_at', sa.DateTime(timezone=True), server_default=sa.text('now()'),
                  nullable=False),
        sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_ledger_key_destructions_session', 'ledger_key_destructions',
                    ['tenant_id', 'session_id'])

    op.execute(f"""
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{WRITER}') THEN
    CREATE ROLE {WRITER} NOLOGIN;
  END IF;
END $$""")
    op.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
    op.execute(f"GRANT USAGE ON SCHEMA public TO {WRITER}")
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {WRITER}")
    op.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {WRITER}")
    op.execute("ALTER DEFAULT PRIVILEGES IN SCHEMA public "
               f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {WRITER}")
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {WRITER}")
    op.execute(f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON alembic_version FROM {WRITER}")
    for table in APPEND_ONLY:
        op.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON {table} FROM {WRITER}")
    op.execute(f"REVOKE INSERT ON ledger_key_destructions FROM {WRITER}")
    # Session rows are updated (counters, purged_at, ...) but never deleted; the key column is
    # guarded by the trigger below (a column grant would miss every column added later).
    op.execute(f"REVOKE DELETE, TRUNCATE ON ledger_sessions FROM {WRITER}")

    op.execute("""
CREATE FUNCTION voxledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'voxledger: % is append-only; % refused', TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'insufficient_privilege';
END $$""")
    for table in APPEND_ONLY:
        op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                   "FOR EACH ROW EXECUTE FUNCTION voxledger_append_only()")
        op.execute(f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                   "FOR EACH STATEMENT EXECUTE FUNCTION voxledger_append_only()")

    op.execute("""
CREATE FUNCTION voxledger_guard_session_key() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    IF OLD.wrapped_dek IS NOT NULL THEN
      RAISE EXCEPTION 'voxledger: a session row holding a key is never deleted; destroy its key '
        'with voxledger_destroy_session_key() first' USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN OLD;
  END IF;
  -- Only inside voxledger_destroy_session_key: it runs as the table's owner (SECURITY DEFINER)
  -- and sets the flag; a writer may set the flag too, but can never act as the owner.
  -- Re-wrapping a live key under a newer KEK (`voxledger keys rewrap`) keeps it alive: allowed.
  IF NEW.wrapped_dek IS DISTINCT FROM OLD.wrapped_dek
     AND NOT (OLD.wrapped_dek IS NOT NULL AND NEW.wrapped_dek IS NOT NULL)
     AND (NEW.wrapped_dek IS NOT NULL
      OR coalesce(current_setting('voxledger.key_destruction', true), '') <> 'on'
      OR current_user <> (SELECT r.rolname FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner
                          WHERE c.oid = TG_RELID)) THEN
    RAISE EXCEPTION 'voxledger: session keys are destroyed only by voxledger_destroy_session_key()'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END $$""")
    op.execute("CREATE TRIGGER ledger_sessions_key_guard BEFORE UPDATE OR DELETE ON ledger_sessions "
               "FOR EACH ROW EXECUTE FUNCTION voxledger_guard_session_key()")

    # SECURITY DEFINER runs as the owner; search_path pinned so a caller cannot shadow a table.
    op.execute("""
CREATE FUNCTION voxledger_destroy_session_key(p_tenant text, p_session text, p_reason text)
RETURNS boolean LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE had boolean;
BEGIN
  IF p_reason IS NULL OR length(btrim(p_reason)) = 0 OR length(p_reason) > 200 THEN
    RAISE EXCEPTION 'voxledger: a reason of 1 to 200 characters is required'
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  PERFORM set_config('voxledger.key_destruction', 'on', true);
  UPDATE ledger_sessions SET wrapped_dek = NULL, updated_at = now()
    WHERE tenant_id = p_tenant AND session_id = p_session AND wrapped_dek IS NOT NULL;
  had := FOUND;
  PERFORM set_config('voxledger.key_destruction', 'off', true);
  INSERT INTO ledger_key_destructions (tenant_id, session_id, reason, destroyed_by, had_key)
    VALUES (p_tenant, p_session, p_reason, session_user, had);
  RETURN had;
END $$""")
    op.execute("REVOKE ALL ON FUNCTION voxledger_destroy_session_key(text, text, text) FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION voxledger_destroy_session_key(text, text, text) TO {WRITER}")


def downgrade() -> None:
    op.execute("DROP FUNCTION voxledger_destroy_session_key(text, text, text)")
    op.execute("DROP TRIGGER ledger_sessions_key_guard ON ledger_sessions")
    op.execute("DROP FUNCTION voxledger_guard_session_key()")
    for table in ("ledger_entries", "ledger_checkpoints"):
        op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
        op.execute(f"DROP TRIGGER {table}_no_truncate ON {table}")
    op.drop_index('ix_ledger_key_destructions_session', table_name='ledger_key_destructions')
    op.drop_table('ledger_key_destructions')
    op.execute("DROP FUNCTION voxledger_append_only()")
    op.execute("ALTER DEFAULT PRIVILEGES IN SCHEMA public "
               f"REVOKE SELECT, INSERT, UPDATE, DELETE ON TABLES FROM {WRITER}")
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE USAGE, SELECT ON SEQUENCES FROM {WRITER}")
    op.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {WRITER}")
    op.execute(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {WRITER}")
    op.execute(f"REVOKE USAGE ON SCHEMA public FROM {WRITER}")
    op.add_column('ledger_checkpoints', sa.Column('worm_written_at', sa.DateTime(timezone=True),
                                                  nullable=True))
    op.execute("UPDATE ledger_checkpoints c SET worm_written_at = now() WHERE NOT EXISTS "
               "(SELECT 1 FROM ledger_worm_outbox o WHERE o.tenant_id = c.tenant_id "
               "AND o.size = c.size)")
    op.drop_table('ledger_worm_outbox')
