"""The console's way into the API: an in-process HTTP call with the signed-in token.

The console never reads a table or checks a role itself. Each page asks the API (the same app,
over ASGI, no socket) exactly what a client holding the token would, so the token check, the
rate limit, the role rules, tenant isolation and the access log (``access.*`` sealed before any
content is returned) are the API's own. A 403 or 404 from the API is what the page shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import httpx
from fastapi import FastAPI

# The API answers in-process; a bound keeps a stuck handler from hanging a page forever.
TIMEOUT_S: Final = 120.0


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any  # parsed JSON (dict) or bytes for audio and downloads
    headers: dict[str, str]

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def detail(self) -> str:
        if isinstance(self.body, dict):
            return str(self.body.get("detail") or self.body.get("title") or self.status)
        return f"HTTP {self.status}"


class Api:
    def __init__(self, app: FastAPI, token: str) -> None:
        self._app, self._token = app, token

    async def get(self, path: str, params: dict[str, Any] | None = None, *,
                  raw: bool = False) -> Answer:
        return await self._call("GET", path, params, None, raw)

    async def post(self, path: str, body: dict[str, Any], *,
                   params: dict[str, Any] | None = None) -> Answer:
        """A JSON ``POST`` (the console's state changes: holds, erasure requests)."""
        return await self._call("POST", path, params, body, False)

    async def _call(self, method: str, path: str, params: dict[str, Any] | None,
                    body: dict[str, Any] | None, raw: bool) -> Answer:
        clean = {k: v for k, v in (params or {}).items() if v not in (None, "")}
        transport = httpx.ASGITransport(app=self._app)
        async with httpx.AsyncClient(transport=transport, base_url="http://console.internal",
                                     timeout=TIMEOUT_S) as client:
            res = await client.request(method, path, params=clean, json=body,
                                       headers={"Authorization": f"Bearer {self._token}"})
        headers = {k.lower(): v for k, v in res.headers.items()}
        if raw and res.is_success:
            return Answer(res.status_code, res.content, headers)
        try:
            parsed = res.json()
        except ValueError:
            parsed = {"detail": f"HTTP {res.status_code}"}
        return Answer(res.status_code, parsed, headers)
