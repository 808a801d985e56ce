"""What is due: (session, data class) pairs whose period has passed as of a date (read-only).

A pair is due when the session started at least ``days`` before ``as_of`` (its retention class's
period for that data class, see policy.py) and it has not been disposed yet. Holds are not
applied here: the caller reports held pairs as held.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from services.retention.bounds import DATA_CLASSES
from services.retention.policy import Policies

MAX_DUE_PER_CLASS: Final = 20_000  # bound per run; the next run takes the rest

_CLASSES = text("SELECT DISTINCT retention_class FROM retention_sessions WHERE tenant_id = :t")
_DUE = text("""
    SELECT r.session_id, r.started_at FROM retention_sessions r
     WHERE r.tenant_id = :t AND r.retention_class = :rc AND r.started_at <= :cutoff
       AND NOT EXISTS (SELECT 1 FROM retention_disposals d
                        WHERE d.tenant_id = r.tenant_id AND d.session_id = r.session_id
                          AND d.data_class = :dc)
     ORDER BY r.session_id LIMIT :n
""")


@dataclass
class Item:
    session_id: str
    data_class: str
    retention_class: str
    age_days: int
    status: str = "due"  # due | disposed | held | failed | pending
    matter: str | None = None
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"session_id": self.session_id, "class": self.data_class,
                               "status": self.status, "age_days": self.age_days,
                               "retention_class": self.retention_class}
        if self.matter:
            out["matter"] = self.matter
        if self.error:
            out["error"] = self.error
        return out


def class_order(data_class: str) -> int:
    return DATA_CLASSES.index(data_class) if data_class in DATA_CLASSES else len(DATA_CLASSES)


async def due(conn: AsyncConnection, tenant: str, as_of: datetime, policies: Policies,
              classes: tuple[str, ...] = DATA_CLASSES) -> list[Item]:
    items: list[Item] = []
    rcs = sorted(str(r[0]) for r in await conn.execute(_CLASSES, {"t": tenant}))
    for dc in classes:
        found: list[Item] = []
        for rc in rcs:
            days = policies.days(dc, rc)
            if days is None:
                continue
            rows = await conn.execute(_DUE, {"t": tenant, "rc": rc, "dc": dc,
                                             "cutoff": as_of - timedelta(days=days),
                                             "n": MAX_DUE_PER_CLASS})
            found += [Item(str(r[0]), dc, rc, (as_of - r[1]).days) for r in rows]
        found.sort(key=lambda i: i.session_id)
        items += found[:MAX_DUE_PER_CLASS]
    return items
