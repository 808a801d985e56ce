"""Per-session advisory locks of the audio recorder: one writer per recording across processes.

The locks are session-level Postgres advisory locks held on one connection of their own, so a
killed process's locks go with its connection. Sessions are stepped concurrently, so the
connection is shared: statements on it run one at a time (an ``asyncio.Lock``).

Errors: :class:`LocksLost` when the connection broke (Postgres restarted): every lock it held is
gone, and the caller must drop every job that relied on one.
"""

from __future__ import annotations

import asyncio
import contextlib

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine


class LocksLost(Exception):
    """The lock connection broke: every session lock this process held is released."""


class SessionLocks:
    def __init__(self) -> None:
        self.conn: AsyncConnection | None = None
        self._guard = asyncio.Lock()  # one statement at a time on the shared connection

    async def take(self, engine: AsyncEngine, tenant: str, session: str) -> bool:
        """Try to lock the session's recording; False when another process holds it."""
        async with self._guard:
            if self.conn is None:
                self.conn = await engine.connect()
            return await self._run(True, tenant, session)

    async def release(self, tenant: str, session: str) -> None:
        async with self._guard:
            if self.conn is not None:
                await self._run(False, tenant, session)

    async def _run(self, take: bool, tenant: str, session: str) -> bool:
        assert self.conn is not None
        fn = func.pg_try_advisory_lock if take else func.pg_advisory_unlock
        try:
            got = (await self.conn.execute(select(fn(func.hashtext(
                f"voxledger-audio:{tenant}/{session}"))))).scalar()
            await self.conn.commit()
        except Exception as exc:
            # Keeping the broken connection failed every later statement with
            # PendingRollbackError: connect afresh next time.
            await self._forget()
            raise LocksLost(type(exc).__name__) from exc
        return bool(got)

    async def _forget(self) -> None:
        conn, self.conn = self.conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.invalidate()
            with contextlib.suppress(Exception):
                await conn.close()

    async def close(self) -> None:
        async with self._guard:
            if self.conn is not None:
                conn, self.conn = self.conn, None
                await conn.close()
