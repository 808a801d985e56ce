"""Destroying a session's data key: the one way a wrapped DEK leaves ``ledger_sessions``.

Erasure and retention call :func:`destroy_session_key`. It runs the database function
``voxledger_destroy_session_key`` (SECURITY DEFINER, owned by the schema owner), which nulls the
key and appends who (the database login), when and why to ``ledger_key_destructions``. The
pipeline's role cannot update the key column or delete a session row itself, and a trigger refuses
any other change of the key, so there is no second, unaudited path. Law 5: the entries, leaves and
checkpoints stay; verify reports the session as erased.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

MAX_REASON = 200


async def destroy_session_key(conn: AsyncConnection, tenant: str, session: str,
                              reason: str) -> bool:
    """Destroy the session's key in the caller's transaction. True when a key was destroyed,
    False when there was none left (already erased, or no such session); both are audited.

    ``reason`` names the cause ("erasure request <id>", "retention"), never personal data."""
    if not reason.strip() or len(reason) > MAX_REASON:
        raise ValueError(f"reason must be 1 to {MAX_REASON} characters")
    result = await conn.execute(text("SELECT voxledger_destroy_session_key(:t, :s, :r)"),
                                {"t": tenant, "s": session, "r": reason})
    return bool(result.scalar_one())
