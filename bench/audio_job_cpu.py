"""The audio recorder's work per ledger entry, offline and repeatable (a measurement, not a test).

    .venv/bin/python bench/audio_job_cpu.py dump --tenant T --out /tmp/audio-job.pkl
    .venv/bin/python bench/audio_job_cpu.py hashes /tmp/audio-job.pkl [--batch 20]
    .venv/bin/python bench/audio_job_cpu.py run /tmp/audio-job.pkl --entries 2500 [--batch 20]

``dump`` (needs the stack) copies a sealed tenant (``bench/projection_cpu.py seal``) to a file
(0600: it holds each session's data key) with each session's ledger rows, and the raw-audio
batch objects. ``hashes`` then feeds every
session through :class:`~services.audio.job.SessionJob` (``--batch`` entries per ``process``,
fixed salts, uploads kept in memory) and prints the PCM, object, part and Rendered-block hashes:
they must not change when the recorder is optimised. ``run`` feeds the first ``--entries`` of
one session and nothing else, for callgrind, which counts instructions whatever else the
machine runs; the difference of two lengths is the cost per entry without the start-up:

    for n in 500 2500; do PYTHONHASHSEED=0 OPENBLAS_NUM_THREADS=1 valgrind --tool=callgrind \\
      --callgrind-out-file=/tmp/cg-$n.out .venv/bin/python bench/audio_job_cpu.py run \\
      /tmp/audio-job.pkl --entries $n; done   # (Ir(2500) - Ir(500)) / 2000
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import io
import json
import pickle
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from services.audio.job import SessionJob
from services.audio.recording import Part
from services.audio.render import HEARD, UNHEARD, Rendered
from services.audio.source import BatchObjects, SegmentReader
from services.audio.store import object_key
from services.platform.secretfile import write_secret

COLS = ("seq", "position", "event_id", "mono_ns", "provider", "direction", "type", "payload_ct")


async def dump(tenant: str, out: str) -> None:
    from sqlalchemy import text

    from services.audio.source import entries_after, session_row
    from services.platform.db import make_async_engine
    from services.platform.keys import key_provider
    from services.platform.s3 import make_s3_client
    from services.platform.settings import load_settings

    settings = load_settings()
    engine, keys, s3 = make_async_engine(settings), key_provider(settings), make_s3_client(settings)
    sessions: dict[str, tuple[bytes, list[tuple[Any, ...]]]] = {}
    try:
        async with engine.connect() as conn:
            ids = (await conn.execute(text("SELECT session_id FROM ledger_sessions WHERE "
                                           "tenant_id = :t"), {"t": tenant})).scalars().all()
            for s in ids:
                srow = await session_row(conn, tenant, s)
                rows = await entries_after(conn, tenant, s, -1, 1 << 30)
                sessions[s] = (keys.unwrap_dek(tenant, srow.wrapped_dek, s),
                               [tuple(getattr(r, c) for c in COLS) for r in rows])
            keys_ = (await conn.execute(text(
                "SELECT DISTINCT object_key FROM ledger_audio_segments WHERE tenant_id = :t "
                "AND object_key IS NOT NULL"), {"t": tenant})).scalars().all()
    finally:
        await engine.dispose()
    objects = {k: s3.get_object(Bucket=settings.bucket_ledger, Key=k)["Body"].read()
               for k in keys_}
    # It holds the sessions' unwrapped data keys: born 0600, like every secret file.
    write_secret(Path(out), pickle.dumps({"tenant": tenant, "sessions": sessions,
                                          "objects": objects}))
    print(f"{len(sessions)} sessions, {sum(len(r) for _, r in sessions.values())} entries, "
          f"{len(objects)} batch objects -> {out}")


class Bucket:
    """The batch objects as an S3 client's get_object sees them."""

    def __init__(self, objects: dict[str, bytes]) -> None:
        self.objects = objects

    def get_object(self, Bucket: str, Key: str, Range: str | None = None) -> dict[str, Any]:
        body = self.objects[Key]
        if Range is not None:
            lo, hi = map(int, Range.removeprefix("bytes=").split("-"))
            body = body[lo:hi + 1]
        return {"Body": io.BytesIO(body)}


class Uploads:
    def __init__(self) -> None:
        self.bodies: dict[str, list[bytes]] = {}

    def put(self, key: str, upload_id: str, part: Part) -> dict[str, Any]:
        self.bodies.setdefault(key, []).append(part.body)
        return {"n": part.number, "etag": part.etag, "md5": part.md5}

    def complete(self, key: str, upload_id: str, parts: list[dict[str, Any]]) -> None:
        return None


def job_for(d: dict[str, Any], session: str, uploads: Uploads, objects: BatchObjects
            ) -> tuple[SessionJob, list[Any]]:
    tenant, (dek, rows) = d["tenant"], d["sessions"][session]
    segments = SegmentReader(Bucket(d["objects"]), "ledger", tenant, session, dek,
                             objects=objects)
    states = {k: (object_key(tenant, session, k), "upload", b"s" * 16, [])
              for k in (HEARD, UNHEARD)}
    job = SessionJob(tenant, session, dek, 16000, segments, uploads, states)
    return job, [SimpleNamespace(**dict(zip(COLS, r, strict=True))) for r in rows]


def hashes(d: dict[str, Any], batch: int) -> dict[str, Any]:
    objects = BatchObjects(Bucket(d["objects"]), "ledger")
    blocks = hashlib.sha256()
    out: dict[str, Any] = {}
    for session in sorted(d["sessions"]):
        uploads = Uploads()
        job, rows = job_for(d, session, uploads, objects)
        write = job._write

        def logged(rendered: Rendered, job: SessionJob = job, write: Any = write) -> None:
            # Every block in order, with the entry it came after: the same decisions, not only
            # the same samples.
            blocks.update(f"{job.session} {job.last_seq} {len(rendered.heard)} "
                          f"{len(rendered.unheard)};".encode() + rendered.heard + rendered.unheard)
            write(rendered)

        job._write = logged  # type: ignore[method-assign]
        for i in range(0, len(rows), batch):
            job.process(rows[i:i + batch])
        for kind, v in job.finish().items():
            body = b"".join(uploads.bodies.get(object_key(d["tenant"], session, kind), []))
            out[f"{session}/{kind}"] = {
                "pcm_sha256": v["pcm_sha256"], "object_sha256": v["sha256"],
                "stored_sha256": hashlib.sha256(body).hexdigest(), "bytes": v["object_bytes"],
                "duration_ms": v["duration_ms"], "parts": [p["md5"] for p in v["parts"]],
                "gaps": v["gaps"], "last_seq": v["last_seq"]}
    out["rendered_blocks_sha256"] = blocks.hexdigest()
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("dump")
    p.add_argument("--tenant", required=True)
    p.add_argument("--out", required=True)
    for name in ("hashes", "run"):
        p = sub.add_parser(name)
        p.add_argument("file")
        p.add_argument("--batch", type=int, default=20)
        p.add_argument("--entries", type=int, default=2500)
        p.add_argument("--session", type=int, default=0, help="index in sorted session ids")
    a = ap.parse_args()
    if a.cmd == "dump":
        asyncio.run(dump(a.tenant, a.out))
        return
    d = pickle.loads(Path(a.file).read_bytes())
    if a.cmd == "hashes":
        print(json.dumps(hashes(d, a.batch), indent=1, sort_keys=True))
        return
    job, rows = job_for(d, sorted(d["sessions"])[a.session], Uploads(),
                        BatchObjects(Bucket(d["objects"]), "ledger"))
    rows = rows[:a.entries]
    for i in range(0, len(rows), a.batch):
        job.process(rows[i:i + a.batch])
    print(f"{len(rows)} entries, last seq {job.last_seq}")


if __name__ == "__main__":
    main()
