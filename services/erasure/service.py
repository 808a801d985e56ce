"""Erasure requests as a lifecycle: request → cascade through every forgetter → residue scan →
``erasure.completed`` (or ``erasure.refused``), each step journaled in the tenant's ledger.

Crash-safe and idempotent: a request is claimed with a lease; each store's outcome is committed
as it finishes, so a worker killed mid-cascade is resumed by the next claim (after the lease
lapses) from the first store not ``done``; every forgetter is idempotent, so a store cut short
is simply run again. The closing journal event and the request's final state commit in one
transaction, so a request is never completed twice. A request whose stores keep failing stops
after :data:`MAX_ATTEMPTS` claims as ``failed`` (nothing is retried forever).

Errors: :class:`ErasureError` (bad input, unknown request); messages carry no PII.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import uuid_utils

from services.erasure import repository as repo
from services.erasure.deadline import due
from services.erasure.identifiers import Identifier, subject_digest
from services.erasure.registry import FORGETTERS
from services.erasure.scan import ScanInput, residue_scan
from services.ledger.journal import append_in
from services.platform.forget import (
    ForgetContext,
    ForgetError,
    ForgetScope,
    Forgetter,
    HoldChecker,
    NoHolds,
    StoreOutcome,
)
from services.platform.keys import decrypt, encrypt, new_dek, subject_index

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
COMPLAINT = ("You may lodge a complaint with a supervisory authority (GDPR Art. 77) and seek a "
             "judicial remedy (Art. 79).")


class ErasureError(Exception):
    """An erasure request that cannot be made or found."""


@dataclass
class Created:
    request_id: str
    status: str
    sessions: list[str]
    held: dict[str, str] = field(default_factory=dict)


def _aad(request_id: str) -> bytes:
    return f"voxledger/erasure/identifiers/{request_id}".encode()


def _key_session(request_id: str) -> str:
    return f"_erasure/{request_id}"


async def request_erasure(ctx: ForgetContext, tenant: str, identifiers: list[Identifier],
                          sessions: list[str], reason: str | None,
                          holds: HoldChecker | None = None, *, kind: str = "subject"
                          ) -> Created:
    if not identifiers and not sessions:
        raise ErasureError("give at least one --phone, --email, --customer-id or --session")
    holds = holds or NoHolds()
    pepper = ctx.keys.pepper(tenant)
    indexes = [(i.kind, subject_index(pepper, i.value)) for i in identifiers]
    async with ctx.engine.connect() as conn:
        found = set(await repo.sessions_by_index(conn, tenant, [h for _, h in indexes]))
        given = await repo.known_sessions(conn, tenant, sessions) if sessions else []
    missing = sorted(set(sessions) - set(given))
    if missing:
        raise ErasureError(f"tenant {tenant!r} has no session(s) {', '.join(missing[:5])}")
    chosen = sorted(found | set(given))
    held = await holds.held(ctx, tenant, tuple(chosen))
    rid = str(uuid_utils.uuid7())
    now = ctx.clock.now()
    key = new_dek()
    plain = json.dumps([[i.kind, i.value] for i in identifiers]).encode()
    digest = subject_digest(indexes, sorted(set(sessions)))
    erasable = [s for s in chosen if s not in held]
    async with ctx.engine.begin() as conn:
        await repo.insert_request(conn, {
            "request_id": rid, "tenant_id": tenant, "kind": kind, "status": "received",
            "subject_digest": digest, "sessions": erasable, "reason": reason,
            "identifiers": [{"kind": k, "hmac": h} for k, h in indexes],
            "identifiers_ct": encrypt(key, plain, _aad(rid)),
            "identifiers_key": ctx.keys.wrap_dek(tenant, key, _key_session(rid)),
            "received_at": now, "due_at": due(now), "attempts": 0, "updated_at": now})
        ref = await append_in(conn, ctx.settings, ctx.keys, tenant, "erasure.requested", {
            "request_id": rid, "kind": kind, "subject_digest": digest,
            "identifiers": [{"kind": k, "hmac": h} for k, h in indexes],
            "sessions": chosen, "due_at": due(now).isoformat()}, now=now)
        await repo.update_request(conn, rid, requested_position=ref.position)
        if held:
            matters = sorted(set(held.values()))
            text = (f"legal hold ({', '.join(matters)}) on {len(held)} session(s): erasure "
                    "refused under GDPR Art. 17(3)(e). " + COMPLAINT)
            await append_in(conn, ctx.settings, ctx.keys, tenant, "erasure.refused", {
                "request_id": rid, "reason": "legal_hold", "matters": matters,
                "sessions": sorted(held), "right_to_complain": COMPLAINT}, now=now)
            status = "refused" if not erasable else "received"
            await repo.update_request(conn, rid, refused_reason=text, status=status,
                                      **({"closed_at": now} if status == "refused" else {}))
            if status == "refused":
                await repo.close(conn, rid, status="refused")
            return Created(rid, status, erasable, held)
    return Created(rid, "received", erasable)


def _identifiers(ctx: ForgetContext, row: Any) -> list[Identifier]:
    if row.identifiers_ct is None or row.identifiers_key is None:
        return []
    key = ctx.keys.unwrap_dek(row.tenant_id, row.identifiers_key, _key_session(row.request_id))
    pairs = json.loads(decrypt(key, row.identifiers_ct, _aad(row.request_id)))
    return [Identifier(k, v) for k, v in pairs]


async def run_request(ctx: ForgetContext, request_id: str | None = None) -> str | None:
    """Claim one open request (this one, or any) and carry it out. Returns its id, or None."""
    now = ctx.clock.now()
    async with ctx.engine.begin() as conn:
        rid = await repo.claim(conn, now, ctx.settings.erasure_lease_s, request_id)
    if rid is None:
        return None
    async with ctx.engine.connect() as conn:
        row = await repo.get(conn, rid)
        done = {s.store for s in await repo.stores(conn, rid) if s.status == "done"}
    scope = ForgetScope(row.tenant_id, tuple(row.sessions), f"erasure:{rid}")
    failed = []
    forgetters: tuple[Forgetter, ...] = FORGETTERS
    if row.kind == "tenant":
        from services.erasure.tenant import TenantWideForgetter

        forgetters = (*FORGETTERS, TenantWideForgetter())
    for forgetter in forgetters:
        if forgetter.store in done:
            continue
        status, error = "done", None
        try:
            outcome = await forgetter.erase(ctx, scope)
        except ForgetError as exc:
            outcome, status, error = StoreOutcome(forgetter.store), "failed", str(exc)
        except Exception as exc:  # a store's client raised: record, carry on with the others
            outcome, status = StoreOutcome(forgetter.store), "failed"
            error = f"{type(exc).__name__} while erasing"
            # No traceback: SQL parameters could carry what is being erased (law 7).
            log.error("erasure %s: store %s failed (%s)", rid, forgetter.store,
                      type(exc).__name__)
        if status == "failed":
            failed.append(forgetter.store)
        async with ctx.engine.begin() as conn:
            await repo.set_store(conn, rid, outcome, status, error, ctx.clock.now())
            await repo.renew(conn, rid, ctx.clock.now()
                             + timedelta(seconds=ctx.settings.erasure_lease_s))
        if ctx.settings.erasure_store_pause_s:  # tests: a window to kill the worker in
            await asyncio.sleep(ctx.settings.erasure_store_pause_s)
    if failed:
        async with ctx.engine.begin() as conn:
            if row.attempts >= MAX_ATTEMPTS:
                await repo.close(conn, rid, status="failed", closed_at=ctx.clock.now())
            else:  # the lease lapses and a worker tries the failed stores again
                await repo.update_request(conn, rid, lease_until=ctx.clock.now()
                                          + timedelta(seconds=30))
        return rid
    residue = await residue_scan(ctx, ScanInput(row.tenant_id, list(row.sessions),
                                                _identifiers(ctx, row)))
    await _complete(ctx, rid, residue)
    if row.kind == "tenant":
        from services.erasure.tenant import shred_tenant

        outcome = await shred_tenant(ctx, row.tenant_id)
        async with ctx.engine.begin() as conn:
            await repo.set_store(conn, rid, outcome, "done", None, ctx.clock.now())
    return rid


async def _complete(ctx: ForgetContext, rid: str, residue: dict[str, Any]) -> None:
    now = ctx.clock.now()
    async with ctx.engine.begin() as conn:
        row = await repo.get(conn, rid)
        stores = {s.store: {"deleted": s.deleted, "shredded": s.shredded}
                  for s in await repo.stores(conn, rid)}
        ref = await append_in(conn, ctx.settings, ctx.keys, row.tenant_id, "erasure.completed", {
            "request_id": rid, "kind": row.kind, "subject_digest": row.subject_digest,
            "sessions": list(row.sessions), "stores": stores,
            "residue_total": residue.get("total", 0)}, now=now)
        await repo.close(conn, rid, status="completed", closed_at=now,
                         closed_position=ref.position, closed_event_id=ref.event_id,
                         residue=residue)


async def extend_request(ctx: ForgetContext, rid: str, months: int, reason: str) -> Any:
    from services.erasure.deadline import extend

    async with ctx.engine.begin() as conn:
        row = await repo.get(conn, rid)
        if row is None:
            raise ErasureError(f"no erasure request {rid!r}")
        new_due = extend(row.received_at, row.due_at, months, reason, ctx.clock.now())
        await repo.update_request(conn, rid, due_at=new_due, extension_reason=reason)
        await append_in(conn, ctx.settings, ctx.keys, row.tenant_id, "erasure.extended", {
            "request_id": rid, "due_at": new_due.isoformat(), "reason": reason})
        return new_due
