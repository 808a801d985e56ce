"""Pure parts of the audio projection: G.711, chunked AES-GCM, parts and hashes, resampling runs."""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import os

import numpy as np
import pytest
import soxr
from hypothesis import given, settings
from hypothesis import strategies as st

from services.audio.codec import (
    FlacStream,
    parse_wav_header,
    sample_bytes,
    stored_pcm,
    to_float,
    to_int16,
    wav_header,
)
from services.audio.crypto import ChunkEncryptor, RecordingCryptoError, decrypt_stream
from services.audio.mixer import Canvas, Lane, to_index
from services.audio.recording import RecordingSink
from services.audio.source import AudioSourceError, BatchObjects, SegmentReader
from services.ledger.sealing import segment_aad
from services.platform.keys import encrypt
from services.providers.formats import PCM16K, PCM24K, ULAW8K
from services.providers.timeline import AudioFormat
from services.simulator.audio import ulaw_decode, ulaw_encode


def test_ulaw_decode_matches_the_reference_table() -> None:
    every = bytes(range(256))
    assert np.array_equal(to_int16(every, ULAW8K), ulaw_decode(every))


def test_ulaw_round_trip_is_close() -> None:
    x = (np.sin(np.arange(800) / 7) * 20000).astype(np.int16)
    back = to_int16(ulaw_encode(x), ULAW8K).astype(np.int32)
    assert np.max(np.abs(back - x)) <= 1100  # companding error at full scale


def test_wav_header_round_trip() -> None:
    assert parse_wav_header(wav_header(16000, 2)) == (16000, 2)
    with pytest.raises(ValueError):
        parse_wav_header(b"RIFF" + b"\0" * 40)


def _encrypt(data: bytes, dek: bytes, chunk: int = 100) -> bytes:
    enc = ChunkEncryptor(dek, os.urandom(16), b"t/s/heard", chunk)
    return enc.update(data) + enc.finish()


@given(st.binary(max_size=1000), st.integers(1, 64), st.integers(1, 300))
@settings(deadline=None, max_examples=50)
def test_chunked_encryption_round_trips_whatever_the_read_size(data: bytes, chunk: int,
                                                               read: int) -> None:
    dek = bytes(32)
    blob = _encrypt(data, dek, chunk)
    blocks = [blob[i:i + read] for i in range(0, len(blob), read)]
    assert b"".join(decrypt_stream(dek, b"t/s/heard", blocks)) == data


@pytest.mark.parametrize("attack", ["truncate_chunk", "drop_last", "swap", "flip", "context"])
def test_chunked_encryption_detects_tampering(attack: str) -> None:
    dek = os.urandom(32)
    blob = bytearray(_encrypt(os.urandom(450), dek))
    head, size = 28, 116
    context = b"t/s/heard"
    if attack == "truncate_chunk":
        blob = blob[:head + size + 50]
    elif attack == "drop_last":
        blob = blob[:head + 4 * size]
    elif attack == "swap":
        a, b = blob[head:head + size], blob[head + size:head + 2 * size]
        blob[head:head + 2 * size] = b + a
    elif attack == "flip":
        blob[head + 3] ^= 1
    else:
        context = b"t/other/heard"
    with pytest.raises(RecordingCryptoError):
        b"".join(decrypt_stream(dek, context, [bytes(blob)]))


def test_sink_parts_and_hashes() -> None:
    dek = os.urandom(32)
    sink = RecordingSink(dek, os.urandom(16), b"c", 16000, 2, part_size=10_000, chunk_size=1024)
    pcm, parts = b"", []
    for _ in range(30):
        x = os.urandom(1600)
        pcm += x
        parts += sink.write(x)
    parts += sink.finish()
    assert [p.number for p in parts] == list(range(1, len(parts) + 1))
    assert all(len(p.body) == 10_000 for p in parts[:-1]) and len(parts) > 3
    obj = b"".join(p.body for p in parts)
    assert sink.object_sha256 == hashlib.sha256(obj).hexdigest()
    plain = b"".join(decrypt_stream(dek, b"c", [obj]))
    assert plain[:4] == b"fLaC"  # streamed FLAC: lossless, total samples left unknown
    rate, channels, pieces = stored_pcm(iter([plain]), True, io.BytesIO(), len(pcm), 16000, 2)
    assert (rate, channels) == (16000, 2) and b"".join(pieces) == pcm
    assert sink.pcm_sha256 == hashlib.sha256(pcm).hexdigest()
    assert sink.duration_ms == round(len(pcm) / 4 / 16)


def test_wav_sink_still_made_for_a_recording_begun_as_wav() -> None:
    dek = os.urandom(32)
    sink = RecordingSink(dek, os.urandom(16), b"c", 16000, 1, part_size=10_000, flac=False)
    pcm = os.urandom(3200)
    obj = b"".join(p.body for p in sink.write(pcm) + sink.finish())
    plain = b"".join(decrypt_stream(dek, b"c", [obj]))
    assert plain[44:] == pcm
    rate, channels, pieces = stored_pcm(iter([plain[:10], plain[10:]]), False, io.BytesIO(),
                                        len(pcm), 16000, 1)
    assert (rate, channels) == (16000, 1) and b"".join(pieces) == pcm


def test_flac_stream_is_independent_of_write_splits_and_lossless() -> None:
    pcm = (np.random.default_rng(3).standard_normal(40_001 * 2) * 4000).astype("<i2").tobytes()
    made = set()
    for cut in (4, 1000, 64_002):
        enc = FlacStream(16000, 2)
        out = bytearray(enc.header())
        for i in range(0, len(pcm), cut):
            out += enc.write(pcm[i:i + cut])
        out += enc.finish()
        made.add(bytes(out))
    [flac] = made
    assert len(flac) < len(pcm)
    spool = io.BytesIO()
    _, _, pieces = stored_pcm(iter([flac]), True, spool, len(pcm), 16000, 2)
    assert b"".join(pieces) == pcm
    with pytest.raises(ValueError):
        stored_pcm(iter([b"RIFF" + bytes(60)]), True, io.BytesIO(), 4, 16000, 2)
    empty = FlacStream(16000, 1)
    assert empty.header() + empty.finish() == b""  # libFLAC writes nothing without samples
    _, _, none = stored_pcm(iter([b""]), True, io.BytesIO(), 0, 16000, 1)
    assert list(none) == []


def test_same_salt_same_parts() -> None:
    """Deterministic ciphertext is what lets a resumed consumer check the parts it stored."""
    dek, salt = os.urandom(32), os.urandom(16)
    a = RecordingSink(dek, salt, b"c", 16000, 1, part_size=5000, chunk_size=512)
    b = RecordingSink(dek, salt, b"c", 16000, 1, part_size=5000, chunk_size=512)
    data = os.urandom(20_000)
    pa = a.write(data) + a.finish()
    # Another split, one sample cut in two: the FLAC stream depends on the PCM alone.
    pb = b.write(data[:7001]) + b.write(data[7001:12000]) + b.write(data[12000:]) + b.finish()
    assert len(pa) > 2 and [p.md5 for p in pa] == [p.md5 for p in pb]


def test_soxr_stream_is_independent_of_input_splits() -> None:
    x = np.random.default_rng(1).standard_normal(24_000).astype(np.float32)
    one = soxr.resample(x, 24000, 16000)
    s = soxr.ResampleStream(24000, 16000, 1, dtype="float32", quality="HQ")
    cuts = [0, 480, 1000, 7777, 24_000]
    parts = [s.resample_chunk(x[a:b]) for a, b in itertools.pairwise(cuts)]
    parts.append(s.resample_chunk(np.zeros(0, np.float32), last=True))
    assert np.array_equal(np.concatenate(parts), soxr.resample(x, 24000, 16000, quality="HQ"))
    assert len(one) == 16_000


@given(st.sampled_from(["pcm16", "g711_ulaw", "g711_alaw"]), st.sampled_from([1, 2]),
       st.lists(st.binary(max_size=64), min_size=1, max_size=8))
@settings(deadline=None, max_examples=80)
def test_whole_samples_convert_the_same_joined_or_apart(codec: str, channels: int,
                                                        raw: list[bytes]) -> None:
    """A lane holds its input as wire bytes cut to whole samples and converts them joined."""
    fmt = AudioFormat(codec, 24000, channels)  # type: ignore[arg-type]
    unit = sample_bytes(fmt)
    pieces = [b[:len(b) - len(b) % unit] for b in raw]
    for whole, cut in zip(pieces, raw, strict=True):
        assert np.array_equal(to_float(whole, fmt), to_float(cut, fmt))
        assert len(to_float(cut, fmt)) == len(cut) // unit
    apart = [to_float(b, fmt) for b in pieces]
    assert np.array_equal(to_float(b"".join(pieces), fmt), np.concatenate(apart))


pieces = st.lists(st.tuples(st.integers(0, 400), st.integers(1, 12),
                            st.sampled_from([PCM16K, PCM24K, ULAW8K])), min_size=1, max_size=25)


@given(pieces)
@settings(deadline=None, max_examples=60)
def test_lane_places_every_piece_at_its_timeline_position(spec: list[tuple[int, int, object]]
                                                          ) -> None:
    """Pieces (gap before, 10 ms units, format) land where the timeline puts them: the mixed
    lane's non-zero spans start within one sample of each run's start and hold its length."""
    rate = 16000
    canvas, lane = Canvas(["x"]), Lane("x", rate)
    t = 0.0
    expected: list[tuple[int, int]] = []
    for gap, tens, fmt in spec:
        t += gap
        ms = tens * 10
        n = int(fmt.sample_rate * ms / 1000)  # type: ignore[attr-defined]
        data = (np.full(n, 8000, np.int16).tobytes() if fmt.codec == "pcm16"  # type: ignore[attr-defined]
                else bytes([0x80]) * n)
        lane.feed(canvas, t, fmt, data, expect_contiguous=True)  # type: ignore[arg-type]
        expected.append((to_index(t, rate), to_index(t + ms, rate)))
        t += ms
    lane.flush(canvas)
    end = to_index(t, rate) + 200
    out = canvas.take(end)["x"]
    assert len(out) == end
    # Nothing before the first piece, nothing well after the last.
    first, last = expected[0][0], expected[-1][1]
    assert np.all(out[:max(0, first - 64)] == 0)
    assert np.all(np.abs(out[last + 64:]) < 1e-3)
    # Inside every piece (away from run edges where the resampler's filter rings) there is audio.
    for a, b in expected:
        if b - a > 160:
            assert np.mean(np.abs(out[a + 40:b - 40])) > 0.05
    assert canvas.dropped_samples == 0


@given(pieces, st.lists(st.booleans(), min_size=25, max_size=25))
@settings(deadline=None, max_examples=40)
def test_lane_output_does_not_depend_on_when_it_is_resampled(
        spec: list[tuple[int, int, object]], asks: list[bool]) -> None:
    """A lane resamples its run when its output is needed (holds_back, flush): asking after
    any pieces gives the same samples as resampling frame by frame did (soxr is split-free)."""
    rate = 16000
    rng = np.random.default_rng(7)
    lazy, eager = (Canvas(["x"]), Lane("x", rate)), (Canvas(["x"]), Lane("x", rate))
    t = 0.0
    for (gap, tens, fmt), ask in zip(spec, asks, strict=False):
        t += gap if gap > 100 else 0  # most pieces continue the run
        n = int(fmt.sample_rate * tens * 10 / 1000)  # type: ignore[attr-defined]
        data = (rng.integers(-8000, 8000, n).astype("<i2").tobytes()
                if fmt.codec == "pcm16" else rng.integers(0, 256, n).astype(np.uint8).tobytes())  # type: ignore[attr-defined]
        for (canvas, lane), always in ((lazy, ask), (eager, True)):
            lane.feed(canvas, t, fmt, data, expect_contiguous=True)  # type: ignore[arg-type]
            if always:
                lane.holds_back(canvas)
        t += tens * 10
    for canvas, lane in (lazy, eager):
        lane.flush(canvas)
    end = to_index(t, rate) + 400
    assert np.array_equal(lazy[0].take(end)["x"], eager[0].take(end)["x"])
    assert lazy[1].cursor == eager[1].cursor


@given(pieces, st.lists(st.booleans(), min_size=25, max_size=25))
@settings(deadline=None, max_examples=40)
def test_lane_reach_is_never_below_what_holds_back_gives(
        spec: list[tuple[int, int, object]], asks: list[bool]) -> None:
    """The renderer skips resampling while a lane's reach keeps a block back: the reach must
    bound the cursor that resampling would give, however the input was split."""
    rate = 16000
    rng = np.random.default_rng(11)
    canvas, lane = Canvas(["x"]), Lane("x", rate)
    t = 0.0
    for (gap, tens, fmt), ask in zip(spec, asks, strict=False):
        t += gap if gap > 100 else 0
        n = int(fmt.sample_rate * tens * 10 / 1000)  # type: ignore[attr-defined]
        lane.feed(canvas, t, fmt, rng.integers(0, 256, 2 * n).astype(np.uint8).tobytes(),  # type: ignore[arg-type]
                  expect_contiguous=True)
        t += tens * 10
        if ask:
            reach = lane.reach()
            assert reach is not None and reach >= lane.holds_back(canvas)  # type: ignore[operator]
    lane.flush(canvas)
    assert lane.reach() is None


def test_canvas_mutes_a_paused_span() -> None:
    canvas = Canvas(["a"])
    canvas.add("a", 0, np.ones(1000, np.float32))
    canvas.mute(100, None)
    canvas.unmute(300)
    out = canvas.take(1000)["a"]
    assert out[99] == 1 and not out[100:300].any() and out[300] == 1


class _Segments:
    """An in-memory bucket counting GETs; ``broken`` keys fail like an outage."""

    def __init__(self, blobs: dict[str, bytes], broken: set[str]) -> None:
        self.blobs, self.broken, self.gets = blobs, broken, 0

    def get_object(self, Bucket: str, Key: str) -> dict[str, object]:
        self.gets += 1
        if Key in self.broken:
            raise ConnectionError("s3 unavailable")
        return {"Body": io.BytesIO(self.blobs[Key])}


def test_segment_prefetch_reads_once_and_leaves_failures_to_the_entry() -> None:
    dek = os.urandom(32)
    keys = [f"raw/t/s/{i}" for i in range(3)]
    plain = {k: os.urandom(50) for k in keys}
    client = _Segments({k: encrypt(dek, v, segment_aad("t", "s", k)) for k, v in plain.items()},
                       broken={keys[2]})
    reader = SegmentReader(client, "b", "t", "s", dek, keep=1)
    # Segments sealed before batch objects: a reference without a byte range is a whole object.
    refs = [{"segment": k} for k in keys]
    reader.prefetch([refs[0], refs[1], refs[0], refs[2], {"segment": "raw/other/s/0"}])
    assert client.gets == 3  # each of this session's keys once, none outside it
    assert reader.segment(refs[0]) == plain[keys[0]]
    assert reader.segment(refs[1]) == plain[keys[1]]
    assert client.gets == 3
    with pytest.raises(ConnectionError):
        reader.segment(refs[2])
    with pytest.raises(AudioSourceError):
        reader.segment({"segment": "raw/other/s/0"})


def test_a_kept_part_still_refuses_a_malformed_reference() -> None:
    """A reference into a part already kept skips building its Locator only when that would
    succeed: the same references fail, with the same error, as before."""
    dek = os.urandom(32)
    obj = "raw/t/_batch/000000000001.seg"
    part = f"{obj}#s/client"
    body = b"x" * 40
    blob = encrypt(dek, body, segment_aad("t", "s", part))
    client = _Segments({obj: blob}, set())
    reader = SegmentReader(client, "b", "t", "s", dek, objects=BatchObjects(client, "b"))
    good = {"segment": part, "at": 0, "size": len(blob), "offset": 0, "length": 4}
    assert reader.segment(good) == body  # kept from here on
    assert reader.segment({**good, "at": 0.0, "size": float(len(blob))}) == body  # int() takes
    for bad in ({"at": None}, {"at": "x"}, {"size": [1]}, {"size": float("nan")}):
        with pytest.raises(AudioSourceError, match="malformed"):
            reader.segment({**good, **bad})
    no_size = {k: v for k, v in good.items() if k != "size"}
    with pytest.raises(AudioSourceError, match="malformed"):
        reader.segment(no_size)


@pytest.mark.parametrize("raw", [
    b'{"type":"x","n":[1,2.5,null],"s":"\\u00e9\xc3\xa9"}', b'{"a":1} ', b"{", b"{}x", b"[1]",
    '{"a":"\u00e9"}'.encode("utf-16-le"), b"\xef\xbb\xbf{}", b'{"a":"\xed\xa0\x80"}', b"1"])
def test_payload_json_is_what_json_loads_gives(raw: bytes) -> None:
    from services.audio.source import _json

    try:
        expected: object = json.loads(raw)
    except ValueError as exc:
        with pytest.raises(type(exc)):
            _json(raw)
        return
    assert _json(raw) == expected
