"""Holds with their S3 side: place → lock the objects, release → unlock what no hold covers.

The database is the authority (the hold row and its journal event commit first); the S3 legal
holds mirror it. :func:`sync_locks` brings the mirror up to date for a tenant (objects written
after a hold was placed, sessions a subject or tenant hold gained, a crash between the commit and
the S3 calls); the disposition job runs it every time, and every place/release runs it too.
"""

from __future__ import annotations

from typing import Any

from services.platform.forget import ForgetContext
from services.retention import holds as H
from services.retention.locks import LockReport, lock_sessions, locked_sessions, unlock_sessions


async def sync_locks(ctx: ForgetContext, tenant: str) -> LockReport:
    async with ctx.engine.connect() as conn:
        held = await H.all_held(conn, tenant)
    report = await lock_sessions(ctx, tenant, sorted(held))
    stale = sorted(await locked_sessions(ctx, tenant) - held)
    if stale:
        report.unlocked = (await unlock_sessions(ctx, tenant, stale, held)).unlocked
    return report


async def place(ctx: ForgetContext, tenant: str, target: H.Target, matter: str, reason: str,
                actor: str) -> dict[str, Any]:
    hold = await H.place(ctx, tenant, target, matter, reason, actor)
    async with ctx.engine.connect() as conn:
        covered = await H.sessions_of(conn, tenant, hold["hold_id"])
    locks = await sync_locks(ctx, tenant)
    warnings = list(locks.warnings)
    if target.scope == "session" and not covered:
        warnings.append(f"session {target.session_id} is not recorded in tenant {tenant} (yet); "
                        "the hold covers it when it is")
    return {**hold, "sessions": len(covered), "objects_locked": locks.locked,
            "warnings": warnings}


async def release(ctx: ForgetContext, hold_id: str, reason: str, actor: str) -> dict[str, Any]:
    hold = await H.release(ctx, hold_id, reason, actor)
    locks = await sync_locks(ctx, hold["tenant"])
    return {**hold, "objects_unlocked": locks.unlocked, "warnings": locks.warnings}
