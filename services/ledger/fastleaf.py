"""Leaf recomputation for ``verify`` at bulk speed: byte-identical to :func:`leaf.leaf_data`.

``leaf_data`` builds a dict and runs ``json.dumps`` per entry; here the same canonical JSON comes
from one format string, with each string field escaped once per distinct value (tenant, provider,
direction, type and session repeat across entries). A unit test holds the two equal.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache

from services.ledger.leaf import LEAF_PREFIX

_TEMPLATE = (LEAF_PREFIX.decode() + '{"audio_sha256":"%s","direction":%s,"event_id":%s,'
             '"mono_ns":%d,"payload_sha256":"%s","position":%d,"provider":%s,'
             '"recorded_at":"%s","schema_version":%d,"seq":%d,"session_id":%s,'
             '"tenant_id":%s,"type":%s}')


@lru_cache(maxsize=65536)
def js(value: str) -> str:
    """``json.dumps(value, ensure_ascii=True)``, cached (repeated values cost a dict lookup)."""
    return json.dumps(value, ensure_ascii=True)


def quote(value: str) -> str:
    # Event ids are unique (no cache hits): quote the common plain-ASCII case directly.
    if value.isascii() and value.isprintable() and '"' not in value and "\\" not in value:
        return f'"{value}"'
    return json.dumps(value, ensure_ascii=True)


def leaf_hash_of(tenant_js: str, position: int, event_id: str, session_id: str, seq: int,
                 schema_version: int, provider: str, direction: str, type_: str,
                 recorded_at: str, mono_ns: int, payload_sha256: bytes,
                 audio_sha256: bytes) -> bytes:
    """RFC 9162 leaf hash of the entry; ``recorded_at`` already canonical (``...ffffffZ``)."""
    data = _TEMPLATE % (audio_sha256.hex(), js(direction), quote(event_id), mono_ns,
                        payload_sha256.hex(), position, js(provider), recorded_at,
                        schema_version, seq, js(session_id), tenant_js, js(type_))
    return hashlib.sha256(b"\x00" + data.encode()).digest()
