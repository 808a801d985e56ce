"""The audio projection's input: a session's sealed ledger entries and raw audio (adapter).

Entries are read in ``seq`` order; each payload is decrypted with the session key and every
``{"$audio": ...}`` reference the sealer left in it is replaced by the bytes of the raw segment
it points at, checked against the reference's SHA-256 (itself inside the payload the leaf commits
to). The interpreters thus see the frame exactly as it crossed the wire.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncConnection

from schemas.envelope import Direction, Provider
from services.audio.render import Event
from services.ledger.audio_fields import candidate_paths
from services.ledger.models import LedgerEntry, LedgerSession
from services.ledger.sealing import payload_aad, segment_aad
from services.platform.keys import decrypt

E = LedgerEntry


class AudioSourceError(Exception):
    """A raw audio reference that does not resolve or does not match its hash (no content)."""


async def session_row(conn: AsyncConnection, tenant: str, session: str) -> Any:
    return (await conn.execute(select(
        LedgerSession.wrapped_dek, LedgerSession.max_seq, LedgerSession.ended,
        LedgerSession.timed_out_at).where(LedgerSession.tenant_id == tenant,
                                          LedgerSession.session_id == session))).first()


async def entries_after(conn: AsyncConnection, tenant: str, session: str, after_seq: int,
                        limit: int) -> Sequence[Any]:
    return (await conn.execute(
        select(E.seq, E.position, E.event_id, E.mono_ns, E.provider, E.direction, E.type,
               E.payload_ct)
        .where(E.tenant_id == tenant, E.session_id == session, E.seq > after_seq)
        .order_by(E.seq, E.position).limit(limit))).all()


class SegmentReader:
    """Decrypted raw segments, a few kept (entries of one batch share a segment).

    ``prefetch`` reads the segments a batch of entries will need in parallel (one GET each, which
    otherwise ran one after another, a round trip per sealer batch); a failed read is left to the
    entry that needs it, so errors surface exactly where they did without prefetching.
    """

    def __init__(self, client: Any, bucket: str, tenant: str, session: str, dek: bytes,
                 keep: int = 4, workers: int = 8) -> None:
        self.client, self.bucket = client, bucket
        self.tenant, self.session, self.dek = tenant, session, dek
        self._cache: OrderedDict[str, bytes] = OrderedDict()
        self._ahead: dict[str, bytes] = {}  # prefetched for the current batch, not yet used
        self.keep, self.workers = keep, workers

    def _mine(self, key: str) -> bool:
        return key.startswith(f"raw/{self.tenant}/{self.session}/")

    def _read(self, key: str) -> bytes:
        blob = self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        return decrypt(self.dek, blob, segment_aad(self.tenant, self.session, key))

    def _try_read(self, key: str) -> bytes | None:
        try:
            return self._read(key)
        except Exception:  # retried (and raised) by the entry that needs it
            return None

    def prefetch(self, keys: Iterable[str]) -> None:
        self._ahead.clear()
        missing = [k for k in dict.fromkeys(keys) if k not in self._cache and self._mine(k)]
        if len(missing) < 2:
            return  # one read gains nothing from a pool
        with ThreadPoolExecutor(max_workers=min(self.workers, len(missing))) as pool:
            for key, plain in zip(missing, pool.map(self._try_read, missing), strict=True):
                if plain is not None:
                    self._ahead[key] = plain

    def segment(self, key: str) -> bytes:
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        if not self._mine(key):
            raise AudioSourceError("audio reference points outside its session")
        plain = self._ahead.pop(key, None)
        if plain is None:
            plain = self._read(key)
        self._cache[key] = plain
        while len(self._cache) > self.keep:
            self._cache.popitem(last=False)
        return plain

    def resolve(self, ref: dict[str, Any]) -> bytes:
        seg = self.segment(str(ref["segment"]))
        offset, length = int(ref["offset"]), int(ref["length"])
        data = seg[offset:offset + length]
        if len(data) != length or hashlib.sha256(data).hexdigest() != ref["sha256"]:
            raise AudioSourceError("raw audio does not match its ledger reference")
        return data


# An audio field of a decoded payload: (its parent container, its key, the ``$audio`` reference).
AudioRef = tuple[Any, Any, dict[str, Any]]


def decode(row: Row[Any], tenant: str, session: str,
           dek: bytes) -> tuple[dict[str, Any], list[AudioRef]]:
    """One ledger entry's payload, and its audio references in document order."""
    payload = json.loads(decrypt(dek, row.payload_ct, payload_aad(tenant, session, row.event_id)))
    if row.type == "session.started" and row.direction == Direction.SYSTEM.value:
        # The sealer keeps subject identifiers as {"$subject": index} references, which the
        # session.started schema refuses; audio needs the formats, never the subject.
        payload.pop("subject", None)
    refs: list[AudioRef] = []
    for path in candidate_paths(row.type, payload):
        parent: Any = None
        node: Any = payload
        for key in path:
            parent = node
            node = node.get(key) if isinstance(node, dict) else (
                node[key] if isinstance(node, list) and isinstance(key, int)
                and 0 <= key < len(node) else None)
            if node is None:
                break
        if isinstance(node, dict) and isinstance(node.get("$audio"), dict):
            refs.append((parent, path[-1], node["$audio"]))
    return payload, refs


def segment_keys(decoded: Iterable[tuple[dict[str, Any], list[AudioRef]]]) -> Iterator[str]:
    return (str(ref.get("segment")) for _, refs in decoded for _, _, ref in refs)


def to_event(row: Row[Any], tenant: str, session: str, dek: bytes, segments: SegmentReader,
             decoded: tuple[dict[str, Any], list[AudioRef]] | None = None
             ) -> tuple[Event, list[bytes]]:
    """One ledger entry → the envelope as received, and its audio fields in document order."""
    payload, refs = decoded if decoded is not None else decode(row, tenant, session, dek)
    audio = [segments.resolve(ref) for _, _, ref in refs]
    # The payload was parsed for this entry alone, so the audio is put back in place (a deep
    # copy per entry cost more than its decryption), after every reference was resolved.
    for (parent, key, _), data in zip(refs, audio, strict=True):
        parent[key] = base64.b64encode(data).decode()
    return Event(row.seq, row.mono_ns, Provider(row.provider), Direction(row.direction),
                 row.type, payload), audio
