"""Postgres roles: the owner runs migrations; everything else runs as a member of the writer role.

``voxledger_writer`` (NOLOGIN, made by the least-privilege migration) holds DML on every table and
no DDL; the ledger's entries and checkpoints are INSERT-only for it. The embedded stack logs in as
``voxledger_app`` (a member, with a generated password); the owner's URL is kept out of
``.voxledger/env`` in ``.voxledger/owner.env`` (0600), read only by provisioning and migrations.

With an external server: ``VOXLEDGER_DATABASE_OWNER_URL`` names the owner (migrations) and
``VOXLEDGER_DATABASE_URL`` the login every process uses; ``voxledger up`` grants the writer role
to that login when the owner may (else it says what the DBA must run).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import psycopg
from psycopg import sql
from pydantic import SecretStr
from sqlalchemy.engine import make_url

from services.platform.db import database_url
from services.platform.settings import ENV_PREFIX, Settings

WRITER_ROLE = "voxledger_writer"
APP_ROLE = "voxledger_app"
OWNER_ENV_VAR = f"{ENV_PREFIX}DATABASE_OWNER_URL"


def owner_env_path(settings: Settings) -> Path:
    return settings.home / "owner.env"


def owner_database_url(settings: Settings) -> str:
    """The owner's URL: the setting, else ``.voxledger/owner.env``, else the one URL there is."""
    raw = (settings.database_owner_url.get_secret_value() if settings.database_owner_url
           is not None else _read_owner_env(owner_env_path(settings)))
    if raw is None:
        return database_url(settings)
    return database_url(settings.model_copy(update={"database_url": SecretStr(raw)}))


def owner_settings(settings: Settings) -> Settings:
    """``settings`` whose database URL is the owner's (migrations, provisioning, tamper tests)."""
    return settings.model_copy(update={"database_url": SecretStr(owner_database_url(settings))})


def _read_owner_env(path: Path) -> str | None:
    try:
        text = path.read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith(OWNER_ENV_VAR + "="):
            return line.split("=", 1)[1].strip()
    return None


def _conninfo(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def ensure_app_role(owner_url: str, password: str) -> None:
    """Create or update the embedded stack's login role; it may do what the writer role may."""
    with psycopg.connect(_conninfo(owner_url), autocommit=True, connect_timeout=10) as conn:
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (APP_ROLE,)).fetchone()
        verb = sql.SQL("ALTER") if exists else sql.SQL("CREATE")
        # NOSUPERUSER NOCREATEDB NOCREATEROLE: explicit, so an old role cannot keep more rights
        conn.execute(sql.SQL("{} ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE INHERIT "
                             "PASSWORD {}").format(verb, sql.Identifier(APP_ROLE),
                                                   sql.Literal(password)))
        conn.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(WRITER_ROLE),
                                                      sql.Identifier(APP_ROLE)))


def grant_writer_to_login(settings: Settings, progress: Callable[[str], None]) -> None:
    """External server: make the login of VOXLEDGER_DATABASE_URL a writer, if it is not the owner."""
    app_user = make_url(database_url(settings)).username
    owner = owner_database_url(settings)
    if not app_user or app_user == make_url(owner).username:
        progress(f"postgres: no separate owner: migrations and every process use the login of "
                 f"{ENV_PREFIX}DATABASE_URL; for least privilege set {OWNER_ENV_VAR} to the "
                 f"owner and {ENV_PREFIX}DATABASE_URL to a login in {WRITER_ROLE} (README: "
                 "Isolation and operations)")
        return
    try:
        with psycopg.connect(_conninfo(owner), autocommit=True, connect_timeout=10) as conn:
            conn.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(WRITER_ROLE),
                                                          sql.Identifier(app_user)))
        progress(f"postgres: {app_user} is a member of {WRITER_ROLE}")
    except psycopg.Error:
        progress(f"postgres: could not grant {WRITER_ROLE} to {app_user}; ask the DBA to run "
                 f"GRANT {WRITER_ROLE} TO {app_user}")
