"""One forget path (DESIGN.md "Retention, legal hold, erasure"): the typed erase registry.

Every capability that stores anything about a session provides one :class:`Forgetter` and lists
it in its own ``forget`` module; ``services/erasure/registry.py`` composes the list (typed objects,
not module names). Erasure (a person), retention (one data class after its period) and tenant
offboarding all call the same methods, so nothing can be forgotten in one path and kept in another.

- ``erase(ctx, scope)`` removes or shreds everything the capability holds for the sessions;
- ``dispose(ctx, scope, data_class)`` does the same for one retention class only (a capability
  that owns no data of that class returns an empty outcome);
- ``tables`` and ``buckets`` name what it covers: a test enumerates every table of the schema and
  every bucket and fails when one is covered by no forgetter (or listed in ``NOT_SESSION_DATA``
  with a reason).

Errors: a forgetter raises :class:`ForgetError` with a content-free reason; callers record it per
store and carry on with the others (one store failing must not hide what the others did).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncEngine

from services.platform.clock import Clock
from services.platform.keys import KeyProvider
from services.platform.settings import Settings


class DataClass(StrEnum):
    RAW_EVENTS = "raw_events"  # ledger payloads + raw audio segments (leaves/checkpoints stay)
    RECORDINGS = "recordings"
    TRANSCRIPTS = "transcripts"
    REDACTED_TRANSCRIPTS = "redacted_transcripts"
    TRAINING_EXPORTS = "training_exports"
    DEAD_LETTERS = "dead_letters"
    ACCESS_LOG = "access_log"


class ForgetError(Exception):
    """A store could not forget what it was asked to; the message never carries content."""


@dataclass(frozen=True)
class ForgetScope:
    tenant_id: str
    session_ids: tuple[str, ...]
    # Why, without PII: "erasure:<request id>", "retention:<class>", "tenant-offboarding".
    reason: str


@dataclass(frozen=True)
class BeyondUse:
    """Something made unreadable but not deletable now (a compliance-locked object)."""

    store: str
    key: str
    until: datetime | None


@dataclass
class StoreOutcome:
    store: str
    deleted: int = 0  # rows, objects, object versions or messages removed
    shredded: int = 0  # items made unreadable by destroying their key
    beyond_use: list[BeyondUse] = field(default_factory=list)
    detail: dict[str, int] = field(default_factory=dict)  # per table/bucket counts

    def add(self, other: StoreOutcome) -> None:
        self.deleted += other.deleted
        self.shredded += other.shredded
        self.beyond_use.extend(other.beyond_use)
        for k, v in other.detail.items():
            self.detail[k] = self.detail.get(k, 0) + v


@dataclass(frozen=True)
class ForgetContext:
    """What a forgetter may use; built once by the composition root of the calling process."""

    settings: Settings
    engine: AsyncEngine
    s3: Any  # a boto3 S3 client (blocking: call it through asyncio.to_thread)
    keys: KeyProvider
    clock: Clock
    nats: Any | None = None  # a connected nats.aio.client.Client, when the caller has one


class Forgetter(Protocol):
    """The hooks every capability holding session data must define (mypy checks conformance)."""

    @property
    def store(self) -> str:
        """Short stable name: "ledger", "catalog", "transcripts", "audio", "redaction", ..."""
        ...

    @property
    def tables(self) -> tuple[str, ...]:
        """Every table holding session data that this forgetter covers."""
        ...

    @property
    def buckets(self) -> tuple[str, ...]:
        """Settings field names of the buckets it covers (``"bucket_audio"``...)."""
        ...

    @property
    def classes(self) -> frozenset[DataClass]:
        """The retention classes whose data this capability holds."""
        ...

    async def erase(self, ctx: ForgetContext, scope: ForgetScope) -> StoreOutcome: ...

    async def dispose(self, ctx: ForgetContext, scope: ForgetScope,
                      data_class: DataClass) -> StoreOutcome: ...


class HoldChecker(Protocol):
    """Legal holds beat retention and erasure (law 6); the retention capability provides it."""

    async def held(self, ctx: ForgetContext, tenant_id: str,
                   session_ids: tuple[str, ...]) -> dict[str, str]:
        """Held sessions among ``session_ids``, each with the matter (no PII) that holds it."""
        ...


class NoHolds:
    async def held(self, ctx: ForgetContext, tenant_id: str,
                   session_ids: tuple[str, ...]) -> dict[str, str]:
        return {}


async def delete_session_rows(ctx: ForgetContext, store: str, tables: tuple[str, ...],
                              scope: ForgetScope) -> StoreOutcome:
    """Delete the scope's rows from ``tables`` (keyed by tenant_id, session_id) in one
    transaction, in the order given (children first). Table names come from code, never input."""
    from sqlalchemy import text

    out = StoreOutcome(store)
    async with ctx.engine.begin() as conn:
        for table in tables:
            n = (await conn.execute(text(
                f"DELETE FROM {table} WHERE tenant_id = :t AND session_id = ANY(:s)"),
                {"t": scope.tenant_id, "s": list(scope.session_ids)})).rowcount
            out.deleted += n
            out.detail[table] = n
    return out
