"""Retention policies: per tenant and data class, optionally per named retention class.

Resolution for one session, one data class (most specific first):
1. the tenant's policy for the session's retention class (``session.started.retention_class``);
2. the tenant's own policy (``retention_class = ""``);
3. ``VOXLEDGER_RETENTION_DEFAULTS``;
4. forever.

``days`` of ``None`` means forever. A change is one transaction: the row and a
``retention.policy_changed`` journal event (who, when, old, new) sealed into the tenant's ledger.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.ledger.journal import append_in
from services.platform.keys import KeyProvider
from services.platform.settings import Settings
from services.retention.bounds import DATA_CLASSES, RAW_CLASSES, check_days
from services.retention.models import RetentionPolicy

TENANT = ""  # retention_class of a tenant-wide policy row
RETENTION_CLASS = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
# Inner spaces allowed: an API token's name ("token:night shift") is the actor of its changes.
ACTOR = re.compile(r"^[A-Za-z0-9@._:+-](?:[A-Za-z0-9 @._:+-]{0,126}[A-Za-z0-9@._:+-])?$")
ACTOR_RULE = "--actor must be 1-128 characters of letters, digits, @._:+- (inner spaces allowed)"
TENANT_ID = re.compile(r"^[a-z0-9-]{1,63}$")


class PolicyError(ValueError):
    """A policy that cannot be set; the message says what to do."""


@dataclass
class Policies:
    """A tenant's effective policies: settings defaults overlaid by the tenant's rows."""

    tenant_id: str
    defaults: dict[str, int | None]
    tenant: dict[str, int | None] = field(default_factory=dict)
    named: dict[str, dict[str, int | None]] = field(default_factory=dict)

    def days(self, data_class: str, retention_class: str = TENANT) -> int | None:
        if retention_class and data_class in self.named.get(retention_class, {}):
            return self.named[retention_class][data_class]
        if data_class in self.tenant:
            return self.tenant[data_class]
        return self.defaults.get(data_class)

    def source(self, data_class: str, retention_class: str = TENANT) -> str:
        if retention_class and data_class in self.named.get(retention_class, {}):
            return f"class:{retention_class}"
        if data_class in self.tenant:
            return "tenant"
        return "default" if data_class in self.defaults else "forever"

    def finite(self) -> bool:
        """Whether any class of any retention class ever expires (else a run has nothing to do)."""
        values = [*self.defaults.values(), *self.tenant.values(),
                  *(d for m in self.named.values() for d in m.values())]
        return any(v is not None for v in values)

    def alignment_warnings(self, stream_max_age_days: float) -> list[str]:
        """A raw-data period the NATS buffer outlasts (the stream's max age was raised after the
        policy was set): raw frames would stay in JetStream after the ledger disposed of them."""
        out = []
        for dc in sorted(RAW_CLASSES):
            periods = {"tenant": self.days(dc), **{f"class {rc}": m[dc]
                                                    for rc, m in self.named.items() if dc in m}}
            for where, days in periods.items():
                if days is not None and days < stream_max_age_days:
                    out.append(f"{dc} ({where}) is kept {days} d but the NATS buffer keeps raw "
                               f"frames up to {stream_max_age_days:g} d: lower "
                               "VOXLEDGER_STREAM_MAX_AGE_DAYS or lengthen the policy")
        return out

    def as_json(self) -> dict[str, Any]:
        return {
            "tenant": self.tenant_id,
            "classes": {c: {"days": self.days(c), "source": self.source(c)} for c in DATA_CLASSES},
            "retention_classes": {
                rc: {c: {"days": d} for c, d in sorted(m.items())}
                for rc, m in sorted(self.named.items())},
        }


def check_tenant(tenant: str) -> None:
    if not TENANT_ID.match(tenant):
        raise PolicyError(f"tenant {tenant!r} is not a tenant id ([a-z0-9-]{{1,63}})")


async def load(conn: AsyncConnection, settings: Settings, tenant: str) -> Policies:
    rows = (await conn.execute(select(RetentionPolicy).where(
        RetentionPolicy.tenant_id == tenant))).all()
    pol = Policies(tenant, dict(settings.retention_defaults))
    for r in rows:
        if r.retention_class == TENANT:
            pol.tenant[r.data_class] = r.days
        else:
            pol.named.setdefault(r.retention_class, {})[r.data_class] = r.days
    return pol


async def tenants_with_policies(conn: AsyncConnection) -> list[str]:
    rows = await conn.execute(select(RetentionPolicy.tenant_id).distinct())
    return sorted(str(r[0]) for r in rows)


_ACTIVE = text("""
    SELECT tenant_id FROM retention_policies WHERE days IS NOT NULL
    UNION SELECT tenant_id FROM legal_holds WHERE released_at IS NULL
    UNION SELECT tenant_id FROM legal_hold_objects
""")


async def tenants_to_run(conn: AsyncConnection, settings: Settings) -> list[str]:
    """Tenants a run over "every tenant" has work for: some period is finite (every tenant when
    a default is), or S3 legal holds to keep in step. Others are skipped without a query each."""
    if any(v is not None for v in settings.retention_defaults.values()):
        rows = await conn.execute(text("SELECT tenant_id FROM ledger_trees"))
        return sorted({str(r[0]) for r in rows} | {str(r[0]) for r in await conn.execute(_ACTIVE)})
    return sorted(str(r[0]) for r in await conn.execute(_ACTIVE))


async def set_policy(engine: AsyncEngine, settings: Settings, keys: KeyProvider, *, tenant: str,
                     data_class: str, days: int | None, actor: str, now: datetime,
                     retention_class: str = TENANT) -> dict[str, Any]:
    """Set one period and journal the change; returns the journal body (no PII)."""
    check_tenant(tenant)
    if retention_class and not RETENTION_CLASS.match(retention_class):
        raise PolicyError(f"retention class {retention_class!r} must match [a-z0-9][a-z0-9_-]*")
    if not ACTOR.match(actor):
        raise PolicyError(ACTOR_RULE)
    try:
        check_days(data_class, days, settings.stream_max_age_days)
    except ValueError as exc:
        raise PolicyError(str(exc)) from None
    async with engine.begin() as conn:
        old = (await load(conn, settings, tenant)).days(data_class, retention_class)
        stmt = pg_insert(RetentionPolicy).values(
            tenant_id=tenant, data_class=data_class, retention_class=retention_class, days=days,
            changed_by=actor, changed_at=now)
        await conn.execute(stmt.on_conflict_do_update(
            index_elements=["tenant_id", "data_class", "retention_class"],
            set_={"days": days, "changed_by": actor, "changed_at": now}))
        body: dict[str, Any] = {
            "data_class": data_class, "retention_class": retention_class or None,
            "old_days": old, "new_days": days, "changed_by": actor,
            "changed_at": now.isoformat()}
        ref = await append_in(conn, settings, keys, tenant, "retention.policy_changed", body,
                              now=now)
    return {**body, "journal_position": ref.position}
