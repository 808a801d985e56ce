"""Turn one tenant's slice of a batch into what the sealer writes (pure apart from random nonces).

Input: fresh (not yet sealed) envelopes in stream order, the tenant's next position, each
session's data key. Output: entry rows with leaf hashes, the batch's one raw audio object (a part
per session and direction, compressed then encrypted under the session's key: see
``services/ledger/segments.py``), the audio index, subject rows, per-session statistics and
per-event problems for the dead-letter table. Nothing here touches Postgres or S3, so it is
unit-testable end to end.

Payloads are encrypted after the audio parts are laid out, because each ``$audio`` reference
names its part's byte range in the object; the leaf commits to that payload ciphertext and to the
SHA-256 of the uncompressed audio bytes, as before.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from schemas.batch import item_key
from schemas.envelope import Direction, Envelope
from services.ledger import payloads
from services.ledger.fastleaf import js, leaf_hash_of
from services.ledger.leaf import EMPTY_SHA256, canonical_time
from services.ledger.segments import CODEC_ZSTD, batch_key, part_id, seal_part
from services.ledger.subjects import split_subjects
from services.platform.keys import encrypt
from services.providers.frames import (
    AudioField,
    AudioFieldError,
    Path,
    find_audio,
    replace_fields,
)


def payload_aad(tenant: str, session: str, event_id: str) -> bytes:
    return f"voxledger/payload/v1/{tenant}/{session}/{event_id}".encode()


def segment_aad(tenant: str, session: str, key: str) -> bytes:
    return f"voxledger/audio/v1/{tenant}/{session}/{key}".encode()


def subject_aad(tenant: str, session: str, kind: str) -> bytes:
    return f"voxledger/subject/v1/{tenant}/{session}/{kind}".encode()


def segment_key(tenant: str, session: str, direction: str, first_position: int) -> str:
    """Object key of a segment sealed before batch objects (one object per session, direction
    and batch); still read, never written (services/ledger/segments.py)."""
    return f"raw/{tenant}/{session}/{direction}/{first_position:012d}.seg"


@dataclass(frozen=True)
class Fresh:
    stream_seq: int
    subject: str
    envelope: Envelope
    member: int = 0  # index within a batch message: several entries may share a stream_seq

    @property
    def key(self) -> int:
        """The consumer's item key (what :class:`Rejected` names)."""
        return item_key(self.stream_seq, self.member)


@dataclass
class SessionDelta:
    entries: int = 0
    first_position: int | None = None
    last_position: int | None = None
    max_seq: int = -1
    out_of_order: int = 0
    audio_bytes: int = 0
    started: bool = False
    ended: bool = False
    last_seq_declared: int | None = None
    end_reason: str | None = None
    last_event_at: Any = None


@dataclass
class Segment:
    """One part of the batch object: a session's audio of one direction, in arrival order."""

    key: str  # the part id (services/ledger/segments.py part_id)
    session_id: str
    direction: str
    first_position: int
    object_key: str = ""
    plaintext: bytearray = field(default_factory=bytearray)
    ciphertext: bytes = b""
    at: int = 0  # byte offset of the ciphertext in the object
    codec: str = CODEC_ZSTD
    refs: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class SealPlan:
    entries: list[dict[str, Any]] = field(default_factory=list)
    leaves: list[bytes] = field(default_factory=list)
    segments: list[Segment] = field(default_factory=list)
    object_key: str | None = None  # the batch's raw audio object (None: no audio in the batch)
    object_body: bytes = b""
    audio_refs: list[dict[str, Any]] = field(default_factory=list)
    subjects: list[dict[str, Any]] = field(default_factory=list)
    sessions: dict[str, SessionDelta] = field(default_factory=dict)
    problems: list[tuple[Fresh, str]] = field(default_factory=list)
    ended_sessions: list[str] = field(default_factory=list)


# json.dumps(payload, separators=(",", ":"), ensure_ascii=False), without building an encoder
# per call.
_PAYLOAD_JSON = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def _canonical_payload(payload: dict[str, Any]) -> bytes:
    return _PAYLOAD_JSON.encode(payload).encode()


def plan_batch(tenant: str, fresh: list[Fresh], next_position: int,
               deks: dict[str, bytes], max_seqs: dict[str, int],
               subject_index: Callable[[str], str]) -> SealPlan:
    plan = SealPlan()
    segments: dict[tuple[str, str], Segment] = {}
    object_key = batch_key(tenant, next_position)
    pending: list[tuple[Fresh, dict[str, Any], bytes, int]] = []
    position = next_position
    for item in fresh:
        env = item.envelope
        dek = deks[env.session_id]
        delta = plan.sessions.get(env.session_id)
        if delta is None:
            delta = plan.sessions[env.session_id] = SessionDelta()
        seen_max = max(max_seqs.get(env.session_id, -1), delta.max_seq)
        if env.seq < seen_max:
            delta.out_of_order += 1
        delta.max_seq = max(delta.max_seq, env.seq)
        delta.entries += 1
        if delta.first_position is None:
            delta.first_position = position
        delta.last_position = position
        delta.last_event_at = (env.recorded_at if delta.last_event_at is None
                               else max(delta.last_event_at, env.recorded_at))

        payload = env.payload
        if env.direction is Direction.SYSTEM and env.type == "session.started":
            delta.started = True
            payload, found = split_subjects(payload, subject_index)
            for kind, (norm, idx) in found.items():
                plan.subjects.append({
                    "tenant_id": tenant, "session_id": env.session_id, "kind": kind,
                    "subject_index": idx,
                    "value_ct": encrypt(dek, norm.encode(),
                                        subject_aad(tenant, env.session_id, kind)),
                })
        if env.direction is Direction.SYSTEM and env.type == "session.ended":
            delta.ended = True
            plan.ended_sessions.append(env.session_id)
            last = env.payload.get("last_seq")
            delta.last_seq_declared = last if isinstance(last, int) and last >= 0 else None
            reason = env.payload.get("reason")
            delta.end_reason = reason[:64] if isinstance(reason, str) else None

        try:
            fields: list[AudioField] = find_audio(env.type, payload)
        except AudioFieldError as exc:
            # Law 9: seal the frame as received (nothing lost) and dead-letter the reason.
            plan.problems.append((item, str(exc)))
            fields = []
        audio = hashlib.sha256() if len(fields) > 1 else None
        audio_sha = EMPTY_SHA256
        refs: dict[Path, Any] = {}
        direction = env.direction.value
        for ordinal, f in enumerate(fields):
            seg = segments.get((env.session_id, direction))
            if seg is None:
                seg = Segment(part_id(object_key, env.session_id, direction),
                              env.session_id, direction, position, object_key)
                segments[(env.session_id, direction)] = seg
                plan.segments.append(seg)
            digest = hashlib.sha256(f.data).digest()
            offset = len(seg.plaintext)
            seg.plaintext += f.data
            if audio is None:  # one field (nearly every frame): the frame's audio hash is its
                audio_sha = digest
            else:
                audio.update(f.data)
            delta.audio_bytes += len(f.data)
            ref = {"sha256": digest.hex(), "length": len(f.data), "segment": seg.key,
                   "offset": offset}
            seg.refs.append(ref)  # the object range is added once the parts are laid out
            refs[f.path] = {"$audio": ref}
            plan.audio_refs.append({
                "tenant_id": tenant, "position": position, "ordinal": ordinal,
                "session_id": env.session_id, "segment_key": seg.key, "offset": offset,
                "length": len(f.data), "sha256": digest,
            })
        if refs:
            payload = replace_fields(payload, refs)
        pending.append((item, payload, audio_sha if audio is None else audio.digest(), position))
        position += 1
    _lay_out(plan, tenant, deks)
    # One cipher per session for the batch (built per payload, it cost more than encrypting).
    ciphers = {session: AESGCM(dek) for session, dek in deks.items()
               if session in plan.sessions}
    tenant_js = js(tenant)
    for item, payload, audio_sha, pos in pending:
        env = item.envelope
        session, provider, direction = env.session_id, env.provider.value, env.direction.value
        ct = payloads.seal_payload(ciphers[session], _canonical_payload(payload),
                                   payload_aad(tenant, session, env.event_id))
        payload_sha = hashlib.sha256(ct).digest()
        # leaf_hash(leaf_data(LeafFields(...))) byte for byte (services/ledger/fastleaf.py; the
        # sealing tests recompute every leaf with leaf_data).
        lh = leaf_hash_of(tenant_js, pos, env.event_id, session, env.seq, env.schema_version,
                          provider, direction, env.type, canonical_time(env.recorded_at),
                          env.mono_ns, payload_sha, audio_sha)
        plan.leaves.append(lh)
        plan.entries.append({
            "tenant_id": tenant, "position": pos, "event_id": env.event_id,
            "session_id": session, "seq": env.seq, "stream_seq": item.stream_seq,
            "schema_version": env.schema_version, "provider": provider,
            "direction": direction, "type": env.type, "recorded_at": env.recorded_at,
            "mono_ns": env.mono_ns, "payload_ct": ct, "payload_sha256": payload_sha,
            "audio_sha256": audio_sha, "leaf_hash": lh,
        })
    return plan


def _lay_out(plan: SealPlan, tenant: str, deks: dict[str, bytes]) -> None:
    """Seal each part under its session's key and concatenate them into the batch object."""
    if not plan.segments:
        return
    body = bytearray()
    for seg in plan.segments:
        seg.codec, seg.ciphertext = seal_part(deks[seg.session_id],
                                              segment_aad(tenant, seg.session_id, seg.key),
                                              bytes(seg.plaintext))
        seg.at = len(body)
        body += seg.ciphertext
        for ref in seg.refs:
            ref.update({"at": seg.at, "size": len(seg.ciphertext), "codec": seg.codec})
    plan.object_key = plan.segments[0].object_key
    plan.object_body = bytes(body)


def group_by_tenant(items: list[Fresh]) -> dict[str, list[Fresh]]:
    out: dict[str, list[Fresh]] = defaultdict(list)
    for item in items:
        out[item.envelope.tenant_id].append(item)
    return out
