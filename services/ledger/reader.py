"""The ledger's read port: sealed events by position, the one way projections see events.

Every projection (catalog, transcripts, redaction, audio) follows the sealed ledger, never the raw
stream (DESIGN.md "Ledger"). A read returns, for one tenant, the entries from a position on, in
position order (the order the sealer received them), each as a :class:`SealedEvent`: tenant,
position (the Merkle leaf index), session, the decrypted envelope as it crossed the wire, and its
audio: the bytes of every audio field (``audio="bytes"``, read from the raw segments in S3 and
checked against the SHA-256 the leaf commits to) or only their lengths (``audio="lengths"``: no
S3 read; each audio field of the envelope then holds base64 zeros of the same length, which is
all the interpreters read of it: ``frames.length_stand_in``) or nothing (``audio="none"``: an
audio frame comes with an empty payload, its kind read from its type; its payload is decrypted,
to refuse a damaged entry as the other modes do, but not parsed: for projections that only count
audio frames; a reader sharing its decodes with the process's other projections hands them the
parsed payload instead, which they do not read).

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
from typing import TYPE_CHECKING, Any, Final, Literal

from sqlalchemy import bindparam, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from schemas.envelope import AUDIO_TYPES, Direction, Envelope, Provider
from services.audio.source import SegmentReader, decode
from services.ledger.journal_ids import is_reserved_session
from services.ledger.models import LedgerEntry, LedgerTree
from services.ledger.sealing import payload_aad
from services.platform.keys import KeyProvider, decrypt
from services.platform.settings import Settings
from services.providers.frames import length_stand_in

if TYPE_CHECKING:
    from services.ledger.read_cache import SharedReads

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
# A follower's read, built once (a statement built per call cost more client CPU than it runs).
_ROWS = (select(*_COLS).where(E.tenant_id == bindparam("t"), E.position >= bindparam("after"),
                              E.position < bindparam("head"))
         .order_by(E.position).limit(bindparam("limit")))
_SYSTEM_ROWS = _ROWS.where(E.direction == Direction.SYSTEM.value)

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
            parent[key] = length_stand_in(n)
    env = to_envelope(row, tenant, session, payload)
    return SealedEvent(tenant, row.position, session, row.stream_seq,
                       f"{prefix}.{tenant}.{session}.{env.kind}", env, data, lengths)


def _stub(row: Any, tenant: str, prefix: str, reason: str) -> SealedEvent:
    env = to_envelope(row, tenant, row.session_id, {})
    return SealedEvent(tenant, row.position, row.session_id, row.stream_seq,
                       f"{prefix}.{tenant}.{row.session_id}.{env.kind}", env, None, (), reason)


class LedgerReader:
    """Reads and decodes sealed entries for projections (``s3`` is needed for bytes only).

    ``shared``: the process's :class:`~services.ledger.read_cache.SharedReads`, through which the
    projections of one process decode each entry once (not for ``audio="bytes"``)."""

    def __init__(self, keys: KeyProvider, s3: Any = None, bucket: str = "",
                 subject_prefix: str = "voice", max_deks: int = 10_000,
                 shared: SharedReads | None = None) -> None:
        self.keys, self.s3, self.bucket, self.prefix = keys, s3, bucket, subject_prefix
        self._deks: dict[tuple[str, str, bytes], bytes] = {}
        self.max_deks = max_deks
        self.shared = shared

    def dek(self, tenant: str, session: str, wrapped: bytes) -> bytes:
        key = (tenant, session, wrapped)
        dek = self._deks.get(key)
        if dek is None:
            if len(self._deks) >= self.max_deks:
                self._deks.clear()
            dek = self._deks[key] = self.keys.unwrap_dek(tenant, wrapped, session)
        return dek

    def _erased(self, tenant: str, sessions: set[str]) -> None:
        """Sessions found without a key: nothing of theirs stays in memory here."""
        if not sessions:
            return
        for key in [k for k in self._deks if k[0] == tenant and k[1] in sessions]:
            del self._deks[key]
        if self.shared is not None:
            self.shared.forget(tenant, sessions)

    async def read(self, conn: AsyncConnection, tenant: str, after: int, limit: int, *,
                   audio: AudioMode = "lengths", system_only: bool = False,
                   head: int | None = None) -> Batch:
        """Entries of ``tenant`` from position ``after`` (inclusive), at most ``limit`` rows;
        ``head``: the tenant's tree size as the caller last read it (saves reading it again;
        a later size is simply read by the next call). The sessions of the events returned have
        their keys locked ``FOR KEY SHARE`` in ``conn``'s transaction (see :func:`lock_keys`)."""
        if not 1 <= limit <= MAX_BATCH or audio not in ("bytes", "lengths", "none"):
            raise ReadError(f"limit must be 1..{MAX_BATCH} and audio 'bytes', 'lengths' or "
                            "'none'")
        if head is None:
            head = (await heads(conn, tenant)).get(tenant, 0)
        if after >= head:
            return Batch([], after, head)
        if self.shared is None or audio == "bytes":
            events, upto = await self._read(conn, tenant, after, limit, head, audio, system_only)
            return Batch(events, upto, head)
        unparsed = audio == "none"
        if system_only:  # a few events: from the shared run when it covers them
            cached, upto = self.shared.get(tenant, after, head, limit, unparsed=unparsed) or (
                [], after)
            system = [e for e in cached if e.envelope.direction is Direction.SYSTEM]
            system = await self._alive(conn, tenant, system, set())
            if upto < head and len(cached) < limit:  # the rest (or all) from the database
                rest, upto = await self._read(conn, tenant, upto, limit - len(cached), head,
                                              audio, True)
                system += rest
            return Batch(system, upto, head)
        async with self.shared.lock(tenant):
            cached, upto = self.shared.get(tenant, after, head, limit, unparsed=unparsed) or (
                [], after)
            locked: set[str] = set()
            if upto < head and len(cached) < limit:
                start = upto
                rows, upto = await self._rows(conn, tenant, start, limit - len(cached), head,
                                              False)
                keys = await self._keys(conn, tenant, rows)
                locked = set(keys)
                live = [r for r in rows if keys.get(r.session_id) is not None]
                alternates: dict[int, SealedEvent] = {}
                fresh = await asyncio.to_thread(self._decode_all, tenant, live, keys, "lengths",
                                                alternates)
                self.shared.put(tenant, start, upto, fresh, alternates)
                if unparsed and alternates:
                    fresh = [alternates.get(e.position, e) for e in fresh]
                cached = cached + fresh
        return Batch(await self._alive(conn, tenant, cached, locked), upto, head)

    async def _rows(self, conn: AsyncConnection, tenant: str, after: int, limit: int, head: int,
                    system_only: bool) -> tuple[list[Any], int]:
        """Rows from ``after`` below ``head`` (reserved sessions left out) and the position they
        cover up to."""
        # The tree size and its entries commit together, so every entry below ``head`` is
        # visible to this later statement.
        stmt = _SYSTEM_ROWS if system_only else _ROWS
        rows = (await conn.execute(stmt, {"t": tenant, "after": after, "head": head,
                                          "limit": limit})).all()
        upto = head if len(rows) < limit else rows[-1].position + 1
        return [r for r in rows if not is_reserved_session(r.session_id)], upto

    async def _keys(self, conn: AsyncConnection, tenant: str, rows: Sequence[Any]
                    ) -> dict[str, bytes | None]:
        """The rows' sessions' keys, locked; sessions without one are forgotten here."""
        sessions = {r.session_id for r in rows}
        if not sessions:
            return {}
        keys = await lock_keys(conn, tenant, sessions)
        self._erased(tenant, {s for s in sessions if keys.get(s) is None})
        return {s: keys.get(s) for s in sessions}

    async def _read(self, conn: AsyncConnection, tenant: str, after: int, limit: int, head: int,
                    audio: AudioMode, system_only: bool) -> tuple[list[SealedEvent], int]:
        rows, upto = await self._rows(conn, tenant, after, limit, head, system_only)
        keys = await self._keys(conn, tenant, rows)
        live = [r for r in rows if keys.get(r.session_id) is not None]
        if not live:
            return [], upto
        return await asyncio.to_thread(self._decode_all, tenant, live, keys, audio), upto

    async def _alive(self, conn: AsyncConnection, tenant: str, events: list[SealedEvent],
                     locked: set[str]) -> list[SealedEvent]:
        """``events`` less those of sessions whose key is gone, the others' keys locked (those
        in ``locked`` already are, in this transaction)."""
        sessions = {e.session for e in events} - locked
        if not sessions:
            return events
        keys = await lock_keys(conn, tenant, sessions)
        gone = {s for s in sessions if keys.get(s) is None}
        self._erased(tenant, gone)
        return [e for e in events if e.session not in gone] if gone else events

    async def session_events(self, conn: AsyncConnection, tenant: str, session: str, *,
                             audio: AudioMode = "lengths") -> list[SealedEvent] | None:
        """Every sealed entry of one session in position order (a projection rebuilding its
        state); None when the session is erased. Its key stays locked until the caller commits."""
        wrapped = (await lock_keys(conn, tenant, [session])).get(session)
        if wrapped is None:
            self._erased(tenant, {session})
            return None
        rows = (await conn.execute(select(*_COLS).where(
            E.tenant_id == tenant, E.session_id == session).order_by(E.position))).all()
        return await asyncio.to_thread(self._decode_all, tenant, rows, {session: wrapped}, audio)

    def _decode_all(self, tenant: str, rows: Sequence[Any], keys: dict[str, bytes | None],
                    audio: AudioMode, unparsed: dict[int, SealedEvent] | None = None
                    ) -> list[SealedEvent]:
        """Decode ``rows``; ``unparsed``, when given, receives the ``audio="none"`` form of each
        audio frame that decodes in that mode but not in ``audio``'s."""
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
            except Exception as exc:
                if not isinstance(exc, ValueError | KeyError | TypeError) \
                        and type(exc).__name__ not in _REASONS:
                    raise
                out.append(_stub(row, tenant, self.prefix, unreadable_reason(exc)))
                if unparsed is not None and audio != "none":
                    alt = self._decode_one(row, tenant, wrapped, "none")
                    if alt is not None and alt.reason is None:
                        unparsed[row.position] = alt
        return out

    def _decode_one(self, row: Any, tenant: str, wrapped: bytes, audio: AudioMode
                    ) -> SealedEvent | None:
        try:
            return decode_entry(row, tenant, self.dek(tenant, row.session_id, wrapped), audio,
                                None, self.prefix)
        except Exception:
            return None


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



def make_reader(settings: Settings, *, audio_bytes: bool = False,
                shared: SharedReads | None = None) -> LedgerReader:
    """A reader with the settings' keyring (and, for audio bytes, the ledger bucket)."""
    from services.platform.keys import key_provider
    from services.platform.s3 import make_s3_client

    s3 = make_s3_client(settings) if audio_bytes else None
    return LedgerReader(key_provider(settings), s3, settings.bucket_ledger,
                        settings.subject_prefix, shared=shared)
