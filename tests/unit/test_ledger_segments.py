"""Raw audio batch objects: one object per sealed batch, a part per session and direction,
compressed then encrypted under the session's own key; exact per-entry addressing."""

from __future__ import annotations

import base64
import hashlib
import io
import json
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest
import uuid_utils
import zstandard
from cryptography.exceptions import InvalidTag

from schemas.envelope import Direction, Envelope, Provider
from services.audio.source import AudioSourceError, BatchObjects, SegmentReader
from services.ledger.payloads import open_payload
from services.ledger.sealing import Fresh, payload_aad, plan_batch, segment_aad
from services.ledger.segments import (
    Locator,
    SegmentError,
    batch_key,
    compress,
    decompress,
    open_part,
    seal_part,
)
from services.platform.keys import new_dek

T = "acme"


def _env(session: str, seq: int, direction: Direction, data: bytes) -> Envelope:
    kind = ("input_audio_buffer.append" if direction is Direction.CLIENT
            else "response.output_audio.delta")
    field = "audio" if direction is Direction.CLIENT else "delta"
    return Envelope(event_id=str(uuid_utils.uuid7()), tenant_id=T, session_id=session, seq=seq,
                    provider=Provider.OPENAI_REALTIME, direction=direction, type=kind,
                    recorded_at=datetime.now(UTC), mono_ns=seq * 20_000_000,
                    payload={"type": kind, field: base64.b64encode(data).decode()})


def _mixed_batch() -> tuple[list[Fresh], dict[str, bytes]]:
    pcm = {s: bytes(range(256)) * 8 for s in ("call-a", "call-b")}
    envs = [_env("call-a", 0, Direction.CLIENT, pcm["call-a"][:1000]),
            _env("call-b", 0, Direction.CLIENT, pcm["call-b"][:700]),
            _env("call-a", 1, Direction.SERVER, pcm["call-a"][1000:]),
            _env("call-a", 2, Direction.CLIENT, pcm["call-a"][:48])]
    return [Fresh(i, "voice.acme.x.y", e) for i, e in enumerate(envs)], pcm


class _Store:
    """The ledger bucket, with HTTP Range on GET as S3 serves it."""

    def __init__(self, objects: dict[str, bytes]) -> None:
        self.objects, self.gets = objects, 0

    def get_object(self, Bucket: str, Key: str, Range: str | None = None) -> dict[str, Any]:
        self.gets += 1
        body = self.objects[Key]
        if Range is not None:
            first, last = (int(x) for x in Range.removeprefix("bytes=").split("-"))
            body = body[first:last + 1]
        return {"Body": io.BytesIO(body)}


def _refs(plan: Any, deks: dict[str, bytes]) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for e in plan.entries:
        payload = json.loads(open_payload(deks[e["session_id"]], e["payload_ct"],
                                     payload_aad(T, e["session_id"], e["event_id"])))
        field = payload.get("audio") or payload.get("delta")
        out.append((e["session_id"], field["$audio"]))
    return out


def test_one_object_per_batch_each_session_under_its_own_key() -> None:
    fresh, _ = _mixed_batch()
    deks = {"call-a": new_dek(), "call-b": new_dek()}
    plan = plan_batch(T, fresh, 7, deks, {}, lambda n: "i")
    assert plan.object_key == batch_key(T, 7)
    assert {(s.session_id, s.direction) for s in plan.segments} == {
        ("call-a", "client"), ("call-b", "client"), ("call-a", "server")}
    for seg in plan.segments:
        part = plan.object_body[seg.at:seg.at + len(seg.ciphertext)]
        assert part == seg.ciphertext
        aad = segment_aad(T, seg.session_id, seg.key)
        assert open_part(deks[seg.session_id], aad, part, seg.codec) == bytes(seg.plaintext)
        other = deks["call-b" if seg.session_id == "call-a" else "call-a"]
        with pytest.raises(InvalidTag):  # another session's key opens nothing: erasure shreds
            open_part(other, aad, part, seg.codec)


def test_every_entry_resolves_to_its_exact_bytes_with_one_ranged_read_per_part() -> None:
    fresh, _ = _mixed_batch()
    deks = {"call-a": new_dek(), "call-b": new_dek()}
    plan = plan_batch(T, fresh, 0, deks, {}, lambda n: "i")
    store = _Store({plan.object_key: plan.object_body})
    readers = {s: SegmentReader(store, "b", T, s, deks[s]) for s in deks}
    for (session, ref), f in zip(_refs(plan, deks), fresh, strict=True):
        data = readers[session].resolve(ref)
        sent = f.envelope.payload.get("audio") or f.envelope.payload.get("delta")
        assert data == base64.b64decode(sent)
        assert hashlib.sha256(data).digest() == plan.entries[fresh.index(f)]["audio_sha256"]
    assert store.gets == 3  # one ranged GET per part, none of the whole object


def test_shared_batch_objects_serve_every_session_with_one_get() -> None:
    fresh, _ = _mixed_batch()
    deks = {"call-a": new_dek(), "call-b": new_dek()}
    plan = plan_batch(T, fresh, 0, deks, {}, lambda n: "i")
    assert plan.object_key is not None
    store = _Store({plan.object_key: plan.object_body})
    objects = BatchObjects(store, "b")
    readers = {s: SegmentReader(store, "b", T, s, deks[s], objects=objects) for s in deks}
    for (session, ref), f in zip(_refs(plan, deks), fresh, strict=True):
        sent = f.envelope.payload.get("audio") or f.envelope.payload.get("delta")
        assert isinstance(sent, str) and readers[session].resolve(ref) == base64.b64decode(sent)
    assert store.gets == 1 and objects.gets == 1  # the whole object once, for both sessions
    ref_b = next(ref for s, ref in _refs(plan, deks) if s == "call-b")
    with pytest.raises(AudioSourceError):  # still only its own session's parts
        SegmentReader(store, "b", T, "call-a", deks["call-a"], objects=objects).resolve(ref_b)


def test_shared_batch_objects_stay_within_their_bound() -> None:
    store = _Store({f"o{i}": bytes(100) for i in range(5)})
    objects = BatchObjects(store, "b", max_bytes=400)
    for i in range(5):
        objects.get(f"o{i}")
    objects.get("o4")  # kept
    assert store.gets == 5
    objects.get("o0")  # dropped long ago: read again
    assert store.gets == 6 and objects._bytes <= 400


def test_a_reader_refuses_another_sessions_part() -> None:
    fresh, _ = _mixed_batch()
    deks = {"call-a": new_dek(), "call-b": new_dek()}
    plan = plan_batch(T, fresh, 0, deks, {}, lambda n: "i")
    store = _Store({plan.object_key: plan.object_body})
    ref_b = next(ref for s, ref in _refs(plan, deks) if s == "call-b")
    with pytest.raises(AudioSourceError):
        SegmentReader(store, "b", T, "call-a", deks["call-a"]).resolve(ref_b)
    assert store.gets == 0


def test_locator_of_batch_and_legacy_references() -> None:
    legacy = Locator.of({"segment": "raw/t/s/client/000000000001.seg", "offset": 0})
    assert (legacy.object, legacy.at, legacy.range_header()) == (
        "raw/t/s/client/000000000001.seg", None, None)
    loc = Locator.of({"segment": "raw/t/_batch/000000000009.seg#s/server", "at": 100,
                      "size": 50, "codec": "zstd"})
    assert loc.object == "raw/t/_batch/000000000009.seg"
    assert loc.range_header() == "bytes=100-149" and loc.codec == "zstd"


def test_compression_is_lossless_and_bounded() -> None:
    dek, aad = new_dek(), b"aad"
    data = bytes(range(256)) * 100 + b"\x00" * 5000
    assert open_part(dek, aad, *reversed(seal_part(dek, aad, data))) == data
    assert seal_part(dek, aad, b"")[0] == "zstd"
    assert open_part(dek, aad, *reversed(seal_part(dek, aad, b""))) == b""
    bomb = zstandard.ZstdCompressor().compress(b"\x00" * 10_000)
    with pytest.raises(SegmentError):
        decompress(bomb, "zstd", limit=1000)
    unsized = zstandard.ZstdCompressor(write_content_size=False).compress(b"\x00" * 10_000)
    with pytest.raises(SegmentError):
        decompress(unsized, "zstd", limit=1000)
    with pytest.raises(SegmentError):
        decompress(b"not zstd", "zstd")
    with pytest.raises(SegmentError):
        decompress(b"x", "lz4")
    assert decompress(b"raw", None) == b"raw"


def _speech(n: int, seed: int) -> bytes:
    """A voiced, noisy 16-bit signal: what PCM from a caller's microphone looks like."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / 24000
    wave = 6000 * np.sin(2 * np.pi * 180 * t) * (1 + np.sin(2 * np.pi * 3 * t))
    return np.clip(wave + rng.normal(0, 300, n), -32768, 32767).astype("<i2").tobytes()


@pytest.mark.parametrize("data, codec", [
    (_speech(4800, 1), "flac"),  # PCM16: FLAC well below FLAC_GOOD
    (_speech(4800, 2) + b"\x07", "zstd"),  # odd length: not 16-bit samples
    (bytes([0xFF, 0x7F] * 2000), "flac"),  # G.711 silence read as samples: constant, tiny
    (bytes(np.random.default_rng(3).integers(0, 256, 4000, dtype=np.uint8)), "zstd"),
])
def test_each_part_gets_the_smaller_lossless_codec(data: bytes, codec: str) -> None:
    dek, aad = new_dek(), b"aad"
    got, blob = seal_part(dek, aad, data)
    assert got == codec
    assert open_part(dek, aad, blob, got) == data


def test_flac_parts_are_bounded_and_checked() -> None:
    data = _speech(24000, 4)
    flac = compress(data)[1]
    assert compress(data)[0] == "flac" and len(flac) < len(data) * 0.75
    assert decompress(flac, "flac") == data
    with pytest.raises(SegmentError, match="bound"):
        decompress(flac, "flac", limit=len(data) - 2)
    for bad in (flac[: len(flac) // 2], b"fLaC" + bytes(60), b"junk"):
        with pytest.raises(SegmentError):
            decompress(bad, "flac")
    from services.evidence.verify_bundle import Bad, _decompress

    assert _decompress("s.seg", "flac", flac, len(data)) == data
    with pytest.raises(Bad, match="length"):
        _decompress("s.seg", "flac", flac, len(data) + 2)
    with pytest.raises(Bad):
        _decompress("s.seg", "flac", b"junk", 4)


def test_standalone_bundle_verifier_decompresses_within_the_stated_length() -> None:
    from services.evidence.verify_bundle import Bad, _decompress

    data = bytes(range(256)) * 40
    frame = zstandard.ZstdCompressor().compress(data)
    assert _decompress("s.seg", "zstd", frame, len(data)) == data
    for bad, length in ((frame, len(data) - 1), (frame[:-3], len(data)), (b"junk", 4)):
        with pytest.raises(Bad):
            _decompress("s.seg", "zstd", bad, length)
    with pytest.raises(Bad):
        _decompress("s.seg", "brotli", frame, len(data))
