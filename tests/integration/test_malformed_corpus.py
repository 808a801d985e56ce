"""Malformed input (law 9) on a private stack with every consumer live (``voxledger run``): the
corpus in tests/fixtures/malformed/ plus generated 10 MB and deeply nested frames, published raw
to a live session's subject and offered to the SDK. The pipeline never crashes; every bad frame
is dead-lettered with a reason (that never echoes the content) or refused at publish with a clear
error; the good frames of the same session are sealed, transcribed, recorded and verify."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncIterator, Iterator

import nats.errors
import pytest
import pytest_asyncio
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from schemas.envelope import EnvelopeError, Provider
from services.bench.load import plan_session
from services.bench.private import PrivateStack, stop
from services.ledger.summary import ledger_summary
from services.platform.db import make_async_engine
from services.platform.nats import connect
from services.platform.settings import Settings
from services.recorder import Recorder
from services.runner.progress import wait_caught_up
from services.simulator.providers import PROFILES
from services.simulator.run import started_for
from tests.conftest import REPO

pytestmark = [pytest.mark.integration, pytest.mark.faults]

CORPUS = REPO / "tests" / "fixtures" / "malformed"
CONSUMERS = ["sealer", "catalog", "audio", "transcripts", "redaction"]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivateStack]:
    s = PrivateStack(tmp_path_factory.mktemp("malformed") / "vox")
    s.up()
    proc = s.run(s.home / "run.log")
    yield s
    alive = proc.poll() is None
    stop(proc)
    s.down()
    assert alive, "voxledger run crashed: " + (s.home / "run.log").read_text()[-2000:]


@pytest_asyncio.fixture
async def engine(stack: PrivateStack) -> AsyncIterator[AsyncEngine]:
    e = make_async_engine(stack.settings())
    yield e
    await e.dispose()


def corpus(tenant: str, session: str) -> dict[str, bytes]:
    cases = {p.stem: p.read_bytes().replace(b"{tenant}", tenant.encode())
             .replace(b"{session}", session.encode())
             for p in sorted(CORPUS.iterdir()) if p.suffix in (".json", ".bin")}
    deep: object = {"type": "response.done"}
    for _ in range(10_000):
        deep = {"a": deep}
    envelope = json.loads(cases["unknown-provider"])
    envelope.update(provider="openai-realtime", seq=900003, payload=None)
    text_ = json.dumps(envelope).replace("null", "{}")
    cases["deeply-nested"] = text_.replace("{}", "[" * 10_000 + "]" * 10_000).encode()
    return cases


async def test_malformed_frames_are_dead_lettered_and_the_session_carries_on(
        stack: PrivateStack, engine: AsyncEngine) -> None:
    settings: Settings = stack.settings()
    tenant, session = "m-" + secrets.token_hex(4), "good-0"
    plan = plan_session("bench:0", 6)
    recorder = await Recorder.connect(settings, tenant)
    nc = await connect(settings)
    js = nc.jetstream()
    subject = f"{settings.subject_prefix}.{tenant}.{session}.event"
    bad_seqs: dict[str, int] = {}
    try:
        rec = recorder.session(session, Provider.OPENAI_REALTIME,
                               started=started_for(PROFILES["openai"], plan.script))
        async with rec:
            half = len(plan.frames) // 2
            for frame in plan.frames[:half]:
                if frame.direction != "system":
                    await (rec.client if frame.direction == "client" else rec.server)(
                        frame.payload)
            await recorder.flush(timeout=30)
            for name, data in corpus(tenant, session).items():
                bad_seqs[name] = (await js.publish(subject, data)).seq
            # A session id that tries SQL or path traversal in the subject itself.
            for sid in ("x';DROP_TABLE_ledger_entries;--", "%2E%2E%2Fetc%2Fpasswd"):
                bad_seqs[f"subject {sid}"] = (await js.publish(
                    f"{settings.subject_prefix}.{tenant}.{sid}.event",
                    corpus(tenant, session)["unknown-provider"])).seq
            # Dots make empty subject tokens: NATS refuses the subject, nothing is stored.
            with pytest.raises(nats.errors.Error):
                await js.publish(f"{settings.subject_prefix}.{tenant}.../../etc.event", b"{}")
            # 10 MB: refused by NATS at publish, and by the SDK before it queues anything.
            with pytest.raises(nats.errors.MaxPayloadError):
                await js.publish(subject, b"{" + b" " * (10 << 20) + b"}")
            with pytest.raises(EnvelopeError, match=r"large|MiB|bytes"):
                await rec.server({"type": "response.output_audio.delta",
                                  "delta": "A" * (10 << 20)})
            # The SDK refuses ids that could reach a path or a query, with a clear error.
            for bad_id in ("../../etc/passwd", "x'; DROP TABLE ledger_entries; --"):
                with pytest.raises((EnvelopeError, ValueError)):
                    await recorder.session(bad_id, Provider.OPENAI_REALTIME).client({"type": "x"})
            # Valid envelopes with bad content: sealed as received, interpreted as far as possible.
            await rec.server({"type": "response.output_audio.delta", "item_id": "item_bad",
                              "response_id": "resp_bad", "output_index": 0, "content_index": 0,
                              "delta": "%%% not base64 %%%"})
            await rec.server({"type": "acme.unknown.event", "whatever": [1, 2, 3]})
            for frame in plan.frames[half:]:
                if frame.direction != "system":
                    await (rec.client if frame.direction == "client" else rec.server)(
                        frame.payload)
        good = rec.next_seq
        await recorder.flush(timeout=60)
    finally:
        await recorder.close()
        await nc.close()

    for _ in range(240):
        async with engine.connect() as conn:
            sealed = (await conn.execute(text(
                "SELECT count(*) FROM ledger_entries WHERE tenant_id = :t"), {"t": tenant})
            ).scalar_one()
            done = (await conn.execute(text(
                "SELECT count(*) FROM audio_recordings WHERE tenant_id = :t AND kind = 'heard' "
                "AND status = 'complete'"), {"t": tenant})).scalar_one()
        if sealed >= good and done >= 1 and await wait_caught_up(settings, CONSUMERS, 2):
            break
        await asyncio.sleep(1)
    async with engine.connect() as conn:
        summary = await ledger_summary(conn, tenant, session)
        assert summary["entries"] == good and summary["gaps"] == [] and summary["ended"], summary
        assert (await conn.execute(text(
            "SELECT count(DISTINCT session_id) FROM ledger_entries WHERE tenant_id = :t"),
            {"t": tenant})).scalar_one() == 1, "a malformed session id reached the ledger"
        letters = {(c, int(s)): (r, raw) for c, s, r, raw in await conn.execute(text(
            "SELECT consumer, stream_seq, reason, raw FROM dead_letters WHERE stream_seq = ANY(:s)"),
            {"s": list(bad_seqs.values())})}
        for name, seq in bad_seqs.items():
            for consumer in ("sealer", "catalog", "transcripts"):
                assert (consumer, seq) in letters, f"{name}: not dead-lettered by {consumer}"
                reason, _raw = letters[(consumer, seq)]
                assert reason and b"DROP" not in reason.encode() and "passwd" not in reason, \
                    (name, reason)
        for name in ("non-json", "truncated", "deeply-nested"):
            print(f"  {name}: {letters[('sealer', bad_seqs[name])][0][:100]}")
        turns = (await conn.execute(text(
            "SELECT count(*) FROM transcript_turns WHERE tenant_id = :t AND session_id = :s"),
            {"t": tenant, "s": session})).scalar_one()
        assert turns > 0, "the good frames were not transcribed"
        audio_letters = (await conn.execute(text(
            "SELECT count(*) FROM dead_letters WHERE consumer = 'sealer' AND reason LIKE "
            "'sealed without audio extraction%' AND raw LIKE :p"), {"p": f"%{tenant}%".encode()})
        ).scalar_one()
        assert audio_letters == 1, "the invalid base64 audio frame was not reported"
    verify = stack.vox("verify", "--tenant", tenant, "--json", check=False)
    assert verify.returncode == 0, verify.stdout[-1500:] + verify.stderr[-1500:]
    print(f"\n[malformed] {len(bad_seqs)} bad frames dead-lettered by every consumer that reads "
          f"them, {good} good frames sealed, transcribed and verified")
