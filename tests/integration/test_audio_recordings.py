"""Acceptance of recordings as heard, against the real stack: every provider, crash and resume,
rebuild from the ledger. Each test seals and records only its own random tenant."""

from __future__ import annotations

import asyncio
import hashlib
import io
from typing import Any

import numpy as np
import pytest

from services.audio import store
from services.audio.codec import is_flac, stored_pcm
from services.audio.consumer import AudioRecorder
from services.audio.crypto import decrypt_stream
from services.audio.job import context_for
from services.audio.rebuild import rebuild
from services.platform.keys import LocalKeyProvider
from services.platform.s3 import make_s3_client
from services.platform.settings import Settings
from services.simulator import SimulatedSession, simulate
from services.simulator.audio import MARKER_HZ, MARKER_MS
from services.simulator.providers import PROFILES
from services.simulator.script import build_script
from tests.integration.ledger_helpers import TenantSealer

pytestmark = pytest.mark.integration
TOLERANCE_MS = 20.0


async def _sealed(settings: Settings, tenant: str, provider: str) -> tuple[TenantSealer,
                                                                            SimulatedSession]:
    sealer = TenantSealer(settings, tenant)
    await sealer.start()
    [sim] = await simulate(settings, provider, 1, 11, tenant)
    await sealer.wait_for(sim.events)
    await sealer.stop()
    return sealer, sim


def _recorder(settings: Settings, tenant: str) -> AudioRecorder:
    # Parts keep S3's 5 MiB minimum (SeaweedFS enforces it at completion, as AWS does).
    return AudioRecorder(settings, LocalKeyProvider.from_file(settings.keyring_path),
                         make_s3_client(settings), tenant=tenant)


async def _record(settings: Settings, sealer: TenantSealer, tenant: str) -> None:
    rec = _recorder(settings, tenant)
    try:
        for _ in range(20):
            await rec.poll(sealer.engine)
            if rec.completed:
                return
        raise AssertionError("recording did not complete")
    finally:
        await rec.close()


async def _decoded(settings: Settings, sealer: TenantSealer, tenant: str, session: str,
                   kind: str) -> tuple[np.ndarray[Any, Any], int, Any]:
    """Download, decrypt and check the recorded hashes; returns (frames x channels, rate, row)."""
    async with sealer.engine.connect() as conn:
        row = (await store.load(conn, tenant, session))[kind]
        from services.audio.source import session_row
        wrapped = (await session_row(conn, tenant, session)).wrapped_dek  # type: ignore[union-attr]
    dek = LocalKeyProvider.from_file(settings.keyring_path).unwrap_dek(tenant, wrapped, session)

    def fetch() -> bytes:
        s3 = make_s3_client(settings)
        return bytes(s3.get_object(Bucket=settings.bucket_audio, Key=row.object_key)["Body"].read())

    blob = await asyncio.to_thread(fetch)
    assert hashlib.sha256(blob).hexdigest() == row.sha256
    plain = b"".join(decrypt_stream(dek, context_for(tenant, session, kind), [blob]))
    assert is_flac(row.object_key) and (plain[:4] == b"fLaC" or not row.pcm_bytes)
    rate, channels, pieces = stored_pcm(iter([plain]), True, io.BytesIO(), row.pcm_bytes,
                                        row.sample_rate, row.channels)
    pcm = b"".join(pieces)
    assert hashlib.sha256(pcm).hexdigest() == row.pcm_sha256
    frames = np.frombuffer(pcm, "<i2").reshape(-1, channels).astype(np.float64)
    return frames, rate, row


def _tone_onset(x: np.ndarray[Any, Any], rate: int, hz: int, expect_ms: float) -> float | None:
    """Onset (ms) of a ``hz`` tone near ``expect_ms``: mean centre of 10 ms windows dominated by
    the tone, minus half the tone's length."""
    win, hop = rate // 100, rate // 500
    lo = max(0, int((expect_ms - 250) * rate / 1000))
    hi = min(len(x) - win, int((expect_ms + 300) * rate / 1000))
    basis = np.exp(-2j * np.pi * hz * np.arange(win) / rate)
    centres = []
    for s in range(lo, hi, hop):
        w = x[s:s + win]
        total = float(np.sum(w * w))
        if total < 1e3:
            continue
        tone = abs(np.dot(w, basis)) ** 2 * 2 / win
        if tone / total > 0.6:
            centres.append((s + win / 2) * 1000 / rate)
    if not centres:
        return None
    return float(np.mean(centres)) - MARKER_MS / 2


@pytest.mark.parametrize("provider", sorted(PROFILES))
async def test_recording_as_heard(settings: Settings, tenant: str, provider: str) -> None:
    sealer, sim = await _sealed(settings, tenant, provider)
    try:
        await _record(settings, sealer, tenant)
        heard, rate, row = await _decoded(settings, sealer, tenant, sim.session_id, "heard")
        unheard, _, urow = await _decoded(settings, sealer, tenant, sim.session_id, "unheard")
        duration = len(heard) * 1000 / rate
        print(f"{provider}: {duration:.1f} ms vs scripted {sim.duration_ms} ms; gaps {row.gaps}")
        assert abs(duration - sim.duration_ms) <= TOLERANCE_MS
        assert heard.shape[1] == 2 and unheard.shape[1] == 1
        marks = {m.type: m.at_ms for m in build_script(sim.seed).system_events}
        paused = (marks["recording.paused"], marks["recording.resumed"])
        for turn in sim.script.turns:
            heard_ms = turn.duration_ms if turn.heard_ms is None else turn.heard_ms
            if heard_ms < turn.marker_ms + MARKER_MS:
                continue  # the marker was never heard
            expect = turn.start_ms + turn.marker_ms
            channel = 0 if turn.speaker == "caller" else 1
            onset = _tone_onset(heard[:, channel], rate, MARKER_HZ[turn.speaker], expect)
            other = _tone_onset(heard[:, 1 - channel], rate, MARKER_HZ[turn.speaker], expect)
            print(f"  turn {turn.index} {turn.speaker}: marker at {onset} (expected {expect})")
            if paused[0] <= expect < paused[1]:
                assert onset is None, f"turn {turn.index} was recorded while recording was paused"
                continue
            assert onset is not None and abs(onset - expect) <= TOLERANCE_MS, turn.index
            assert other is None, f"turn {turn.index}'s marker leaked into the other channel"
        for turn in sim.script.turns:
            if turn.speaker != "agent" or turn.status == "completed":
                continue
            cut = turn.start_ms + (turn.heard_ms or 0)
            lo, hi = int((cut + 40) * rate / 1000), int((cut + 600) * rate / 1000)
            after_heard = float(np.sqrt(np.mean(heard[lo:hi, 1] ** 2)))
            after_unheard = float(np.sqrt(np.mean(unheard[lo:hi, 0] ** 2)))
            print(f"  cut turn {turn.index} at {cut} ms: rms heard {after_heard:.0f}, "
                  f"unheard {after_unheard:.0f}")
            assert after_heard < 50, "agent audio after the cut is in the heard recording"
            assert after_unheard > 500, "agent audio after the cut is missing from unheard"
        rebuilt = await rebuild(sealer.engine, sealer.keys, make_s3_client(settings),
                                settings.bucket_ledger, tenant, sim.session_id)
        assert rebuilt["heard"].pcm_sha256 == row.pcm_sha256
        assert rebuilt["unheard"].pcm_sha256 == urow.pcm_sha256
    finally:
        await sealer.close()


async def test_crash_mid_session_resumes_to_the_same_pcm(settings: Settings, tenant: str) -> None:
    # Recordings are FLAC (issue 13): half a simulated session no longer fills a 5 MiB part (S3's
    # minimum, enforced at completion), so the crash leaves an open upload with the renderer and
    # encoder state lost; the resumed upload must regenerate the same FLAC stream. That parts
    # stored before a crash are regenerated byte for byte whatever the write splits is
    # tests/unit/test_audio_pure.py::test_same_salt_same_parts (FLAC sink).
    settings = settings.model_copy(update={"audio_sample_rate": 48000})
    sealer, sim = await _sealed(settings, tenant, "openai")
    try:
        first = _recorder(settings, tenant)
        fed = await first.poll(sealer.engine, stop_after_rows=sim.events // 2)
        job = first.jobs[(tenant, sim.session_id)]
        stored = {k: len(s.parts) for k, s in job.kinds.items()}
        upload = job.kinds["heard"].upload_id
        print(f"crash after {fed} of {sim.events} events; parts stored {stored}")
        assert job.kinds["heard"].sink.pcm_bytes > 0
        # The process dies: no completion, no cleanup; its advisory locks go with the connection.
        assert first.locks.conn is not None
        await first.locks.conn.invalidate()
        second = _recorder(settings, tenant)
        try:
            while not second.completed:
                await second.poll(sealer.engine)
                if (tenant, sim.session_id) in second.jobs:
                    resumed = second.jobs[(tenant, sim.session_id)]
                    assert resumed.kinds["heard"].upload_id == upload  # resumed, not restarted
                    print(f"resumed: verified {resumed.verified} parts, uploaded "
                          f"{resumed.uploaded}")
        finally:
            await second.close()
        _, _, row = await _decoded(settings, sealer, tenant, sim.session_id, "heard")
        assert row.restarts == 0, "the upload was restarted instead of resumed"
        rebuilt = await rebuild(sealer.engine, sealer.keys, make_s3_client(settings),
                                settings.bucket_ledger, tenant, sim.session_id)
        assert rebuilt["heard"].pcm_sha256 == row.pcm_sha256
    finally:
        await sealer.close()


async def test_ended_session_reports_progress_before_its_completion(settings: Settings,
                                                                    tenant: str) -> None:
    # An ended session's progress (last_seq, what the bench's audio lag reads) is stored once its
    # entries are fed, before the flush and the completions (S3 round trips): a completion that
    # fails leaves the recording open but its progress already says every entry was fed.
    sealer, sim = await _sealed(settings, tenant, "openai")
    try:
        rec = _recorder(settings, tenant)

        def refuse(key: str, upload_id: str, parts: list[dict[str, Any]]) -> None:
            raise RuntimeError("completion refused")

        rec.uploads.complete = refuse  # type: ignore[method-assign]
        try:
            await rec.poll(sealer.engine)
        finally:
            await rec.close()
        assert not rec.completed
        async with sealer.engine.connect() as conn:
            rows = await store.load(conn, tenant, sim.session_id)
        assert {r.status for r in rows.values()} == {"recording"}
        assert {r.last_seq for r in rows.values()} == {sim.events - 1}
    finally:
        await sealer.close()
