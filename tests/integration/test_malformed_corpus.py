"""Malformed input (law 9) on a private stack with every consumer live (``voxledger run``): the
corpus in tests/fixtures/malformed/ plus generated 10 MB and deeply nested frames, published raw
to a live session's subject and offered to the SDK. The pipeline never crashes; every bad frame
is dead-lettered once (whichever consumers refused it) with a reason that names the field and
never echoes the content, its payload encrypted, or refused at publish with a clear error; the
good frames of the same session are sealed, transcribed, recorded and verify. Then the same
classes through ``voxledger import`` (refused by line number before they take a seq), and a
session whose key is destroyed mid-call: its frames are dead-lettered as such, and retried with
``voxledger deadletters retry`` once the key is back, which completes the session."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import nats.errors
import psutil
import pytest
import pytest_asyncio
import uuid_utils
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from schemas.envelope import Direction, EnvelopeError, Provider
from services.bench.load import plan_session
from services.bench.private import PrivateStack, stop
from services.ledger.summary import ledger_summary
from services.platform.db import make_async_engine
from services.platform.nats import connect
from services.platform.roles import owner_settings
from services.platform.settings import Settings
from services.recorder import Recorder
from services.runner.progress import wait_caught_up
from services.simulator.providers import PROFILES
from services.simulator.run import started_for
from tests.conftest import REPO

pytestmark = [pytest.mark.integration, pytest.mark.faults]

CORPUS = REPO / "tests" / "fixtures" / "malformed"
CONSUMERS = ["sealer", "catalog", "audio", "transcripts", "redaction"]
# The reason each new case (issue 12) must be dead-lettered with: a field and an error code.
EXPECTED = {
    "seq-overflow": "seq: less_than_equal",
    "mono-overflow": "mono_ns: less_than_equal",
    "ended-last-seq-overflow": "payload: integer_out_of_range",
    "gap-seq-overflow": "payload: integer_out_of_range",
    "utc-overflow": "recorded_at: datetime_out_of_range",
    "utc-overflow-high": "recorded_at: datetime_out_of_range",
    "recorded-far-past": "recorded_at: too_far_in_past",
    "recorded-far-future": "recorded_at: too_far_in_future",
    "call-too-long": "mono_ns: exceeds_max_call_length",
    "nul-escaped-value": "payload: nul_character",
    "nul-escaped-key": "payload: nul_character",
    "nul-raw": "NUL bytes",
    "lone-surrogate": "json_invalid",
    "subject-mismatch": "subject_mismatch: tenant",
}
PEAK_RSS: dict[str, int] = {}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivateStack]:
    s = PrivateStack(tmp_path_factory.mktemp("malformed") / "vox")
    s.up()
    proc = s.run(s.home / "run.log")
    s.proc = proc  # type: ignore[attr-defined]
    yield s
    alive = proc.poll() is None
    children = psutil.Process(proc.pid).children(recursive=True) if alive else []
    stop(proc)
    if PEAK_RSS:
        print("\n[malformed] peak RSS per consumer process: " + ", ".join(
            f"{k} {v / 2**20:.0f} MiB" for k, v in sorted(PEAK_RSS.items())))
    del children
    s.down()
    assert alive, "voxledger run crashed: " + (s.home / "run.log").read_text()[-2000:]


@pytest_asyncio.fixture
async def engine(stack: PrivateStack) -> AsyncIterator[AsyncEngine]:
    e = make_async_engine(stack.settings())
    yield e
    await e.dispose()


def corpus(tenant: str, session: str) -> dict[str, bytes]:
    now = datetime.now(UTC).isoformat().encode()
    cases = {p.stem: p.read_bytes().replace(b"{tenant}", tenant.encode())
             .replace(b"{session}", session.encode()).replace(b"{now}", now)
             .replace(b"{event_id}", str(uuid_utils.uuid7()).encode())
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
            # Within the longest call (8 h) but far off the timeline: sealed as received; the
            # audio renderer leaves it off the recording and reports it instead of rendering
            # seven hours of silence.
            rec.record(Direction.SERVER, {"type": "response.output_audio.delta",
                                          "item_id": "item_far", "response_id": "resp_far",
                                          "output_index": 0, "content_index": 0,
                                          "delta": "AAAA" * 600}, at_ns=7 * 3600 * 10**9)
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
        rows = list(await conn.execute(text(
            "SELECT stream_seq, reason, consumers, tenant_id, raw_ct, raw_dek FROM dead_letters "
            "WHERE stream_seq = ANY(:s)"), {"s": list(bad_seqs.values())}))
        assert len(rows) == len({r.stream_seq for r in rows}), "more than one copy of an event"
        letters = {int(r.stream_seq): r for r in rows}
        for name, seq in bad_seqs.items():
            assert seq in letters, f"{name}: not dead-lettered"
            row = letters[seq]
            # Only the sealer reads the raw stream; a frame it refused never reaches the ledger,
            # so no projection sees it.
            assert row.consumers == ["sealer"], (name, row.consumers)
            assert row.reason and "DROP" not in row.reason and "passwd" not in row.reason, \
                (name, row.reason)
            if name in EXPECTED:
                assert EXPECTED[name] in row.reason, (name, row.reason)
            assert row.tenant_id == tenant, (name, row.tenant_id)
            assert row.raw_ct is not None and row.raw_dek is not None
            assert tenant.encode() not in row.raw_ct and b"openai" not in row.raw_ct, \
                f"{name}: payload stored in the clear"
        for name in ("non-json", "truncated", "deeply-nested", *EXPECTED):
            print(f"  {name}: {letters[bad_seqs[name]].reason[:100]}")
        turns = (await conn.execute(text(
            "SELECT count(*) FROM transcript_turns WHERE tenant_id = :t AND session_id = :s"),
            {"t": tenant, "s": session})).scalar_one()
        assert turns > 0, "the good frames were not transcribed"
        audio_letters = (await conn.execute(text(
            "SELECT count(*) FROM dead_letters WHERE consumer = 'sealer' AND reason LIKE "
            "'sealed without audio extraction%' AND tenant_id = :t"), {"t": tenant})
        ).scalar_one()
        assert audio_letters == 1, "the invalid base64 audio frame was not reported"
        gaps = (await conn.execute(text(
            "SELECT gaps FROM audio_recordings WHERE tenant_id = :t AND session_id = :s "
            "AND kind = 'heard'"), {"t": tenant, "s": session})).scalar_one()
        assert any(str(g.get("reason", "")).startswith("implausible_timestamp")
                   for g in gaps), gaps
    verify = stack.vox("verify", "--tenant", tenant, "--json", check=False)
    assert verify.returncode == 0, verify.stdout[-1500:] + verify.stderr[-1500:]
    listed = json.loads(stack.vox("deadletters", "list", "--tenant", tenant, "--json").stdout)
    assert {r["stream_seq"] for r in listed["dead_letters"]} >= set(bad_seqs.values())
    assert all("payload" not in r for r in listed["dead_letters"])
    record_peak_rss(stack)
    print(f"\n[malformed] {len(bad_seqs)} bad frames dead-lettered once each, {good} good frames "
          f"sealed, transcribed, recorded and verified")


def record_peak_rss(stack: PrivateStack) -> None:
    """Peak resident memory (VmHWM) of each ``voxledger run`` process so far."""
    root = psutil.Process(stack.proc.pid)  # type: ignore[attr-defined]
    for proc in [root, *root.children(recursive=True)]:
        try:
            status = Path(f"/proc/{proc.pid}/status").read_text()
            cmd = proc.cmdline()
        except (OSError, psutil.Error):
            continue
        hwm = next(int(line.split()[1]) * 1024 for line in status.splitlines()
                   if line.startswith("VmHWM:"))
        only = [cmd[i + 1] for i, a in enumerate(cmd[:-1]) if a == "--only"]
        name = "+".join(only) or "supervisor"
        PEAK_RSS[name] = max(PEAK_RSS.get(name, 0), hwm)


async def _sealed(engine: AsyncEngine, tenant: str, session: str) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(text(
            "SELECT count(*) FROM ledger_entries WHERE tenant_id = :t AND session_id = :s"),
            {"t": tenant, "s": session})).scalar_one())


async def _until(predicate: object, what: str, timeout: float = 240) -> None:
    for _ in range(int(timeout)):
        if await predicate():  # type: ignore[operator]
            return
        await asyncio.sleep(1)
    raise AssertionError(f"not reached: {what}")


# A destroyed (NULL) key is an erased session: its late events are discarded, never kept even as
# encrypted dead letters (issue 14's choice; tests/integration/test_ledger_erased_events.py).
# A key that no longer unwraps is dead-lettered as session_key_destroyed and retried after repair.
@pytest.mark.parametrize("damage", ["corrupted"])
async def test_frames_of_a_session_whose_key_is_gone_are_dead_lettered_then_retried(
        stack: PrivateStack, engine: AsyncEngine, damage: str) -> None:
    """Erasure does not exist yet: the test destroys (NULL) or corrupts the wrapped DEK row the
    way it would leave it, mid-call. The sealer dead-letters that session's frames as
    ``session_key_destroyed`` and seals every other session; after the key is put back,
    ``deadletters retry`` re-publishes them and the session completes gapless and verifies."""
    settings = stack.settings()
    tenant = "k-" + secrets.token_hex(4)
    recorder = await Recorder.connect(settings, tenant)
    bystander = recorder.session("bystander", Provider.OPENAI_REALTIME)
    try:
        rec = recorder.session("keyed", Provider.OPENAI_REALTIME)
        async with rec:
            for i in range(3):
                await rec.server({"type": "response.done", "n": i})
            await recorder.flush(timeout=30)
            await _until(lambda: _wait_count(engine, tenant, "keyed", 4), "first frames sealed")
            # Simulating the damage takes the insider's rights (owner, triggers off): the
            # pipeline's role can no longer touch a key (issue 12's append-only ledger).
            insider = make_async_engine(owner_settings(stack.settings()))
            async with insider.begin() as conn:
                await conn.execute(text("SET LOCAL session_replication_role = replica"))
                original = (await conn.execute(text(
                    "SELECT wrapped_dek FROM ledger_sessions WHERE tenant_id = :t AND "
                    "session_id = 'keyed'"), {"t": tenant})).scalar_one()
                await conn.execute(text(
                    "UPDATE ledger_sessions SET wrapped_dek = :w WHERE tenant_id = :t AND "
                    "session_id = 'keyed'"),
                    {"t": tenant, "w": None if damage == "destroyed" else secrets.token_bytes(61)})
            for i in range(3, 6):
                await rec.server({"type": "response.done", "n": i})
            async with bystander:  # another session of the tenant, in the same batches
                await bystander.server({"type": "response.done"})
            await recorder.flush(timeout=30)

            async def refused() -> bool:
                async with engine.connect() as conn:
                    return int((await conn.execute(text(
                        "SELECT count(*) FROM dead_letters WHERE tenant_id = :t AND session_id "
                        "= 'keyed' AND reason = 'session_key_destroyed'"), {"t": tenant})
                    ).scalar_one()) == 3

            await _until(refused, "frames of the keyless session dead-lettered")
            await _until(lambda: _wait_count(engine, tenant, "bystander", 3), "bystander sealed")
            assert await _sealed(engine, tenant, "keyed") == 4
            async with insider.begin() as conn:
                await conn.execute(text("SET LOCAL session_replication_role = replica"))
                await conn.execute(text(
                    "UPDATE ledger_sessions SET wrapped_dek = :w WHERE tenant_id = :t AND "
                    "session_id = 'keyed'"), {"t": tenant, "w": original})
            await insider.dispose()
            listed = json.loads(stack.vox("deadletters", "list", "--tenant", tenant,
                                          "--json").stdout)["dead_letters"]
            ids = [str(r["id"]) for r in listed if r["reason"] == "session_key_destroyed"]
            shown = json.loads(stack.vox("deadletters", "show", ids[0], "--json").stdout)
            assert "payload" not in shown and shown["session_id"] == "keyed"
            with_payload = json.loads(stack.vox("deadletters", "show", ids[0], "--payload",
                                                "--json").stdout)
            assert json.loads(with_payload["payload"])["session_id"] == "keyed"
            retried = json.loads(stack.vox("deadletters", "retry", *ids, "--json").stdout)
            assert sorted(map(str, retried["retried"])) == sorted(ids)
            await _until(lambda: _wait_count(engine, tenant, "keyed", 7), "retried frames sealed")
        await recorder.flush(timeout=30)
    finally:
        await recorder.close()
    await _until(lambda: _wait_count(engine, tenant, "keyed", 8), "session end sealed")
    async with engine.connect() as conn:
        summary = await ledger_summary(conn, tenant, "keyed")
        assert summary["gaps"] == [] and summary["ended"], summary
        letters = (await conn.execute(text(
            "SELECT consumer, status, reason FROM dead_letters WHERE tenant_id = :t"),
            {"t": tenant})).all()
        # Every frame the sealer refused was retried. A projection that read the session's
        # sealed entries while its key was damaged refused them too, with the ledger's reason
        # (whether one did depends on when it was woken): its letters stay open for an
        # operator, and say why.
        assert {status for consumer, status, _ in letters if consumer == "sealer"} == {"retried"}
        others = [(consumer, status, reason) for consumer, status, reason in letters
                  if consumer != "sealer"]
        assert all(reason.startswith("unreadable: ") for _, _, reason in others), others
    verify = stack.vox("verify", "--tenant", tenant, "--json", check=False)
    assert verify.returncode == 0, verify.stdout[-1500:] + verify.stderr[-1500:]
    record_peak_rss(stack)


async def _wait_count(engine: AsyncEngine, tenant: str, session: str, n: int) -> bool:
    return await _sealed(engine, tenant, session) >= n


async def test_import_refuses_each_bad_line_by_number_and_the_next_session_seals(
        stack: PrivateStack, engine: AsyncEngine, tmp_path: Path) -> None:
    """The same classes through ``voxledger import``: every bad line is reported by number with
    the contract's reason (never its content) before it takes a seq, so the imported session
    stays gapless; the file is read line by line (an 3 MiB line is skipped unread)."""
    tenant = "i-" + secrets.token_hex(4)
    t0 = "2026-11-30T10:00:00+00:00"
    ok = {"type": "response.done", "response": {"status": "completed"}}
    lines: list[bytes] = []
    expected: dict[int, str] = {}

    def line(obj: object, reason: str | None = None, raw: bytes | None = None) -> None:
        lines.append(raw if raw is not None else json.dumps(obj).encode())
        if reason:
            expected[len(lines)] = reason

    line({"direction": "server", "recorded_at": t0, "frame": ok})
    line(None, "not_json", raw=b"{not json")
    line(None, "too_large", raw=b'{"type": "x", "pad": "' + b"A" * (3 << 20) + b'"}')
    line(None, "not_recordable:nul_character", raw=b'{"type": "x", "t": "a\\u0000b"}')
    line(None, "not_recordable:nul_character", raw=b'{"type": "x", "k\\u0000": 1}')
    line({"type": "session.ended", "last_seq": 2**63}, "not_recordable:integer_out_of_range")
    line({"direction": "server", "recorded_at": "0001-01-01T00:00:00+05:00", "frame": ok})
    line({"direction": "server", "recorded_at": 1e300, "frame": ok}, "invalid_recorded_at")
    line({"direction": "server", "recorded_at": "2026-12-01T10:00:00+00:00", "frame": ok},
         "exceeds_max_call_length")
    line({"direction": "sideways", "frame": ok}, "invalid_direction")
    line([1, 2], "not_an_object")
    line(None, None, raw=b"\xff\xfe not utf-8")  # replaced, then not JSON
    expected[len(lines)] = "not_json"
    line({"direction": "server", "recorded_at": "2026-11-30T10:00:01+00:00", "frame": ok})
    path = tmp_path / "hostile.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    out = stack.vox("import", "--provider", "openai-realtime", "--tenant", tenant, "--session",
                    "imported", str(path), "--json")
    result = json.loads(out.stdout)
    got = {e["line"]: e["reason"] for e in result["errors"]}
    for number, reason in expected.items():
        assert got.get(number) == reason, (number, reason, got)
    assert "AAAA" not in out.stdout + out.stderr
    good = stack.vox("import", "--provider", "openai-realtime", "--tenant", tenant, "--session",
                     "after", str(path), "--json")
    assert json.loads(good.stdout)["events"] == result["events"]

    async def complete() -> bool:
        async with engine.connect() as conn:
            a = await ledger_summary(conn, tenant, "imported")
            b = await ledger_summary(conn, tenant, "after")
        return all(s["ended"] and s["gaps"] == [] for s in (a, b))

    await _until(complete, "imported sessions sealed completely")
    verify = stack.vox("verify", "--tenant", tenant, "--json", check=False)
    assert verify.returncode == 0, verify.stdout[-1500:] + verify.stderr[-1500:]
    record_peak_rss(stack)
    print(f"\n[malformed] import: {len(expected)} bad lines refused by number, "
          f"{result['events']} events sealed; " + ", ".join(
              f"{k} {v / 2**20:.0f} MiB" for k, v in sorted(PEAK_RSS.items())))
