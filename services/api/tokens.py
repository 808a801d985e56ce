"""API tokens, pure part: roles, the token format, hashing and checking (no I/O).

A token reads ``vxl_<id>_<secret>``: ``id`` (16 hex) finds the row, ``secret`` (43 url-safe
base64 characters, 256 random bits) is checked against its stored SHA-256 in constant time. A
plain hash is enough for a secret of that entropy (no dictionary to walk); the secret is shown
once, at creation, and never stored.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

PREFIX: Final = "vxl_"
_TOKEN = re.compile(r"^vxl_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$")
TENANT_RE: Final = re.compile(r"^[a-z0-9-]{1,63}$")
NAME_RE: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._@+-]{0,63}$")


class Role(StrEnum):
    ADMIN = "admin"  # tokens, policies
    REVIEWER = "reviewer"  # sessions, originals and audio with a reason, search, holds, bundles
    AUDITOR = "auditor"  # verify status, checkpoints, proofs, access log; no content
    DATA = "data"  # redacted transcripts, training exports; never originals
    PRIVACY = "privacy"  # erasure requests for data subjects


class TokenError(ValueError):
    """A token parameter is invalid (the message names the parameter, never a secret)."""


@dataclass(frozen=True)
class NewToken:
    token_id: str
    secret_sha256: bytes
    token: str  # shown once


@dataclass(frozen=True)
class Principal:
    """Who is calling: one token of one tenant with one role."""

    token_id: str
    tenant_id: str
    role: Role
    name: str


def check_params(tenant: str, role: str, name: str) -> Role:
    if not TENANT_RE.match(tenant):
        raise TokenError("tenant must be a slug [a-z0-9-]{1,63}")
    if not NAME_RE.match(name):
        raise TokenError("name must be 1-64 characters: letters, digits, space . _ @ + -")
    try:
        return Role(role)
    except ValueError:
        raise TokenError(f"role must be one of {', '.join(r.value for r in Role)}") from None


def new_token() -> NewToken:
    token_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    return NewToken(token_id, _digest(secret), f"{PREFIX}{token_id}_{secret}")


def parse(token: str) -> tuple[str, str] | None:
    """(id, secret) of a well-formed token, else None."""
    m = _TOKEN.match(token)
    return (m.group(1), m.group(2)) if m else None


def matches(secret: str, stored_sha256: bytes) -> bool:
    return hmac.compare_digest(_digest(secret), stored_sha256)


def _digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()
