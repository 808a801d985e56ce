"""The app without any server behind it: OpenAPI, docs, problem+json for unauthenticated calls
and unknown routes (nothing here touches a database)."""

from __future__ import annotations

import httpx

from services.api.app import create_app
from services.platform.settings import Settings


async def test_openapi_docs_and_problems() -> None:
    app = create_app(Settings())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://api") as client:
        spec = (await client.get("/openapi.json")).json()
        assert spec["info"]["title"] == "Voxledger API"
        assert all(p.startswith("/v1/") for p in spec["paths"])
        for p in ("/v1/sessions", "/v1/sessions/{session_id}", "/v1/sessions/{session_id}/audio",
                  "/v1/search", "/v1/access-log"):
            assert p in spec["paths"]
        errors = [r for path in spec["paths"].values() for op in path.values()
                  for code, r in op["responses"].items() if code[0] in "45"]
        assert errors and all(list(r["content"]) == ["application/problem+json"] for r in errors)
        assert "swagger" in (await client.get("/docs")).text.lower()
        res = await client.get("/v1/sessions")
        assert res.status_code == 401
        assert res.headers["content-type"] == "application/problem+json"
        assert res.json()["title"] == "Unauthorized" and res.json()["status"] == 401
        missing = await client.get("/v1/nothing-here?q=secret-words")
        assert missing.status_code == 404 and "secret-words" not in missing.text


async def test_405_lists_every_method_of_the_path() -> None:
    app = create_app(Settings())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://api") as client:
        res = await client.request("OPTIONS", "/v1/tokens")
        assert res.status_code == 405 and res.headers["allow"] == "GET, POST"
        assert res.headers["content-type"] == "application/problem+json"


async def test_unknown_query_parameters_are_422_without_echo() -> None:
    app = create_app(Settings())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://api") as client:
        res = await client.get("/v1/sessions", params={"veiw-secret": "original"})
        assert res.status_code == 422 and "veiw-secret" not in res.text
        assert (await client.get("/v1/sessions", params={"limit": 5})).status_code == 401
