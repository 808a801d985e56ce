"""Running the app under uvicorn: alone (``voxledger serve``) or beside the consumers (``run``).

:class:`EmbeddedServer` leaves signal handling to its host process: ``run`` owns SIGINT/SIGTERM
and stops the server by setting ``should_exit``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterator

import uvicorn

from services.platform.settings import Settings

log = logging.getLogger(__name__)


class EmbeddedServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    @property
    def url(self) -> str:
        host, port = self.servers[0].sockets[0].getsockname()[:2]
        return f"http://{host}:{port}"


def make_server(settings: Settings, host: str | None = None, port: int | None = None
                ) -> EmbeddedServer:
    from services.api.app import create_app

    config = uvicorn.Config(create_app(settings), host=host or settings.api_host,
                            port=settings.api_port if port is None else port,
                            log_level="warning", access_log=False, lifespan="on",
                            server_header=False, proxy_headers=False)
    return EmbeddedServer(config)


async def serve(server: EmbeddedServer, on_ready: Callable[[str], None] | None = None,
                stop: asyncio.Event | None = None) -> None:
    """Serve until ``stop`` is set (or the server exits); ``on_ready(url)`` once listening."""
    task = asyncio.create_task(server.serve())
    while not server.started and not task.done():
        await asyncio.sleep(0.05)
    if task.done():
        task.result()  # a bind failure (port in use) surfaces here
        raise RuntimeError("the API server stopped before it started")
    log.info("API listening on %s", server.url)
    if on_ready is not None:
        on_ready(server.url)
    waiters = [task] + ([asyncio.create_task(stop.wait())] if stop is not None else [])
    await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    server.should_exit = True
    await task
    for w in waiters:
        w.cancel()
