-- Postgres roles for Voxledger on an external server (run once as a DBA).
--
-- voxledger_owner  owns the schema and runs migrations (VOXLEDGER_DATABASE_OWNER_URL); it is
--                  used by `voxledger up` / `alembic upgrade head` only, never by running services.
-- voxledger_writer NOLOGIN group created by the migrations (or here, if the owner may not create
--                  roles): DML on every table, no DDL; INSERT only on ledger_entries,
--                  ledger_checkpoints and ledger_key_destructions (a trigger refuses UPDATE/DELETE
--                  to everyone); session keys destroyed only by voxledger_destroy_session_key().
-- voxledger_app    the login every process uses (VOXLEDGER_DATABASE_URL), a member of the writer.

CREATE ROLE voxledger_owner LOGIN PASSWORD 'REPLACE_ME' NOSUPERUSER NOCREATEDB NOCREATEROLE;
CREATE ROLE voxledger_writer NOLOGIN;
CREATE ROLE voxledger_app LOGIN PASSWORD 'REPLACE_ME_TOO' NOSUPERUSER NOCREATEDB NOCREATEROLE
  INHERIT IN ROLE voxledger_writer;

CREATE DATABASE voxledger OWNER voxledger_owner;
\connect voxledger
ALTER SCHEMA public OWNER TO voxledger_owner;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;

-- Then, as an operator:
--   VOXLEDGER_DATABASE_OWNER_URL=postgresql://voxledger_owner:...@db/voxledger \
--   VOXLEDGER_DATABASE_URL=postgresql://voxledger_app:...@db/voxledger  voxledger up
-- `up` migrates as the owner and grants voxledger_writer to the login of VOXLEDGER_DATABASE_URL
-- when the owner may; services get VOXLEDGER_DATABASE_URL only.
