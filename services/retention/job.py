"""The disposition job: dispose each due (session, class) through the forget registry.

One real run, per tenant, under a Postgres advisory lock (two runs of a tenant never interleave):

1. cache new sessions' retention classes (classes.py) and bring S3 legal holds up to date;
2. finish any run a crash left unfinished (its pending items, then its journal event);
3. plan: due pairs (plan.py); held ones are recorded ``held`` with their matter;
4. dispose pending items class by class, a batch of sessions at a time: holds are checked again
   right before each batch (a hold placed mid-run wins), every forgetter whose ``classes``
   contain the class is called, then one transaction marks the items done and records the
   disposals. A crash before that commit redoes the batch (forgetters are idempotent); after it,
   nothing is redone. ``retention_disposals`` has one row per pair, so nothing is disposed twice;
5. one transaction seals ``retention.disposed`` (counts, session ids, held matters; no PII) and
   marks the run done, so a crash never journals a run twice.

A dry run does steps 1 (the class cache only) and 3 as of any date and changes nothing else.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from sqlalchemy import insert, text
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.ledger.journal import append_in
from services.platform.forget import (
    DataClass,
    ForgetContext,
    ForgetError,
    ForgetScope,
    Forgetter,
    HoldChecker,
    StoreOutcome,
)
from services.retention import classes, plan
from services.retention.actions import sync_locks
from services.retention.bounds import DATA_CLASSES
from services.retention.holds import guard
from services.retention.models import RetentionDisposal, RetentionRun, RetentionRunItem
from services.retention.policy import load as load_policies

BATCH: Final = 20
JOURNAL_PART_BYTES: Final = 48 * 1024


class RetentionBusy(Exception):
    """Another disposition run holds this tenant's lock."""


@dataclass
class Report:
    tenant: str
    as_of: datetime
    dry_run: bool
    run_ids: list[str] = field(default_factory=list)
    items: list[plan.Item] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        counts = {c: {"due": 0, "disposed": 0, "held": 0, "failed": 0} for c in DATA_CLASSES}
        for i in self.items:
            c = counts[i.data_class]
            c["due"] += 1
            if i.status in ("disposed", "held", "failed"):
                c[i.status] += 1
        return {"tenant": self.tenant, "as_of": self.as_of.isoformat(), "dry_run": self.dry_run,
                "run_ids": self.run_ids, "classes": counts,
                "sessions": [i.as_json() for i in self.items], "warnings": self.warnings}


def _covered(forgetters: Sequence[Forgetter]) -> set[str]:
    return {str(c) for f in forgetters for c in f.classes}


async def dry_run(ctx: ForgetContext, tenant: str, forgetters: Sequence[Forgetter],
                  holds: HoldChecker, as_of: datetime) -> Report:
    report = Report(tenant, as_of, True)
    await classes.sync(ctx, tenant)
    async with ctx.engine.connect() as conn:
        policies = await load_policies(conn, ctx.settings, tenant)
        wanted = _wanted(policies, forgetters, report, ctx.settings.stream_max_age_days)
        report.items = await plan.due(conn, tenant, as_of, policies, wanted)
    held = await _held(ctx, holds, tenant, report.items)
    for i in report.items:
        if i.session_id in held:
            i.status, i.matter = "held", held[i.session_id]
    return report


def _wanted(policies: Any, forgetters: Sequence[Forgetter], report: Report,
            stream_max_age_days: float) -> tuple[str, ...]:
    report.warnings += policies.alignment_warnings(stream_max_age_days)
    covered = _covered(forgetters)
    out = []
    for dc in DATA_CLASSES:
        if dc not in covered:
            report.warnings.append(f"no forgetter covers data class {dc}: not disposed")
            continue
        out.append(dc)
    return tuple(out)


async def _held(ctx: ForgetContext, holds: HoldChecker, tenant: str,
                items: list[plan.Item]) -> dict[str, str]:
    ids = tuple(sorted({i.session_id for i in items}))
    return await holds.held(ctx, tenant, ids) if ids else {}


async def run(ctx: ForgetContext, tenant: str, forgetters: Sequence[Forgetter],
              holds: HoldChecker, *, batch: int = BATCH) -> Report:
    report = Report(tenant, ctx.clock.now(), False)
    async with ctx.engine.connect() as lock_conn:
        got = (await lock_conn.execute(text("SELECT pg_try_advisory_lock(hashtext(:k))"),
                                       {"k": f"voxledger-retention:{tenant}"})).scalar()
        await lock_conn.commit()
        if not got:
            raise RetentionBusy(f"another retention run for tenant {tenant} is in progress")
        try:
            await _run_locked(ctx, tenant, forgetters, holds, batch, report)
        finally:
            await lock_conn.execute(text("SELECT pg_advisory_unlock(hashtext(:k))"),
                                    {"k": f"voxledger-retention:{tenant}"})
            await lock_conn.commit()
    return report


async def _run_locked(ctx: ForgetContext, tenant: str, forgetters: Sequence[Forgetter],
                      holds: HoldChecker, batch: int, report: Report) -> None:
    await classes.sync(ctx, tenant)
    report.warnings += (await sync_locks(ctx, tenant)).warnings
    async with ctx.engine.connect() as conn:
        unfinished = [str(r[0]) for r in await conn.execute(text(
            "SELECT run_id FROM retention_runs WHERE tenant_id = :t AND status = 'running' "
            "ORDER BY started_at"), {"t": tenant})]
    for run_id in unfinished:  # a crashed run: complete it first, as it was planned
        report.run_ids.append(run_id)
        await _process(ctx, tenant, run_id, forgetters, holds, batch)
        report.items += await _finish(ctx, tenant, run_id)
    async with ctx.engine.connect() as conn:
        policies = await load_policies(conn, ctx.settings, tenant)
        wanted = _wanted(policies, forgetters, report, ctx.settings.stream_max_age_days)
        items = await plan.due(conn, tenant, report.as_of, policies, wanted)
    if not items:
        return
    held = await _held(ctx, holds, tenant, items)
    run_id = str(uuid.uuid4())
    report.run_ids.append(run_id)
    async with ctx.engine.begin() as conn:
        await conn.execute(insert(RetentionRun).values(
            run_id=run_id, tenant_id=tenant, as_of=report.as_of, status="running",
            started_at=ctx.clock.now()))
        await conn.execute(insert(RetentionRunItem), [
            {"run_id": run_id, "session_id": i.session_id, "data_class": i.data_class,
             "status": "held" if i.session_id in held else "pending",
             "matter": held.get(i.session_id),
             "outcome": {"age_days": i.age_days, "retention_class": i.retention_class}}
            for i in items])
    await _process(ctx, tenant, run_id, forgetters, holds, batch)
    report.items += await _finish(ctx, tenant, run_id)


_PENDING = text("""
    SELECT session_id, data_class FROM retention_run_items
     WHERE run_id = :r AND status = 'pending'
     ORDER BY array_position(CAST(:order AS text[]), data_class::text), session_id LIMIT :n
""")
_MARK = text("""
    UPDATE retention_run_items SET status = :s, matter = :m,
           outcome = outcome || CAST(:o AS jsonb)
     WHERE run_id = :r AND session_id = :sid AND data_class = :dc
""")


async def _process(ctx: ForgetContext, tenant: str, run_id: str,
                   forgetters: Sequence[Forgetter], holds: HoldChecker, batch: int) -> None:
    while True:
        async with ctx.engine.connect() as conn:
            rows = (await conn.execute(_PENDING, {"r": run_id, "order": list(DATA_CLASSES),
                                                  "n": batch})).all()
        if not rows:
            return
        dc = str(rows[0][1])
        ids = tuple(str(r[0]) for r in rows if str(r[1]) == dc)
        async with guard(ctx, tenant):  # no hold can be placed between the check and the end
            await _batch(ctx, tenant, run_id, dc, ids, forgetters, holds)


async def _batch(ctx: ForgetContext, tenant: str, run_id: str, dc: str, ids: tuple[str, ...],
                 forgetters: Sequence[Forgetter], holds: HoldChecker) -> None:
    held = await holds.held(ctx, tenant, ids)
    todo = tuple(s for s in ids if s not in held)
    outcome, errors = await _dispose(ctx, tenant, todo, dc, forgetters) if todo else (
        StoreOutcome("retention"), [])
    now = ctx.clock.now()
    async with ctx.engine.begin() as conn:
        for sid, matter in held.items():
            await conn.execute(_MARK, {"s": "held", "m": matter, "o": "{}", "r": run_id,
                                       "sid": sid, "dc": dc})
        status = "failed" if errors else "done"
        detail = json.dumps({"errors": errors} if errors else
                            {"batch_deleted": outcome.deleted,
                             "batch_shredded": outcome.shredded})
        for sid in todo:
            await conn.execute(_MARK, {"s": status, "m": None, "o": detail, "r": run_id,
                                       "sid": sid, "dc": dc})
        if todo and not errors:
            await conn.execute(pg_insert(RetentionDisposal).values([
                {"tenant_id": tenant, "session_id": sid, "data_class": dc, "run_id": run_id,
                 "disposed_at": now} for sid in todo]).on_conflict_do_nothing())


async def _dispose(ctx: ForgetContext, tenant: str, ids: tuple[str, ...], dc: str,
                   forgetters: Sequence[Forgetter]) -> tuple[StoreOutcome, list[str]]:
    scope = ForgetScope(tenant, ids, f"retention:{dc}")
    total = StoreOutcome("retention")
    errors: list[str] = []
    for f in forgetters:
        if DataClass(dc) not in f.classes:
            continue
        try:
            total.add(await f.dispose(ctx, scope, DataClass(dc)))
        except ForgetError as exc:  # content-free by contract
            errors.append(f"{f.store}: {exc}")
        except Exception as exc:  # one store failing must not hide what the others did
            errors.append(f"{f.store}: {type(exc).__name__}")
    return total, errors


async def _finish(ctx: ForgetContext, tenant: str, run_id: str) -> list[plan.Item]:
    """Journal the run and mark it done in one transaction; returns its items."""
    async with ctx.engine.begin() as conn:
        run_row = (await conn.execute(text(
            "SELECT as_of FROM retention_runs WHERE run_id = :r FOR UPDATE"), {"r": run_id})).one()
        rows = (await conn.execute(text(
            "SELECT session_id, data_class, status, matter, outcome FROM retention_run_items "
            "WHERE run_id = :r"), {"r": run_id})).all()
        items = []
        for sid, dc, status, matter, outcome in rows:
            errors = outcome.get("errors") if isinstance(outcome, dict) else None
            items.append(plan.Item(str(sid), str(dc), str(outcome.get("retention_class", "")),
                                   int(outcome.get("age_days", 0)),
                                   "disposed" if status == "done" else str(status),
                                   matter, "; ".join(errors) if errors else None))
        items.sort(key=lambda i: (plan.class_order(i.data_class), i.session_id))
        position = None
        for body in journal_bodies(run_id, run_row[0], items):
            ref = await append_in(conn, ctx.settings, ctx.keys, tenant, "retention.disposed",
                                  body, now=ctx.clock.now())
            position = position if position is not None else ref.position
        await conn.execute(text(
            "UPDATE retention_runs SET status = 'done', finished_at = :f, journal_position = :p "
            "WHERE run_id = :r"), {"f": ctx.clock.now(), "p": position, "r": run_id})
    return items


def journal_bodies(run_id: str, as_of: datetime, items: list[plan.Item]) -> list[dict[str, Any]]:
    """``retention.disposed`` bodies: counts per class, session ids, held matters; split in parts
    under the journal's 64 KiB body limit (ids only, no PII)."""
    counts: dict[str, dict[str, int]] = {}
    entries: list[tuple[str, str, Any]] = []
    for i in items:
        c = counts.setdefault(i.data_class, {"disposed": 0, "held": 0, "failed": 0})
        if i.status in c:
            c[i.status] += 1
        if i.status == "disposed":
            entries.append((i.data_class, "disposed", i.session_id))
        elif i.status == "held":
            entries.append((i.data_class, "held", {"session_id": i.session_id,
                                                   "matter": i.matter}))
        elif i.status == "failed":
            entries.append((i.data_class, "failed", i.session_id))
    parts: list[list[tuple[str, str, Any]]] = [[]]
    size = 0
    for e in entries:
        n = len(json.dumps(e[2])) + 2
        if size + n > JOURNAL_PART_BYTES and parts[-1]:
            parts.append([])
            size = 0
        parts[-1].append(e)
        size += n
    bodies = []
    for k, part in enumerate(parts):
        body: dict[str, Any] = {"run_id": run_id, "as_of": as_of.isoformat(),
                                "part": k + 1, "parts": len(parts)}
        if k == 0:
            body["classes"] = counts
        lists: dict[str, dict[str, list[Any]]] = {}
        for dc, kind, value in part:
            lists.setdefault(kind, {}).setdefault(dc, []).append(value)
        body.update(lists)
        bodies.append(body)
    return bodies
