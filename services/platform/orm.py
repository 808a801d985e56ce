"""The declarative base every capability's tables hang off, so Alembic sees one metadata."""

from __future__ import annotations

import importlib
from datetime import datetime

from sqlalchemy import DateTime, MetaData, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Every module that declares tables; Alembic and the schema test import them all.
MODEL_MODULES = (
    "services.platform.deadletter",
    "services.platform.consumer",
    "services.ledger.catalog_models",
    "services.ledger.models",
    "services.audio.models",
    "services.transcripts.models",
    "services.redaction.models",
    "services.erasure.models",
    "services.retention.models",
    "services.api.models",
)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Timestamped:
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )


def load_all_models() -> MetaData:
    for module in MODEL_MODULES:
        importlib.import_module(module)
    return Base.metadata
