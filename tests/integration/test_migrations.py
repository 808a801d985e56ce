"""`alembic upgrade head` builds exactly the schema the models describe, and downgrades cleanly."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from pydantic import SecretStr
from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import make_url

from alembic import command
from services.platform.db import database_url
from services.platform.orm import load_all_models
from services.platform.provision import alembic_config
from services.platform.settings import Settings

pytestmark = pytest.mark.integration


@pytest.fixture
def scratch_db(owner_settings: Settings) -> Iterator[Settings]:
    settings = owner_settings  # migrations run as the owner
    url = make_url(database_url(settings))
    name = "mig_" + secrets.token_hex(4)
    admin = url.set(drivername="postgresql", database="postgres").render_as_string(False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    scratch = settings.model_copy(update={"database_url": SecretStr(
        url.set(database=name).render_as_string(hide_password=False))})
    try:
        yield scratch
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def test_upgrade_head_matches_models_and_downgrade_is_clean(scratch_db: Settings) -> None:
    cfg = alembic_config(scratch_db)
    command.upgrade(cfg, "head")
    engine = create_engine(database_url(scratch_db))
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}),
                                    load_all_models())
        assert diff == [], f"models and migrations differ: {diff}"
        command.downgrade(cfg, "base")
        with engine.connect() as conn:
            assert set(inspect(conn).get_table_names()) <= {"alembic_version"}
        command.upgrade(cfg, "head")
    finally:
        engine.dispose()
