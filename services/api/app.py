"""The app factory: ``create_app(settings, ...)`` builds the FastAPI app with its routes.

The composition root of the API: it builds the engine, S3 client, keys and clock unless the
caller passes them (tests, ``voxledger run``), and disposes of what it built at shutdown. The
reviewer console (a later issue) mounts its templates and static files on the returned app; a
capability adds its routes as one module under ``routes/`` listed in :data:`ROUTERS`.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.openapi.utils import get_openapi
from sqlalchemy.ext.asyncio import AsyncEngine

from services.api import problems
from services.api.console.routes import install as install_console
from services.api.ratelimit import TokenBuckets
from services.api.routes import (
    access_log,
    audio,
    erasure,
    evidence,
    exports,
    holds,
    ledger,
    me,
    retention,
    search,
    sessions,
)
from services.api.state import ApiState, SealFn
from services.platform.clock import Clock
from services.platform.keys import KeyProvider
from services.platform.settings import Settings

ROUTERS = (me.router, sessions.router, audio.router, evidence.router, search.router,
           access_log.router, ledger.router, exports.router, holds.router, erasure.router,
           retention.router)
API_VERSION = "1"


def create_app(settings: Settings, *, engine: AsyncEngine | None = None,
               keys: KeyProvider | None = None, s3: Any = None, clock: Clock | None = None,
               seal: SealFn | None = None) -> FastAPI:
    owned: list[AsyncEngine] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.vox = _state(settings, engine, keys, s3, clock, seal, owned)
        try:
            yield
        finally:
            for e in owned:
                await e.dispose()

    app = FastAPI(title="Voxledger API", version=API_VERSION, lifespan=lifespan,
                  description=_DESCRIPTION, openapi_url="/openapi.json", docs_url="/docs",
                  redoc_url=None, dependencies=[Depends(known_query)])
    problems.install(app)
    for router in ROUTERS:
        app.include_router(router, prefix="/v1")
    install_console(app)  # the reviewer console under /console (issue 18)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


async def known_query(request: Request) -> None:
    """Refuse query parameters a route does not declare: a typo (``veiw=original``) must not
    silently give another answer. The message does not repeat the names sent."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return
    if set(request.query_params) - _query_names(dependant):
        raise problems.bad_request("query: unknown parameter(s); see /openapi.json")


def _query_names(dependant: Any) -> set[str]:
    names = {p.alias for p in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


def _state(settings: Settings, engine: AsyncEngine | None, keys: KeyProvider | None, s3: Any,
           clock: Clock | None, seal: SealFn | None, owned: list[AsyncEngine]) -> ApiState:
    from services.ledger import journal
    from services.platform.db import make_async_engine
    from services.platform.keys import LocalKeyProvider
    from services.platform.s3 import make_s3_client

    if engine is None:
        engine = make_async_engine(settings, pool_size=5)
        owned.append(engine)
    keys = keys or LocalKeyProvider.from_file(settings.keyring_path)
    s3 = s3 if s3 is not None else make_s3_client(settings)
    clock = clock or settings.clock()
    db, ks = engine, keys

    async def journal_seal(tenant: str, type_: str, body: Mapping[str, Any]) -> Any:
        return await journal.append(db, settings, ks, tenant, type_, body, now=clock.now())

    return ApiState(settings, engine, keys, s3, clock,
                    TokenBuckets(settings.api_rate_per_s, settings.api_rate_burst),
                    seal or journal_seal)


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, description=app.description,
                         routes=app.routes)
    # Errors are RFC 9457 documents: declare them with their media type.
    for path in schema.get("paths", {}).values():
        for op in path.values():
            for status, resp in op.get("responses", {}).items():
                content = resp.get("content", {})
                if status[:1] in "45" and "application/json" in content:
                    content[problems.MEDIA_TYPE] = content.pop("application/json")
    app.openapi_schema = schema
    return schema


_DESCRIPTION = """\
Voxledger's HTTP API. Every call needs `Authorization: Bearer <token>` (`voxledger tokens
create`); a token belongs to one tenant and one role (admin, reviewer, auditor, data, privacy)
and sees only its tenant: another tenant's ids are 404. Reading originals, audio or searching
originals needs a `reason`, sealed in the tenant's ledger as an `access.*` event before anything
is returned. Errors are RFC 9457 `application/problem+json`.
"""
