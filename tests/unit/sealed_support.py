"""Seal envelopes in memory with the sealer's own pure planning (no sockets): entry rows and
encrypted raw segments, for reading back through the ledger's read port."""

from __future__ import annotations

import io
from types import SimpleNamespace
from typing import Any

from schemas.envelope import Envelope
from services.audio.source import SegmentReader
from services.ledger.reader import AudioMode, SealedEvent, decode_entry
from services.ledger.sealing import Fresh, plan_batch
from services.platform.keys import new_dek


class MemoryS3:
    parts: dict[tuple[str, str], tuple[str | None, int, int]]

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}

    def get_object(self, Bucket: str, Key: str, Range: str | None = None) -> dict[str, Any]:
        data = self.objects[Key]
        if Range is not None:  # "bytes=first-last", inclusive, as S3 takes it
            first, last = (int(x) for x in Range.removeprefix("bytes=").split("-"))
            data = data[first:last + 1]
        return {"Body": io.BytesIO(data)}


def seal(envs: list[Envelope], first_position: int = 0
         ) -> tuple[list[Any], MemoryS3, dict[str, bytes]]:
    """Entry rows (by attribute, as SQLAlchemy returns them), the segments, the session keys."""
    tenant = envs[0].tenant_id
    deks = {e.session_id: new_dek() for e in envs}
    plan = plan_batch(tenant, [Fresh(i + 1, "voice.x", e) for i, e in enumerate(envs)],
                      first_position, deks, {}, lambda norm: "idx")
    s3 = MemoryS3()
    if plan.object_key is not None:  # one object per batch, each part at its byte range
        s3.objects[plan.object_key] = plan.object_body
    s3.parts = {(seg.session_id, seg.direction): (plan.object_key, seg.at, len(seg.ciphertext))
                for seg in plan.segments}
    return [SimpleNamespace(**row) for row in plan.entries], s3, deks


def read_back(envs: list[Envelope], audio: AudioMode = "lengths") -> list[SealedEvent]:
    rows, s3, deks = seal(envs)
    tenant = envs[0].tenant_id
    readers = {s: SegmentReader(s3, "b", tenant, s, dek) for s, dek in deks.items()}
    return [decode_entry(r, tenant, deks[r.session_id], audio, readers[r.session_id], "voice")
            for r in rows]
