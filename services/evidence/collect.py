"""The ledger part of a session bundle: events with leaf inputs, proofs, raw segments, keys.

Reads through the ledger's tables and the WORM bucket (listed, first versions only: the record,
as verify reads it). The anchor checkpoint is the smallest WORM checkpoint covering every entry of
the session; the consistency proof runs from it to the newest WORM checkpoint.
Errors: :class:`BundleError` (the message says what is missing and what to do).
"""

from __future__ import annotations

import asyncio
import base64
import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.ledger import reads
from services.ledger.checkpoint import Verifier, origin_for, parse_checkpoint, parse_note
from services.ledger.leaf import canonical_time
from services.ledger.merkle import MerkleTree
from services.ledger.models import LedgerAudioRef, LedgerAudioSegment, LedgerEntry, LedgerSession
from services.ledger.payloads import DICTIONARY_DIR, open_payload
from services.ledger.sealing import payload_aad
from services.ledger.storage import CHECKPOINT_PREFIX, COSIGNED_PREFIX, LedgerStorage
from services.platform.keys import KeyProvider
from services.platform.signing import PublicKeys


class BundleError(Exception):
    """A bundle cannot be made; the message says why (never content)."""


@dataclass
class LedgerPart:
    files: dict[str, bytes] = field(default_factory=dict)
    erased: bool = False
    dek: bytes | None = None
    positions: list[int] = field(default_factory=list)
    anchor_size: int = 0
    newest_size: int = 0


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _dumps(obj: Any) -> bytes:
    return (json.dumps(obj, indent=2, ensure_ascii=False, default=str) + "\n").encode()


async def _worm_checkpoints(storage: LedgerStorage, prefix: str) -> dict[int, list[str]]:
    versions = await asyncio.to_thread(storage.list_versions, prefix)
    out: dict[int, list[str]] = {}
    for key, vs in sorted(versions.items()):
        if vs[0].get("DeleteMarker"):
            continue
        note = (await asyncio.to_thread(storage.get_version, key, str(vs[0]["VersionId"])
                                        )).decode()
        size = parse_checkpoint(parse_note(note).text).size
        out.setdefault(size, []).append(note)
    return out


async def collect(conn: AsyncConnection, keys: KeyProvider, storage: LedgerStorage,
                  public: PublicKeys, tenant: str, session: str) -> LedgerPart:
    part = LedgerPart()
    srow = (await conn.execute(select(LedgerSession.wrapped_dek).where(
        LedgerSession.tenant_id == tenant, LedgerSession.session_id == session))).first()
    if srow is None:
        raise BundleError(f"no ledger session {session!r} for tenant {tenant!r}")
    part.erased = srow[0] is None  # "session key destroyed" is erasure (law 5)
    part.dek = None if srow[0] is None else keys.unwrap_dek(tenant, bytes(srow[0]), session)
    rows = (await conn.execute(select(*LedgerEntry.__table__.c).where(
        LedgerEntry.tenant_id == tenant, LedgerEntry.session_id == session)
        .order_by(LedgerEntry.position))).all()
    if not rows:
        raise BundleError(f"session {session!r} has no sealed entries")
    part.positions = [r.position for r in rows]
    worm = await _worm_checkpoints(storage, f"{CHECKPOINT_PREFIX}/{tenant}/")
    covering = [s for s in sorted(worm) if s > part.positions[-1]]
    if not covering:
        raise BundleError("no WORM checkpoint covers the session's last entry yet; wait for the "
                          "sealer's next checkpoint (or its WORM upload) and export again")
    part.anchor_size, part.newest_size = covering[0], max(worm)
    tree = MerkleTree(await reads.stored_leaves(conn, tenant, part.newest_size))
    part.files["events.jsonl"] = "".join(
        json.dumps(_event(tenant, r, part.dek), ensure_ascii=False, separators=(",", ":")) + "\n"
        for r in rows).encode()
    part.files["proofs/inclusion.json"] = _dumps({
        "size": part.anchor_size, "root": _b64(tree.root(part.anchor_size)),
        "entries": [{"position": p, "leaf_hash": _b64(tree.leaf(p)),
                     "proof": [_b64(h) for h in tree.inclusion_proof(p, part.anchor_size)]}
                    for p in part.positions]})
    part.files["proofs/checkpoint.note"] = worm[part.anchor_size][0].encode()
    part.files["proofs/newest.note"] = worm[part.newest_size][0].encode()
    part.files["proofs/consistency.json"] = _dumps({
        "size1": part.anchor_size, "size2": part.newest_size,
        "proof": [_b64(h) for h in tree.consistency_proof(part.anchor_size, part.newest_size)]})
    cosigned = await _worm_checkpoints(storage, f"{COSIGNED_PREFIX}/{tenant}/")
    for size in (part.anchor_size, part.newest_size):
        for i, note in enumerate(cosigned.get(size, [])):
            part.files[f"proofs/cosigned/{size:020d}.{i}.note"] = note.encode()
    await _segments(conn, storage, tenant, session, part)
    _keys(part, public, tenant, session)
    if part.dek is not None:  # payloads readable here: the dictionaries they are packed with
        for path in sorted(DICTIONARY_DIR.glob("payload-*.dict")):
            part.files[f"codecs/{path.name}"] = path.read_bytes()
    return part


def _event(tenant: str, r: Any, dek: bytes | None) -> dict[str, Any]:
    leaf = {"audio_sha256": bytes(r.audio_sha256).hex(), "direction": r.direction,
            "event_id": r.event_id, "mono_ns": r.mono_ns,
            "payload_sha256": bytes(r.payload_sha256).hex(), "position": r.position,
            "provider": r.provider, "recorded_at": canonical_time(r.recorded_at),
            "schema_version": r.schema_version, "seq": r.seq, "session_id": r.session_id,
            "tenant_id": tenant, "type": r.type}
    envelope = None
    if dek is not None:
        plain = open_payload(dek, bytes(r.payload_ct),
                             payload_aad(tenant, r.session_id, r.event_id))
        envelope = {"schema_version": r.schema_version, "event_id": r.event_id,
                    "tenant_id": tenant, "session_id": r.session_id, "seq": r.seq,
                    "provider": r.provider, "direction": r.direction, "type": r.type,
                    "recorded_at": leaf["recorded_at"], "mono_ns": r.mono_ns,
                    "payload": json.loads(plain)}
    return {"position": r.position, "leaf": leaf, "payload_ct": _b64(bytes(r.payload_ct)),
            "envelope": envelope}


async def _segments(conn: AsyncConnection, storage: LedgerStorage, tenant: str, session: str,
                    part: LedgerPart) -> None:
    segs = (await conn.execute(select(*LedgerAudioSegment.__table__.c).where(
        LedgerAudioSegment.tenant_id == tenant, LedgerAudioSegment.session_id == session)
        .order_by(LedgerAudioSegment.first_position, LedgerAudioSegment.direction))).all()
    refs = (await conn.execute(select(*LedgerAudioRef.__table__.c).where(
        LedgerAudioRef.tenant_id == tenant, LedgerAudioRef.session_id == session)
        .order_by(LedgerAudioRef.position, LedgerAudioRef.ordinal))).all()
    index: dict[str, Any] = {"segments": [], "refs": [
        {"position": r.position, "ordinal": r.ordinal, "segment": r.segment_key,
         "offset": r.offset, "length": r.length, "sha256": bytes(r.sha256).hex()} for r in refs]}
    for s in segs:
        name = f"audio/segments/{s.direction}-{s.first_position:012d}.seg"
        # Only this session's part of a shared batch object, exactly as sealed (compressed,
        # encrypted): the other sessions' parts never enter the bundle.
        part.files[name] = await asyncio.to_thread(
            storage.get_segment, s.key) if s.object_key is None else await asyncio.to_thread(
            storage.get_part, s.object_key, int(s.object_offset), int(s.object_length))
        index["segments"].append({"key": s.key, "file": name, "direction": s.direction,
                                  "first_position": s.first_position, "length": s.length,
                                  "ct_sha256": bytes(s.ct_sha256).hex(), "codec": s.codec,
                                  "object": s.object_key, "object_offset": s.object_offset})
    part.files["audio/segments/index.json"] = _dumps(index)


def _keys(part: LedgerPart, public: PublicKeys, tenant: str, session: str) -> None:
    origin = origin_for(tenant)
    vkeys = [Verifier.from_public_key(origin, k).vkey() for _, k in sorted(public.keys.items())]
    if tenant in public.legacy:
        vkeys.append(Verifier.from_public_key(origin, public.legacy[tenant].public_key).vkey())
    part.files["keys/log.vkey"] = "".join(f"{v}\n" for v in vkeys).encode()
    if part.dek is not None:
        part.files["keys/session_data_key.json"] = _dumps({
            "tenant_id": tenant, "session_id": session, "algorithm": "AES-256-GCM",
            "dek": _b64(part.dek),
            "payload_aad": "voxledger/payload/v1/<tenant>/<session>/<event_id>",
            "segment_aad": "voxledger/audio/v1/<tenant>/<session>/<segment key>",
            "segment_codec": "zstd: the plaintext of a segment whose codec is zstd is a "
                             "Zstandard frame of its audio bytes (RFC 8878); flac: a FLAC "
                             "file (RFC 9639) of 16-bit little-endian mono samples whose bytes "
                             "are its audio bytes (rate and channels inside are nominal)",
            "payload_codec": "a payload plaintext starting with 28 b5 2f fd is a Zstandard frame "
                             "(RFC 8878) compressed with the dictionary its header names, "
                             "shipped as codecs/payload-<dictionary id, 8 hex digits>.dict; "
                             "any other plaintext is the payload's canonical JSON",
            "layout": "nonce (12 bytes) || ciphertext || tag (16 bytes)"})
