"""RFC 9457 problem details: every error the API returns, and the handlers that make them.

Messages say what is wrong with the request (a parameter name, a role, a limit) and never echo
what was sent: a search query, a reason or a session id from another tenant could be PII.
Unexpected errors become a bare 500 whose detail names nothing but the request id-free fact.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)
MEDIA_TYPE = "application/problem+json"
# Problem types are URNs: stable identifiers that resolve to nothing (no site to keep up).
TYPE_BASE = "urn:voxledger:problem:"


class Problem(BaseModel):
    """RFC 9457 problem details."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str


class ApiProblem(Exception):
    def __init__(self, status: int, slug: str, title: str, detail: str,
                 headers: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.status, self.slug, self.title, self.detail = status, slug, title, detail
        self.headers = headers or {}
        self.extra = extra


def not_found(what: str = "session") -> ApiProblem:
    # The same answer whether the id is another tenant's or nobody's (law 10).
    return ApiProblem(404, "not-found", "Not found", f"no such {what} in this tenant")


def forbidden(role: str, allowed: str) -> ApiProblem:
    return ApiProblem(403, "forbidden", "Forbidden",
                      f"the {role} role may not do this (allowed: {allowed})")


def bad_request(detail: str) -> ApiProblem:
    return ApiProblem(422, "invalid-request", "Invalid request", detail)


def response(status: int, slug: str, title: str, detail: str,
             headers: dict[str, str] | None = None, **extra: Any) -> JSONResponse:
    body = {"type": TYPE_BASE + slug, "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, headers=headers, media_type=MEDIA_TYPE)


def _validation_detail(exc: RequestValidationError) -> tuple[str, list[dict[str, str]]]:
    errors = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err.get("loc", ()) if p not in ("query", "path", "body"))
        # err["msg"] describes the rule, never the value (pydantic keeps that in err["input"]).
        errors.append({"parameter": where or "request", "problem": str(err.get("msg", ""))})
    first = errors[0] if errors else {"parameter": "request", "problem": "invalid"}
    return f"{first['parameter']}: {first['problem']}", errors


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiProblem)
    async def _problem(_req: Request, exc: ApiProblem) -> JSONResponse:
        return response(exc.status, exc.slug, exc.title, exc.detail, exc.headers, **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_req: Request, exc: RequestValidationError) -> JSONResponse:
        detail, errors = _validation_detail(exc)
        return response(422, "invalid-request", "Invalid request", detail, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(req: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = dict(exc.headers or {})
        if exc.status_code == 405:  # every method of the path, not just the first route's
            headers["Allow"] = ", ".join(_allowed(req))
        titles = {400: "Bad request", 404: "Not found", 405: "Method not allowed"}
        detail = {400: "the request body could not be read (is it JSON?)",
                  404: "no such resource", 405: "method not allowed on this resource"}
        status = exc.status_code
        return response(status, "http-" + str(status), titles.get(status, "Error"),
                        detail.get(status, "the request could not be handled"), headers)

    @app.exception_handler(Exception)
    async def _unexpected(_req: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled %s in the API", type(exc).__name__)  # no message: could hold PII
        return response(500, "internal", "Internal error",
                        "the server failed; nothing was returned. Try again or check its log")


def _allowed(req: Request) -> list[str]:
    """The methods the OpenAPI document lists for the request's path (templates such as
    ``/v1/sessions/{session_id}`` are escaped, then each ``\\{name\\}`` matches one segment)."""
    methods: set[str] = set()
    for template, ops in req.app.openapi().get("paths", {}).items():
        if re.fullmatch(re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)), req.url.path):
            methods |= {m.upper() for m in ops}
    return sorted(methods)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the problems a route can answer (content type fixed in app.py)."""
    text = {400: "Bad request", 401: "Missing, malformed or revoked token",
            403: "The token's role may not do this", 404: "Not found in the token's tenant",
            409: "Not ready yet", 410: "Erased", 416: "Range not satisfiable",
            422: "Invalid parameter (or a missing reason)", 429: "Rate limit; see Retry-After",
            502: "A backing store failed", 503: "Could not record the access; nothing returned"}
    return {s: {"model": Problem, "description": text.get(s, "Error")} for s in statuses}
