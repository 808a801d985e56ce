"""Alembic environment: one metadata from every capability's models, URL from settings."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from services.platform.orm import load_all_models

config = context.config
target_metadata = load_all_models()


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    if url:
        return url
    from services.platform.roles import owner_database_url
    from services.platform.settings import load_settings

    return owner_database_url(load_settings())  # DDL: the owner, never the pipeline's role


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True,
                      compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = create_engine(_url(), poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata,
                          compare_type=True)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
