"""Provisioning after the servers run: database, migrations, JetStream stream, S3 buckets."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import psycopg
from alembic.config import Config
from sqlalchemy.engine import make_url

from alembic import command
from services.platform.db import database_url
from services.platform.nats import connect, ensure_stream
from services.platform.roles import (
    APP_ROLE,
    ensure_app_role,
    grant_writer_to_login,
    owner_database_url,
    owner_settings,
)
from services.platform.s3 import ensure_buckets, make_s3_client
from services.platform.settings import Settings

REPO_ROOT = Path(__file__).resolve().parents[2]


def alembic_config(settings: Settings) -> Config:
    ini = REPO_ROOT / "alembic.ini"
    cfg = Config(str(ini))
    cfg.set_main_option("script_location", str(REPO_ROOT / "alembic"))
    cfg.set_main_option("sqlalchemy.url", database_url(settings).replace("%", "%%"))
    return cfg


def ensure_database(settings: Settings) -> None:
    url = make_url(owner_database_url(settings))
    admin = url.set(drivername="postgresql", database="postgres")
    conninfo = admin.render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True, connect_timeout=10) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                              (url.database,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{url.database}"')


def migrate(settings: Settings) -> None:
    # Migrations run as the owner; every other process as a writer without DDL.
    command.upgrade(alembic_config(owner_settings(settings)), "head")


async def _stream(settings: Settings) -> str:
    nc = await connect(settings, name="voxledger-provision")
    try:
        return await ensure_stream(settings, nc)
    finally:
        await nc.close()


def provision(settings: Settings, progress: Callable[[str], None], *, postgres_managed: bool,
              app_password: str | None = None) -> None:
    if postgres_managed:
        ensure_database(settings)
    migrate(settings)
    progress("postgres: migrations at head")
    if postgres_managed and app_password is not None:
        ensure_app_role(owner_database_url(settings), app_password)
        progress(f"postgres: processes connect as {APP_ROLE} (no DDL; ledger append-only)")
    else:
        grant_writer_to_login(settings, progress)
    progress(f"nats: stream {settings.stream_name} {asyncio.run(_stream(settings))}")
    client = make_s3_client(settings)
    created = ensure_buckets(settings, client)
    progress("s3: buckets " + (f"created {', '.join(created)}" if created else "present"))
    from services.retention.canary import describe, run_canary  # retention: is object lock real?

    for line in describe(run_canary(settings, client)):
        progress(line)
