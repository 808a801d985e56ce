"""The ledger's read port: sealed events by position, the one way projections see events.

Every projection (catalog, transcripts, redaction, audio) follows the sealed ledger, never the raw
stream (DESIGN.md "Ledger"). A read returns, for one tenant, the entries from a position on, in
position order (the order the sealer received them), each as a :class:`SealedEvent`: tenant,
position (the Merkle leaf index), session, the decrypted envelope as it crossed the wire, and its
audio: the bytes of every audio field (``audio="bytes"``, read from the raw segments in S3 and
checked against the SHA-256 the leaf commits to) or only their lengths (``audio="lengths"``: no
S3 read; each audio field of the envelope then holds base64 zeros of the same length, which is
all the interpreters read of it) or nothing (``audio="none"``: an audio frame comes with an
empty payload, its kind read from its type; its payload is decrypted, to refuse a damaged entry
as the other modes do, but not parsed: for projections that only count audio frames).

What a read leaves out, while still moving the position past it:

- sessions whose data key is destroyed (erased, ``ledger_sessions.wrapped_dek IS NULL``): their
  content is gone. :func:`lock_keys` re-checks in the transaction that applies the events, under
  ``FOR KEY SHARE`` (key destruction takes ``FOR UPDATE`` on the row first, so it waits for a batch
  that saw the key alive; the erasure's forgetters, which run after, delete what that batch wrote);
- reserved sessions (the journal's control events, ``_``-prefixed ids), which no projection reads;
- with ``system_only``, every event that is not the recorder's own (``direction = system``).

An entry that cannot be decoded (a payload that does not decrypt, audio that does not match its
reference) comes back with a ``reason`` instead of content: the follower dead-letters it.

Errors: :class:`ReadError` for a bad argument; database and S3 failures propagate (transient).
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final, Literal

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from schemas.envelope import AUDIO_TYPES, Direction, Envelope, Provider
from services.audio.source import SegmentReader, decode
from services.ledger.journal_ids import is_reserved_session
from services.ledger.models import LedgerEntry, LedgerTree
from services.ledger.sealing import payload_aad
from services.platform.keys import KeyProvider, decrypt
from services.platform.settings import Settings

E = LedgerEntry
AudioMode = Literal["bytes", "lengths", "none"]
MAX_BATCH: Final = 5000


class ReadError(ValueError):
    """A read asked for something out of bounds (a batch size, an audio mode)."""


@dataclass(frozen=True, slots=True)
class SealedEvent:
    tenant: str
    position: int
    session: str
    stream_seq: int
    subject: str  # the stream subject it was sealed from (dead letters name it)
    envelope: Envelope
    audio: tuple[bytes, ...] | None  # each audio field's bytes (``audio="bytes"`` only)
    audio_lengths: tuple[int, ...]
    reason: str | None = None  # why it could not be decoded (then ``envelope`` is a stub)


@dataclass(frozen=True, slots=True)
class Batch:
    events: list[SealedEvent]
    next_position: int  # where the next read starts: past everything this one covered
    head: int  # the tenant's tree size when read


_COLS = (E.position, E.event_id, E.session_id, E.seq, E.stream_seq, E.schema_version, E.provider,
         E.direction, E.type, E.recorded_at, E.mono_ns, E.payload_ct)

# The batch's sessions' keys, locked against key destruction until the caller's commit.
_KEYS = text("""
    SELECT l.session_id, l.wrapped_dek
      FROM ledger_sessions l
     WHERE l.tenant_id = :tenant AND l.session_id = ANY(CAST(:sessions AS text[]))
     ORDER BY l.session_id
       FOR KEY SHARE OF l
""")


async def lock_keys(conn: AsyncConnection, tenant: str, sessions: Iterable[str]
                    ) -> dict[str, bytes | None]:
    """Each session's wrapped key (None: erased), locked ``FOR KEY SHARE`` until commit."""
    rows = await conn.execute(_KEYS, {"tenant": tenant, "sessions": sorted(set(sessions))})
    return {str(r[0]): (bytes(r[1]) if r[1] is not None else None) for r in rows}


async def heads(conn: AsyncConnection, tenant: str | None = None) -> dict[str, int]:
    """Each tenant's ledger size: the position a projection reaches once caught up."""
    stmt = select(LedgerTree.tenant_id, LedgerTree.size)
    if tenant is not None:
        stmt = stmt.where(LedgerTree.tenant_id == tenant)
    return {str(t): int(s) for t, s in await conn.execute(stmt)}


@lru_cache(maxsize=256)
def _zeros_b64(length: int) -> str:
    return base64.b64encode(bytes(length)).decode("ascii")


_FIELDS: Final = frozenset({"schema_version", "event_id", "tenant_id", "session_id", "seq",
                            "provider", "direction", "type", "recorded_at", "mono_ns",
                            "payload"})
_PROVIDERS: Final = {p.value: p for p in Provider}
_DIRECTIONS: Final = {d.value: d for d in Direction}
_new, _set = object.__new__, object.__setattr__


def to_envelope(row: Any, tenant: str, session: str, payload: dict[str, Any]) -> Envelope:
    """The sealed entry's envelope, unvalidated: it was validated at intake, before it was
    sealed, and the leaf commits to it. What ``Envelope.model_construct`` builds (every field
    set; the model has no extras, private attributes or post-init), without its per-field
    lookups, which cost more than decrypting the payload (4-5 µs of an entry's ~6)."""
    env: Envelope = _new(Envelope)
    _set(env, "__dict__", {
        "schema_version": row.schema_version, "event_id": row.event_id, "tenant_id": tenant,
        "session_id": session, "seq": row.seq, "provider": _PROVIDERS[row.provider],
        "direction": _DIRECTIONS[row.direction], "type": row.type,
        "recorded_at": row.recorded_at, "mono_ns": row.mono_ns, "payload": payload})
    _set(env, "__pydantic_fields_set__", set(_FIELDS))
    _set(env, "__pydantic_extra__", None)
    _set(env, "__pydantic_private__", None)
    return env


def decode_entry(row: Any, tenant: str, dek: bytes, audio: AudioMode,
                 segments: SegmentReader | None, prefix: str) -> SealedEvent:
    """One entry as a projection sees it (pure but for the segment reads in bytes mode)."""
    session = row.session_id
    if audio == "none" and row.type in AUDIO_TYPES and row.direction != Direction.SYSTEM.value:
        # Still opened, so a damaged entry is refused here as in the other modes; not parsed.
        decrypt(dek, row.payload_ct, payload_aad(tenant, session, row.event_id))
        env = to_envelope(row, tenant, session, {})
        return SealedEvent(tenant, row.position, session, row.stream_seq,
                           f"{prefix}.{tenant}.{session}.audio", env, None, ())
    payload, refs = decode(row, tenant, session, dek)
    lengths = tuple(int(ref["length"]) for _, _, ref in refs)
    data: tuple[bytes, ...] | None = None
    if audio == "bytes":
        assert segments is not None
        data = tuple(segments.resolve(ref) for _, _, ref in refs)
        for (parent, key, _), raw in zip(refs, data, strict=True):
            parent[key] = base64.b64encode(raw).decode()
    else:
        for (parent, key, _), n in zip(refs, lengths, strict=True):
            parent[key] = _zeros_b64(n)
    env = to_envelope(row, tenant, session, payload)
    return SealedEvent(tenant, row.position, session, row.stream_seq,
                       f"{prefix}.{tenant}.{session}.{env.kind}", env, data, lengths)


def _stub(row: Any, tenant: str, prefix: str, reason: str) -> SealedEvent:
    env = to_envelope(row, tenant, row.session_id, {})
    return SealedEvent(tenant, row.position, row.session_id, row.stream_seq,
                       f"{prefix}.{tenant}.{row.session_id}.{env.kind}", env, None, (), reason)


class LedgerReader:
    """Reads and decodes sealed entries for projections (``s3`` is needed for bytes only)."""

    def __init__(self, keys: KeyProvider, s3: Any = None, bucket: str = "",
                 subject_prefix: str = "voice", max_deks: int = 10_000) -> None:
        self.keys, self.s3, self.bucket, self.prefix = keys, s3, bucket, subject_prefix
        self._deks: dict[tuple[str, str, bytes], bytes] = {}
        self.max_deks = max_deks

    def dek(self, tenant: str, session: str, wrapped: bytes) -> bytes:
        key = (tenant, session, wrapped)
        dek = self._deks.get(key)
        if dek is None:
            if len(self._deks) >= self.max_deks:
                self._deks.clear()
            dek = self._deks[key] = self.keys.unwrap_dek(tenant, wrapped, session)
        return dek

    async def read(self, conn: AsyncConnection, tenant: str, after: int, limit: int, *,
                   audio: AudioMode = "lengths", system_only: bool = False,
                   head: int | None = None) -> Batch:
        """Entries of ``tenant`` from position ``after`` (inclusive), at most ``limit`` rows;
        ``head``: the tenant's tree size as the caller last read it (saves reading it again;
        a later size is simply read by the next call)."""
        if not 1 <= limit <= MAX_BATCH or audio not in ("bytes", "lengths", "none"):
            raise ReadError(f"limit must be 1..{MAX_BATCH} and audio 'bytes', 'lengths' or "
                            "'none'")
        if head is None:
            head = (await heads(conn, tenant)).get(tenant, 0)
        if after >= head:
            return Batch([], after, head)
        # The tree size and its entries commit together, so every entry below ``head`` is
        # visible to this later statement.
        stmt = (select(*_COLS).where(E.tenant_id == tenant, E.position >= after,
                                     E.position < head).order_by(E.position).limit(limit))
        if system_only:
            stmt = stmt.where(E.direction == Direction.SYSTEM.value)
        rows = (await conn.execute(stmt)).all()
        upto = head if len(rows) < limit else rows[-1].position + 1
        wanted = [r for r in rows if not is_reserved_session(r.session_id)]
        keys = await lock_keys(conn, tenant, {r.session_id for r in wanted})
        live = [r for r in wanted if keys.get(r.session_id) is not None]
        events = await asyncio.to_thread(self._decode_all, tenant, live, keys, audio)
        return Batch(events, upto, head)

    async def session_events(self, conn: AsyncConnection, tenant: str, session: str, *,
                             audio: AudioMode = "lengths") -> list[SealedEvent] | None:
        """Every sealed entry of one session in position order (a projection rebuilding its
        state); None when the session is erased. Its key stays locked until the caller commits."""
        wrapped = (await lock_keys(conn, tenant, [session])).get(session)
        if wrapped is None:
            return None
        rows = (await conn.execute(select(*_COLS).where(
            E.tenant_id == tenant, E.session_id == session).order_by(E.position))).all()
        return await asyncio.to_thread(self._decode_all, tenant, rows, {session: wrapped}, audio)

    def _decode_all(self, tenant: str, rows: Sequence[Any], keys: dict[str, bytes | None],
                    audio: AudioMode) -> list[SealedEvent]:
        readers: dict[str, SegmentReader] = {}
        out: list[SealedEvent] = []
        for row in rows:
            session = row.session_id
            wrapped = keys[session]
            assert wrapped is not None
            try:
                dek = self.dek(tenant, session, wrapped)
                seg = None
                if audio == "bytes":
                    seg = readers.get(session)
                    if seg is None:
                        seg = readers[session] = SegmentReader(self.s3, self.bucket, tenant,
                                                               session, dek)
                out.append(decode_entry(row, tenant, dek, audio, seg, self.prefix))
            except (ValueError, KeyError, TypeError) as exc:
                out.append(_stub(row, tenant, self.prefix, unreadable_reason(exc)))
            except Exception as exc:
                if type(exc).__name__ in _REASONS:
                    out.append(_stub(row, tenant, self.prefix, unreadable_reason(exc)))
                    continue
                raise
        return out


# Why an entry cannot be read, in the ledger's words (dead-letter reasons; never content).
_REASONS: Final = {
    "InvalidTag": "not authentic (its payload or audio part fails the AES-GCM check: altered, "
                  "or sealed under another key)",
    "KeyError_": "session key unavailable",
    "AudioSourceError": "audio unreadable (its part is missing, cut or does not decompress)",
    "PayloadError": "payload does not decompress",
    "JSONDecodeError": "payload is not JSON",
}


def unreadable_reason(exc: BaseException) -> str:
    """The dead-letter reason for an entry that raised ``exc`` while being decoded."""
    name = type(exc).__name__
    return f"unreadable: {_REASONS.get(name, f'malformed entry ({name})')}"


def first_by_seq(events: Iterable[Envelope]) -> list[Envelope]:
    """One envelope per seq, the first sealed winning (as in verify), in seq order."""
    first: dict[int, Envelope] = {}
    for env in events:
        first.setdefault(env.seq, env)
    return [first[s] for s in sorted(first)]



def make_reader(settings: Settings, *, audio_bytes: bool = False) -> LedgerReader:
    """A reader with the settings' keyring (and, for audio bytes, the ledger bucket)."""
    from services.platform.keys import key_provider
    from services.platform.s3 import make_s3_client

    s3 = make_s3_client(settings) if audio_bytes else None
    return LedgerReader(key_provider(settings), s3,
                        settings.bucket_ledger, settings.subject_prefix)
