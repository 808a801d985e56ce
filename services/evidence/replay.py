"""``voxledger replay``: rebuild projections from the sealed ledger and compare (DESIGN law 3).

For each tenant and session the ledger's entries are decrypted into the envelopes every projection
reads through the ledger's read port (``services/ledger/reader.py``: position order, audio as
zeros of each recorded length), fed through the same pure code the live projections run, and the
result is compared row by row with what the live projection stored:

- ``catalog``: ``catalog._session_rows`` plus the same seq bookkeeping (``SeenSeqs``) → the
  ``sessions`` row;
- ``transcripts``: the builder's ``rebuild`` (one frame per seq, the first sealed winning; audio
  lengths come from the ledger's ``$audio`` references, so no audio byte needs to be read)
  → ``transcript_sessions``, ``transcript_turns``, ``tool_calls``;
- ``audio``: ``audio.rebuild`` (decrypts the raw segments, renders both recordings, PCM SHA-256)
  against the recorded hash, and the stored object's SHA-256 against the recorded one;
- ``redaction``: the worker's own ``redact`` over the *replayed* transcript turns and tool calls,
  under the tenant's policy, with the same per-session pseudonym key → ``redacted_turns`` and
  ``redacted_tool_calls`` (text, findings, detector) and the session's language and hold. A
  session is compared once the worker redacted its whole transcript; one not redacted yet, or
  redacted under another policy or by another detector version than this build's (``voxledger
  redact reprocess`` brings it up to date), is skipped and counted with its reason.

Rebuilt rows are compared in memory (no scratch tables needed: the builders are pure), with an
order-independent digest per projection and tenant (SHA-256 over the sorted row hashes), so two
runs over the same data give the same digests whatever order sessions were processed in.
Sessions whose key was destroyed (erased) are skipped on both sides and counted.
Errors: :class:`ReplayError` (nothing to replay); differences are results, not exceptions.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncEngine

from schemas.envelope import Envelope
from services.audio import store as audio_store
from services.audio.rebuild import rebuild as rebuild_audio
from services.ledger import reads
from services.ledger.catalog import _session_rows
from services.ledger.catalog_repo import catalog_rows
from services.ledger.catalog_seqs import SeenSeqs
from services.ledger.journal_ids import is_reserved_session
from services.ledger.reader import decode_entry, first_by_seq
from services.platform.keys import KeyProvider
from services.redaction import repository as redaction_repo
from services.redaction.engine import RedactionEngine
from services.redaction.policy import RedactionPolicy
from services.redaction.repository import SourceToolCall, SourceTurn
from services.redaction.worker import redact
from services.transcripts.consumer import rebuild as rebuild_transcript
from services.transcripts.repository import projection_rows

PROJECTIONS: Final = ("catalog", "transcripts", "audio", "redaction")
# Bookkeeping columns that say when a row was written, not what it holds.
_VOLATILE: Final = frozenset({"updated_at", "created_at", "frames_version", "tenant_id"})
_CATALOG: Final = ("provider", "started_at", "ended_at", "first_seen_at", "last_seen_at",
                   "events", "max_seq", "last_seq_declared", "end_reason", "seq_holes",
                   "kind_counts")


class ReplayError(Exception):
    """Nothing to replay (unknown tenant or projection)."""


@dataclass
class Difference:
    projection: str
    table: str
    session_id: str
    what: str

    def __str__(self) -> str:
        return f"{self.projection}: {self.table} of session {self.session_id}: {self.what}"


@dataclass
class ProjectionResult:
    rows: int = 0
    live: list[str] = field(default_factory=list)
    replayed: list[str] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)  # sessions not comparable, by reason

    def as_json(self) -> dict[str, Any]:
        live, replayed = _digest(self.live), _digest(self.replayed)
        return {"rows": self.rows, "digest_live": live, "digest_replayed": replayed,
                "identical": live == replayed, "skipped": dict(sorted(self.skipped.items()))}


@dataclass
class ReplayReport:
    tenants: list[str] = field(default_factory=list)
    sessions: int = 0
    erased: int = 0
    projections: dict[str, ProjectionResult] = field(default_factory=dict)
    differences: list[Difference] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differences and all(
            p.as_json()["identical"] for p in self.projections.values())

    def as_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "tenants": self.tenants, "sessions": self.sessions,
                "erased_sessions": self.erased,
                "projections": {k: v.as_json() for k, v in self.projections.items()},
                "differences": [vars(d) for d in self.differences]}


def _canon(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dict):
        return {str(k): _canon(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canon(v) for v in value]
    return value


def row_hash(table: str, row: dict[str, Any]) -> str:
    body = {k: _canon(v) for k, v in row.items() if k not in _VOLATILE}
    return hashlib.sha256(json.dumps([table, body], sort_keys=True, separators=(",", ":"),
                                     default=str).encode()).hexdigest()


def _digest(hashes: Iterable[str]) -> str:
    return hashlib.sha256("".join(sorted(hashes)).encode()).hexdigest()


def envelopes(rows: Iterable[Any], tenant: str, session: str, dek: bytes) -> list[Envelope]:
    """The envelopes as the projections read them through the ledger's read port (audio as
    zeros of each recorded length: every projection compared here depends on lengths only;
    ``audio`` reads the bytes)."""
    return [decode_entry(row, tenant, dek, "lengths", None, "voice").envelope for row in rows]


def catalog_row(envs: list[Envelope]) -> dict[str, Any]:
    """The ``sessions`` row the catalog consumer writes for these envelopes (same code path)."""
    sessions, events = _session_rows(envs)
    (key, row), = sessions.items()
    seen = SeenSeqs(-1, [])
    kinds: dict[str, int] = {}
    for seq, kind in events[key]:
        if seen.add(seq):
            kinds[kind] = kinds.get(kind, 0) + 1
    return {**{k: row[k] for k in _CATALOG if k in row}, "events": sum(kinds.values()),
            "max_seq": seen.max_seq, "seq_holes": seen.holes, "kind_counts": kinds}


def transcript_rows(tenant: str, session: str, envs: list[Envelope]
                    ) -> dict[str, list[dict[str, Any]]]:
    """The rows the transcript builder writes: frames kept by seq (first sealed wins)."""
    t = rebuild_transcript(envs)
    key = {"session_id": session}
    summary = {**key, **vars(t.summary), "frames": len(first_by_seq(envs))}
    return {"transcript_sessions": [summary],
            "transcript_turns": [{**key, **vars(r)} for r in t.turns],
            "tool_calls": [{**key, **vars(r)} for r in t.tool_calls]}


def _compare(report: ReplayReport, projection: str, session: str,
             live: dict[str, list[dict[str, Any]]], replayed: dict[str, list[dict[str, Any]]]
             ) -> None:
    result = report.projections[projection]
    for table in sorted(set(live) | set(replayed)):
        lh = sorted(row_hash(table, {k: v for k, v in r.items()}) for r in live.get(table, []))
        rh = sorted(row_hash(table, r) for r in replayed.get(table, []))
        result.rows += len(rh)
        result.live += lh
        result.replayed += rh
        if lh != rh:
            what = (f"{len(lh)} live row(s), {len(rh)} replayed" if len(lh) != len(rh)
                    else f"{sum(a != b for a, b in zip(lh, rh, strict=True))} row(s) differ")
            report.differences.append(Difference(projection, table, session, what))


async def replay(engine: AsyncEngine, keys: KeyProvider, s3: Any, bucket_ledger: str,
                 bucket_audio: str, *, tenant: str | None = None,
                 projections: Iterable[str] = PROJECTIONS,
                 progress: Callable[[str], None] = lambda _m: None,
                 redactor: RedactionEngine | None = None) -> ReplayReport:
    """``redactor``: the redaction engine (its NLP model loaded), needed for ``redaction``."""
    wanted = tuple(projections)
    if unknown := [p for p in wanted if p not in PROJECTIONS]:
        raise ReplayError(f"unknown projection(s) {unknown}; choose from {list(PROJECTIONS)}")
    if "redaction" in wanted and redactor is None:
        raise ReplayError("replaying redaction needs the redaction engine")
    report = ReplayReport(projections={p: ProjectionResult() for p in wanted})
    async with engine.connect() as conn:
        report.tenants = await reads.tenants(conn, tenant)
    if tenant is not None and not report.tenants:
        raise ReplayError(f"tenant {tenant!r} has no ledger")
    for t in report.tenants:
        await _replay_tenant(engine, keys, s3, bucket_ledger, bucket_audio, t, wanted, report,
                             progress, redactor)
    return report


async def _replay_tenant(engine: AsyncEngine, keys: KeyProvider, s3: Any, bucket_ledger: str,
                         bucket_audio: str, tenant: str, wanted: tuple[str, ...],
                         report: ReplayReport, progress: Callable[[str], None],
                         redactor: RedactionEngine | None) -> None:
    async with engine.connect() as conn:
        sessions = [s for s in await reads.sessions(conn, tenant)
                    if not is_reserved_session(s.session_id)]
        live_catalog = ({r["session_id"]: r for r in await catalog_rows(conn, tenant)}
                        if "catalog" in wanted else {})
        policy = (await redaction_repo.current_policy(conn, tenant)
                  if "redaction" in wanted else None)
    for n, srow in enumerate(sessions, start=1):
        session = srow.session_id
        report.sessions += 1
        if srow.wrapped_dek is None:
            report.erased += 1
            live_catalog.pop(session, None)
            continue
        dek = await asyncio.to_thread(keys.unwrap_dek, tenant, srow.wrapped_dek, session)
        async with engine.connect() as conn:
            envs = envelopes(await reads.session_entries(conn, tenant, session), tenant,
                             session, dek)
            live_t = (await projection_rows(conn, tenant, session)
                      if "transcripts" in wanted else {})
            recorded = (await audio_store.load(conn, tenant, session)
                        if "audio" in wanted else {})
            live_r = (await redaction_repo.live_redaction(conn, tenant, session)
                      if "redaction" in wanted else None)
        if "catalog" in wanted:
            live = live_catalog.pop(session, None)
            _compare(report, "catalog", session,
                     {"sessions": [{k: live[k] for k in _CATALOG}] if live else []},
                     {"sessions": [catalog_row(envs)]})
        replayed_t = (transcript_rows(tenant, session, envs)
                      if {"transcripts", "redaction"} & set(wanted) else {})
        if "transcripts" in wanted:
            _compare(report, "transcripts", session, live_t, replayed_t)
        if "redaction" in wanted:
            assert redactor is not None and policy is not None
            await _replay_redaction(redactor, keys, tenant, session, policy, live_r, replayed_t,
                                    report)
        if "audio" in wanted:
            await _replay_audio(engine, keys, s3, bucket_ledger, bucket_audio, tenant, session,
                                recorded, report)
        if n % 25 == 0 or n == len(sessions):
            progress(f"{tenant}: {n}/{len(sessions)} sessions replayed")
    for session in sorted(live_catalog):  # catalog rows the ledger has no session for
        _compare(report, "catalog", session, {"sessions": [live_catalog[session]]}, {})


async def _replay_redaction(redactor: RedactionEngine, keys: KeyProvider, tenant: str,
                            session: str, policy: RedactionPolicy,
                            live: redaction_repo.LiveRedaction | None,
                            transcript: dict[str, list[dict[str, Any]]],
                            report: ReplayReport) -> None:
    result = report.projections["redaction"]
    frames = transcript["transcript_sessions"][0]["frames"]
    why = None
    if live is None or live.policy_hash is None:
        why = "not redacted yet"
    elif live.source_frames != frames:
        why = "transcript grew since its redaction (redaction pending)"
    elif live.policy_hash != policy.policy_hash:
        why = "redacted under another policy (voxledger redact reprocess)"
    elif any(t["detector_version"] != redactor.detector_version for t in live.turns):
        why = "redacted by another detector version (voxledger redact reprocess)"
    if why is not None:
        result.skipped[why] = result.skipped.get(why, 0) + 1
        return
    assert live is not None
    turns = [SourceTurn(**{f: r[f] for f in SourceTurn.__slots__})
             for r in transcript["transcript_turns"]]
    calls = [SourceToolCall(**{f: r[f] for f in SourceToolCall.__slots__})
             for r in transcript["tool_calls"]]
    redone = await redact(redactor, keys, tenant, session, policy, turns, calls)
    head = {"language": redone.language, "held": redone.held}
    _compare(report, "redaction", session,
             {**redaction_repo.comparable_rows(live.turns, live.tool_calls),
              "redaction_sessions": [{"language": live.language, "held": live.held}]},
             {**redaction_repo.comparable_rows(redone.turns, redone.tool_calls),
              "redaction_sessions": [head]})


async def _replay_audio(engine: AsyncEngine, keys: KeyProvider, s3: Any, bucket_ledger: str,
                        bucket_audio: str, tenant: str, session: str, recorded: dict[str, Any],
                        report: ReplayReport) -> None:
    # A recording still being made is compared once its session ended and it completed.
    recorded = {k: r for k, r in recorded.items() if r.status == "complete"}
    if not recorded:
        live: list[dict[str, Any]] = []
        rebuilt_rows: list[dict[str, Any]] = []
    else:
        rebuilt = await rebuild_audio(engine, keys, s3, bucket_ledger, tenant, session)
        live = [{"kind": k, "pcm_sha256": r.pcm_sha256} for k, r in recorded.items()]
        rebuilt_rows = [{"kind": k, "pcm_sha256": r.pcm_sha256} for k, r in rebuilt.items()
                        if k in recorded]
        for kind, rec in sorted(recorded.items()):
            if rec.sha256:
                stored = await asyncio.to_thread(_object_sha256, s3, bucket_audio, rec.object_key)
                if stored != rec.sha256:
                    report.differences.append(Difference(
                        "audio", "audio_recordings", session,
                        f"the stored {kind} recording object differs from its recorded SHA-256"))
    _compare(report, "audio", session, {"audio_recordings": live},
             {"audio_recordings": rebuilt_rows})


def _object_sha256(s3: Any, bucket: str, key: str) -> str | None:
    h = hashlib.sha256()
    try:
        blocks = audio_store.Uploads(s3, bucket).read(key)
        for block in blocks:
            h.update(block)
    except Exception:  # a missing object is a difference, reported by the caller
        return None
    return h.hexdigest()
