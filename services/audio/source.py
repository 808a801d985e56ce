"""The audio projection's input: a session's sealed ledger entries and raw audio (adapter).

Entries are read in ``seq`` order; each payload is decrypted with the session key and every
``{"$audio": ...}`` reference the sealer left in it is resolved to the bytes of the raw segment
it points at (a ranged read of the part in the batch object, decrypted, then decompressed:
``services/ledger/segments.py``), checked against the reference's SHA-256 (itself inside the
payload the leaf commits to). The renderer gets those bytes; the interpreters get the frame as it
crossed the wire but for its audio fields, which hold base64 of as many bytes (the length is all
they read of them, as in the ledger reader's ``audio="lengths"``).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Final

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Row, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from schemas.envelope import Direction, Provider
from services.audio.render import Event
from services.ledger.audio_fields import candidate_paths
from services.ledger.models import LedgerEntry, LedgerSession
from services.ledger.payloads import open_payload
from services.ledger.sealing import payload_aad, segment_aad
from services.ledger.segments import Locator, SegmentError, open_part
from services.providers.frames import length_stand_in

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


_AFTER_MANY = text("""
    SELECT k.tenant_id, k.session_id, r.seq, r.position, r.event_id, r.mono_ns, r.provider,
           r.direction, r.type, r.payload_ct
      FROM unnest(CAST(:tenants AS text[]), CAST(:sessions AS text[]), CAST(:afters AS bigint[]))
           AS k(tenant_id, session_id, after_seq)
     CROSS JOIN LATERAL (
           SELECT e.seq, e.position, e.event_id, e.mono_ns, e.provider, e.direction, e.type,
                  e.payload_ct
             FROM ledger_entries e
            WHERE e.tenant_id = k.tenant_id AND e.session_id = k.session_id
              AND e.seq > k.after_seq
            ORDER BY e.seq, e.position
            LIMIT :limit) r
     ORDER BY k.tenant_id, k.session_id, r.seq, r.position
""")


async def entries_after_many(conn: AsyncConnection, after: dict[tuple[str, str], int],
                             limit: int) -> dict[tuple[str, str], list[Any]]:
    """:func:`entries_after` of several sessions ((tenant, session) -> after_seq) in one
    statement; each session's rows as that function returns them (a session with none: [])."""
    if not after:
        return {}
    keys = sorted(after)
    out: dict[tuple[str, str], list[Any]] = {k: [] for k in keys}
    rows = await conn.execute(_AFTER_MANY, {"tenants": [k[0] for k in keys],
                                            "sessions": [k[1] for k in keys],
                                            "afters": [after[k] for k in keys], "limit": limit})
    for row in rows:
        out[(row.tenant_id, row.session_id)].append(row)
    return out


class BatchObjects:
    """Whole raw-audio batch objects, shared by the session readers of one process.

    A sealer batch writes one object holding a part for each session it sealed; each session's
    reader used to GET its own byte range, so a batch of N live sessions cost N requests (each
    some milliseconds of client and server CPU). Through this, one GET of the object serves
    every session, and each still opens only its own part with its own key. Bounded: at most
    ``max_bytes`` kept, least recently used dropped; an object larger than a quarter of that is
    not kept. Thread-safe (prefetching reads from a pool); one GET per object at a time.
    """

    def __init__(self, client: Any, bucket: str, max_bytes: int = 64 << 20) -> None:
        self.client, self.bucket, self.max_bytes = client, bucket, max_bytes
        self._kept: OrderedDict[str, bytes] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self._fetching: dict[str, threading.Lock] = {}
        self.gets = 0

    def get(self, key: str) -> bytes:
        with self._lock:
            body = self._kept.get(key)
            if body is not None:
                self._kept.move_to_end(key)
                return body
            fetching = self._fetching.setdefault(key, threading.Lock())
        with fetching:
            with self._lock:
                body = self._kept.get(key)
            if body is None:
                body = bytes(self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read())
                with self._lock:
                    self.gets += 1
                    self._keep(key, body)
        with self._lock:
            self._fetching.pop(key, None)
        return body

    def has(self, key: str) -> bool:
        """The object is kept: reading a part of it is local work, not a round trip."""
        with self._lock:
            return key in self._kept

    def _keep(self, key: str, body: bytes) -> None:
        if len(body) > self.max_bytes // 4 or key in self._kept:
            return
        self._kept[key] = body
        self._bytes += len(body)
        while self._bytes > self.max_bytes:
            _, dropped = self._kept.popitem(last=False)
            self._bytes -= len(dropped)


class SegmentReader:
    """Decrypted, decompressed raw audio parts, a few kept (entries of one batch share a part).

    ``prefetch`` reads the parts a batch of entries will need in parallel (one ranged GET each,
    which otherwise ran one after another, a round trip per sealer batch; parts of batch objects
    already kept are opened when needed instead); a failed read is left
    to the entry that needs it, so errors surface exactly where they did without prefetching.
    Only this session's parts are read: its key opens nothing else (the part id is in the AAD).
    """

    def __init__(self, client: Any, bucket: str, tenant: str, session: str, dek: bytes,
                 keep: int = 4, workers: int = 8, objects: BatchObjects | None = None) -> None:
        self.client, self.bucket, self.objects = client, bucket, objects
        self.tenant, self.session, self.dek = tenant, session, dek
        self._cache: OrderedDict[str, bytes] = OrderedDict()
        self._ahead: dict[str, bytes] = {}  # prefetched for the current batch, not yet used
        self.keep, self.workers = keep, workers

    def _mine(self, loc: Locator) -> bool:
        if loc.at is None:  # a segment sealed before batch objects
            return loc.part.startswith(f"raw/{self.tenant}/{self.session}/")
        return (loc.object.startswith(f"raw/{self.tenant}/")
                and loc.part.startswith(f"{loc.object}#{self.session}/"))

    def _read(self, loc: Locator) -> bytes:
        if self.objects is not None and loc.at is not None and loc.size is not None:
            blob = self.objects.get(loc.object)[loc.at:loc.at + loc.size]
        else:
            kwargs: dict[str, Any] = {"Bucket": self.bucket, "Key": loc.object}
            rng = loc.range_header()
            if rng is not None:
                kwargs["Range"] = rng
            blob = self.client.get_object(**kwargs)["Body"].read()
        try:
            return open_part(self.dek, segment_aad(self.tenant, self.session, loc.part), blob,
                             loc.codec)
        except SegmentError as exc:
            raise AudioSourceError(str(exc)) from None

    def _kept(self, loc: Locator) -> bool:
        """Its batch object is kept already (another session's read fetched it): opening the
        part when it is needed costs less than a thread for it."""
        return (self.objects is not None and loc.at is not None and loc.size is not None
                and self.objects.has(loc.object))

    def _try_read(self, loc: Locator) -> bytes | None:
        try:
            return self._read(loc)
        except Exception:  # retried (and raised) by the entry that needs it
            return None

    def prefetch(self, refs: Iterable[dict[str, Any]]) -> None:
        self._ahead.clear()
        # A part kept already needs no read, whether or not the reference is well formed (that
        # is checked when it is resolved): most entries of a batch point into the same parts.
        cache, locs = self._cache, {}
        for ref in refs:
            part = ref.get("segment")
            if isinstance(part, str) and part in cache:
                continue
            loc = _locate(ref)
            if loc is not None:
                locs[loc.part] = loc
        missing = [loc for part, loc in locs.items() if part not in self._cache and self._mine(loc)
                   and not self._kept(loc)]
        if len(missing) < 2:
            return  # one read gains nothing from a pool
        with ThreadPoolExecutor(max_workers=min(self.workers, len(missing))) as pool:
            for loc, plain in zip(missing, pool.map(self._try_read, missing), strict=True):
                if plain is not None:
                    self._ahead[loc.part] = plain

    def segment(self, ref: dict[str, Any]) -> bytes:
        """The whole decompressed part an audio reference points into."""
        part = ref.get("segment")
        if type(part) is str and part in self._cache and _plain_locator(ref):
            # A kept part (most entries): the reference is well formed without building its
            # Locator, which this would give (its part id is the string itself).
            self._cache.move_to_end(part)
            return self._cache[part]
        loc = _locate(ref)
        if loc is None:
            raise AudioSourceError("malformed audio reference")
        if loc.part in self._cache:
            self._cache.move_to_end(loc.part)
            return self._cache[loc.part]
        if not self._mine(loc):
            raise AudioSourceError("audio reference points outside its session")
        plain = self._ahead.pop(loc.part, None)
        if plain is None:
            plain = self._read(loc)
        self._cache[loc.part] = plain
        while len(self._cache) > self.keep:
            self._cache.popitem(last=False)
        return plain

    def resolve(self, ref: dict[str, Any]) -> bytes:
        seg = self.segment(ref)
        offset, length = int(ref["offset"]), int(ref["length"])
        data = seg[offset:offset + length]
        if len(data) != length or hashlib.sha256(data).hexdigest() != ref["sha256"]:
            raise AudioSourceError("raw audio does not match its ledger reference")
        return data


def _plain_locator(ref: dict[str, Any]) -> bool:
    """:meth:`Locator.of` accepts the reference for certain: a segment sealed before batch
    objects, or a byte range of plain integers (anything else takes the full check)."""
    return "at" not in ref or (type(ref["at"]) is int and type(ref.get("size")) is int)


def _locate(ref: dict[str, Any]) -> Locator | None:
    try:
        return Locator.of(ref)
    except (KeyError, TypeError, ValueError):
        return None


# An audio field of a decoded payload: (its parent container, its key, the ``$audio`` reference).
AudioRef = tuple[Any, Any, dict[str, Any]]


def decode(row: Row[Any], tenant: str, session: str,
           dek: bytes | AESGCM) -> tuple[dict[str, Any], list[AudioRef]]:
    """One ledger entry's payload, and its audio references in document order (``dek`` may be
    the session's cipher, built once: building it per entry cost more than the decryption)."""
    payload = _json(open_payload(dek, row.payload_ct, payload_aad(tenant, session, row.event_id)))
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


_DECODER: Final = json.JSONDecoder()  # what json.loads uses without arguments


def _json(raw: bytes) -> Any:
    """``json.loads(raw)``, without guessing the encoding of a sealed payload (canonical JSON:
    an object, UTF-8), which cost as much as parsing a small one. Anything else goes the way
    ``json.loads`` goes."""
    if raw[:1] == b"{" and raw[1:2] != b"\x00":  # what json.detect_encoding reads as UTF-8
        text = raw.decode("utf-8", "surrogatepass")
        # No whitespace leads (it starts with "{"); none trails canonical JSON either, so the
        # two whitespace scans of JSONDecoder.decode are left to a text that has some.
        obj, end = _DECODER.raw_decode(text)
        return obj if end == len(text) else _DECODER.decode(text)
    return json.loads(raw)


def segment_refs(decoded: Iterable[tuple[dict[str, Any], list[AudioRef]]]
                 ) -> Iterator[dict[str, Any]]:
    """The audio references of decoded entries (what ``SegmentReader.prefetch`` takes)."""
    return (ref for _, refs in decoded for _, _, ref in refs)


_PROVIDERS: Final = {p.value: p for p in Provider}
_DIRECTIONS: Final = {d.value: d for d in Direction}


def to_event(row: Row[Any], tenant: str, session: str, dek: bytes | AESGCM,
             segments: SegmentReader,
             decoded: tuple[dict[str, Any], list[AudioRef]] | None = None
             ) -> tuple[Event, list[bytes]]:
    """One ledger entry → the envelope as received, and its audio fields in document order."""
    payload, refs = decoded if decoded is not None else decode(row, tenant, session, dek)
    audio = [segments.resolve(ref) for _, _, ref in refs]
    # The payload was parsed for this entry alone, so its fields are set in place (a deep copy
    # per entry cost more than its decryption), after every reference was resolved. The
    # interpreters read only an audio field's length, and the renderer takes the bytes from
    # ``audio``: a field holds a stand-in of that length, not the bytes in base64 (encoding
    # them, and scanning the text to measure it, was a tenth of an entry's rendering).
    for (parent, key, _), data in zip(refs, audio, strict=True):
        parent[key] = length_stand_in(len(data))
    return Event(row.seq, row.mono_ns, _PROVIDERS[row.provider], _DIRECTIONS[row.direction],
                 row.type, payload), audio
