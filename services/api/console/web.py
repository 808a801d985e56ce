"""The console's browser session: a cookie carrying the API token, and CSRF checks.

The cookie holds the token the reviewer signed in with (HttpOnly: no script reads it;
SameSite=Strict: no other site's page sends it; ``Path=/console``; Secure over https). Every
request re-checks it through the API's own token check, so revoking a token ends its console
sessions at once, and nothing about sessions is kept on the server.

CSRF: every form carries, and every state-changing ``fetch`` sends (``X-CSRF-Token``), a value
derived from the token (HMAC-SHA256 keyed by the token's SHA-256): a page of another origin can
neither read it nor compute it. The sign-in form, before any token, uses a double-submit cookie.
A request whose ``Origin`` or ``Sec-Fetch-Site`` says it came from another site is refused too.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from typing import Final

from fastapi import Request, Response

COOKIE: Final = "vxl_console"
PRE_COOKIE: Final = "vxl_console_signin"
PATH: Final = "/console"
CSRF_HEADER: Final = "x-csrf-token"
_LABEL: Final = b"voxledger/console/csrf/v1"


class CsrfError(Exception):
    """The request's CSRF value or origin does not match (the message names no secret)."""


def csrf_for(token: str) -> str:
    key = hashlib.sha256(token.encode()).digest()
    mac = hmac.new(key, _LABEL, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def new_presign() -> str:
    return secrets.token_urlsafe(32)


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def set_token(response: Response, request: Request, token: str) -> None:
    response.set_cookie(COOKIE, token, path=PATH, httponly=True, samesite="strict",
                        secure=_secure(request))
    response.delete_cookie(PRE_COOKIE, path=PATH)


def set_presign(response: Response, request: Request, value: str) -> None:
    response.set_cookie(PRE_COOKIE, value, path=PATH, httponly=True, samesite="strict",
                        secure=_secure(request), max_age=3600)


def clear(response: Response) -> None:
    response.delete_cookie(COOKIE, path=PATH)


def check_origin(request: Request) -> None:
    """Refuse a state-changing request another site made (belt and braces with SameSite)."""
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        raise CsrfError("cross-site request refused")
    origin = request.headers.get("origin")
    if origin is not None and origin != "null":
        own = f"{request.url.scheme}://{request.url.netloc}"
        if origin != own:
            raise CsrfError("request from another origin refused")
    elif origin == "null":
        raise CsrfError("request from an opaque origin refused")


def check_csrf(request: Request, expected: str, supplied: str | None) -> None:
    check_origin(request)
    if not supplied or not hmac.compare_digest(expected.encode(), supplied.encode()):
        raise CsrfError("missing or wrong CSRF token: reload the page and try again")
