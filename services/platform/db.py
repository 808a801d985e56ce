"""The Postgres engine. SQLAlchemy 2 with psycopg 3 (sync and async share one driver); the
sealer's async engine runs on asyncpg instead (``services.runner.main.SEALER_DRIVER``: its entry
rows go in by ``copy_records_to_table``, README "The sealer's write path")."""

from __future__ import annotations

from sqlalchemy import Engine, create_engine
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from services.platform.settings import Settings, SettingsError


def database_url(settings: Settings, driver: str = "psycopg") -> str:
    """The SQLAlchemy URL of ``VOXLEDGER_DATABASE_URL`` on ``driver`` (psycopg or asyncpg)."""
    if settings.database_url is None:
        raise SettingsError(
            "VOXLEDGER_DATABASE_URL: not set; run `voxledger up` or point it at a Postgres server"
        )
    url = settings.database_url.get_secret_value()
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return f"postgresql+{driver}://" + url[len(prefix):]
    raise SettingsError("VOXLEDGER_DATABASE_URL: must start with postgresql://")


def make_engine(settings: Settings) -> Engine:
    return create_engine(database_url(settings), pool_pre_ping=True)


def make_async_engine(settings: Settings, pool_size: int = 5, driver: str = "psycopg"
                      ) -> AsyncEngine:
    return create_async_engine(database_url(settings, driver), pool_pre_ping=True,
                               pool_size=pool_size)
