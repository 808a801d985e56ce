"""Raw audio checks of ``verify``: objects intact, decryptable, slices matching the leaves.

The leaf commits to ``audio_sha256``; the index (``ledger_audio_refs``) only says where the bytes
are. So the proof is: read each part (its byte range in the batch object, or the whole object of
a segment sealed before batch objects), compare its ciphertext hash with the one recorded at
sealing, decrypt under the session key (GCM fails on any changed byte), decompress, hash each
entry's slices in order, compare with the committed hash. A batch object is fetched once for all
the parts in it that are checked.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from services.ledger import reads
from services.ledger.sealing import segment_aad
from services.ledger.segments import SegmentError, open_part
from services.ledger.storage import LedgerStorage
from services.ledger.verify_report import Entries, Issue, Report
from services.platform.keys import KeyProvider

Progress = Callable[[str], None]


async def check_audio(conn: AsyncConnection, keys: KeyProvider, storage: LedgerStorage,
                       tenant: str, session: str | None, entries: Entries, report: Report,
                       progress: Progress) -> None:
    segs = await reads.segments(conn, tenant, session)
    deks: dict[str, bytes | None] = {}
    for row in await reads.sessions(conn, tenant, session):
        s = row
        deks[s.session_id] = (keys.unwrap_dek(tenant, s.wrapped_dek, s.session_id)
                              if s.wrapped_dek is not None else None)
    refs_by_pos: dict[int, list[Any]] = defaultdict(list)
    for ref in await reads.audio_refs(conn, tenant, session):
        if ref.position in entries.audio_sha:  # verify --since: only the entries it recomputed
            refs_by_pos[ref.position].append(ref)
    plain: dict[str, bytes | None] = {}
    objects = _Objects(storage)
    for key in sorted({r.segment_key for refs in refs_by_pos.values() for r in refs}):
        plain[key] = await _load_segment(objects, tenant, key, segs.get(key), deks, report)
        report.audio_objects += 1
        if report.audio_objects % 500 == 0:
            progress(f"{report.audio_objects} audio objects checked")
    sessions_of = {p: refs[0].session_id for p, refs in refs_by_pos.items()}
    for position, committed in sorted(entries.audio_sha.items()):
        refs = refs_by_pos.get(position, [])
        if not refs:
            if committed != hashlib.sha256(b"").digest():
                report.errors.append(Issue(tenant, "audio committed in the leaf has no index "
                                           "entry", position=position))
            continue
        if any(plain.get(r.segment_key) is None for r in refs):
            continue  # erased or already reported against the object
        digest = hashlib.sha256()
        for r in refs:
            data = plain[r.segment_key]
            assert data is not None
            digest.update(data[r.offset:r.offset + r.length])
        if digest.digest() != committed:
            report.errors.append(Issue(tenant, "audio bytes do not match the hash in the leaf",
                                       position=position, session=sessions_of[position],
                                       object=refs[0].segment_key))


class _Objects:
    """The last batch object read (parts are checked in key order, so an object's parts are
    consecutive): one GET per object, not one per part."""

    def __init__(self, storage: LedgerStorage) -> None:
        self.storage = storage
        self.key: str | None = None
        self.body = b""

    async def part(self, seg: Any) -> bytes:
        if seg.object_key is None:  # sealed before batch objects: the object is the segment
            return await asyncio.to_thread(self.storage.get_segment, seg.key)
        if self.key != seg.object_key:
            self.key, self.body = None, b""
            self.body = await asyncio.to_thread(self.storage.get_segment, seg.object_key)
            self.key = seg.object_key
        start = int(seg.object_offset)
        return self.body[start:start + int(seg.object_length)]


async def _load_segment(objects: _Objects, tenant: str, key: str, seg: Any,
                        deks: dict[str, bytes | None], report: Report) -> bytes | None:
    if seg is None:
        report.errors.append(Issue(tenant, "audio segment referenced but not recorded",
                                   object=key))
        return None
    if deks.get(seg.session_id, b"") is None:
        return None  # erased: nothing to decrypt, the leaf hashes still stand
    try:
        blob = await objects.part(seg)
    except Exception as exc:  # the object store answers with many exception types
        report.errors.append(Issue(tenant, f"audio object unreadable ({type(exc).__name__})",
                                   session=seg.session_id, object=key))
        return None
    if hashlib.sha256(blob).digest() != seg.ct_sha256:
        report.errors.append(Issue(tenant, "audio object bytes changed since sealing",
                                   session=seg.session_id, object=key))
    dek = deks.get(seg.session_id)
    if dek is None:
        report.errors.append(Issue(tenant, "audio object of a session without a ledger row",
                                   object=key))
        return None
    try:
        return open_part(dek, segment_aad(tenant, seg.session_id, key), blob, seg.codec)
    except SegmentError:
        report.errors.append(Issue(tenant, "audio object does not decompress (altered)",
                                   session=seg.session_id, object=key))
        return None
    except Exception:  # InvalidTag: altered, truncated or swapped object
        report.errors.append(Issue(tenant, "audio object does not decrypt (altered)",
                                   session=seg.session_id, object=key))
        return None
