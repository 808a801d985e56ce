"""What every request handler may use, built once by the app's composition root."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncEngine

from services.api.ratelimit import TokenBuckets
from services.platform.clock import Clock
from services.platform.forget import ForgetContext
from services.platform.keys import KeyProvider
from services.platform.settings import Settings

# journal.append's shape; tests inject a failing one to check that nothing is returned then.
SealFn = Callable[[str, str, Mapping[str, Any]], Awaitable[Any]]


@dataclass
class ApiState:
    settings: Settings
    engine: AsyncEngine
    keys: KeyProvider
    s3: Any  # boto3 client (blocking: call through asyncio.to_thread)
    clock: Clock
    limiter: TokenBuckets
    seal: SealFn  # (tenant, type, body) -> sealed ref

    def forget(self) -> ForgetContext:
        """The context holds, erasure and retention take (the same clients, no NATS)."""
        return ForgetContext(settings=self.settings, engine=self.engine, s3=self.s3,
                             keys=self.keys, clock=self.clock)


def state(request: Request) -> ApiState:
    found: ApiState = request.app.state.vox
    return found


St = Annotated[ApiState, Depends(state)]
