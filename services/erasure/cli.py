"""``voxledger erasure request|status|list|scan|extend|certificate|verify-certificate`` and
``voxledger tenants erase``.

Exit codes: 0 done, 1 failed/refused/invalid, 2 usage error. ``--json`` of ``request`` and
``status``: ``{"request_id", "status", "sessions", "stores": {store: {"deleted", "shredded"}},
"residue": {...}}``.
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Annotated, Any

import typer

from services.retention.holds import Holds

erasure_app = typer.Typer(no_args_is_help=True, help=(
    "Right to erasure (GDPR Art. 17): requests, status, residue scan, signed certificates."))
_TENANT = re.compile(r"[a-z0-9-]{1,63}")
TenantOpt = Annotated[str, typer.Option("--tenant", help="tenant id")]


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _settings() -> Any:
    from services.platform.settings import SettingsError, load_settings

    try:
        return load_settings()
    except SettingsError as exc:
        raise _fail(str(exc)) from None


async def _status(ctx: Any, rid: str) -> dict[str, Any]:
    from services.erasure.status import request_status

    async with ctx.engine.connect() as conn:
        info = await request_status(conn, rid, ctx.clock.now())
    if info is None:
        raise _fail(f"no erasure request {rid!r}", 1)
    return info


async def _wait_closed(ctx: Any, rid: str, timeout_s: float = 900.0) -> None:
    import time

    from services.erasure.service import run_request

    deadline = time.monotonic() + timeout_s
    while (await _status(ctx, rid))["status"] not in ("completed", "refused", "failed"):
        if time.monotonic() > deadline:
            raise _fail(f"request {rid} is still open after {timeout_s:.0f}s; see "
                        "`voxledger erasure status`", 1)
        await asyncio.sleep(1.0)
        await run_request(ctx, rid)  # takes it over once a dead worker's lease lapses


def _print_status(info: dict[str, Any]) -> None:
    typer.echo(f"request {info['request_id']} ({info['kind']}, tenant {info['tenant_id']}): "
               f"{info['status']}" + (" — OVERDUE" if info["overdue"] else ""))
    typer.echo(f"  due {info['due_at'][:19]}" + (f" (extended: {info['extension_reason']})"
                                                 if info["extension_reason"] else ""))
    typer.echo(f"  sessions: {len(info['sessions'])}")
    for store, s in info["stores"].items():
        typer.echo(f"  {store:<17} {s['status']:<7} deleted {s['deleted']:>6}  "
                   f"shredded {s['shredded']:>6}" + (f"  {s['error']}" if "error" in s else ""))
    if info["refused"]:
        typer.echo(f"  refused: {info['refused']}")
    if info["residue"]:
        typer.echo(f"  residue scan: {info['residue'].get('total')} finding(s)")
        for line in info["residue"].get("findings", [])[:20]:
            typer.echo(f"    {line}")


@erasure_app.command("request")
def request(
    tenant: TenantOpt,
    phone: Annotated[list[str] | None, typer.Option(
        "--phone", help="phone number in any common format (repeatable)")] = None,
    email: Annotated[list[str] | None, typer.Option("--email", help="email (repeatable)")] = None,
    customer_id: Annotated[list[str] | None, typer.Option(
        "--customer-id", help="customer id (repeatable)")] = None,
    session: Annotated[list[str] | None, typer.Option(
        "--session", help="session id (repeatable)")] = None,
    reason: Annotated[str | None, typer.Option(help="staff note (no personal data)")] = None,
    region: Annotated[str, typer.Option(help="region for phones without +country")] = "US",
    wait: Annotated[bool, typer.Option("--wait", help="carry it out now, in this process")
                    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable")] = False,
) -> None:
    """Record an erasure request for a person (found through the subject index) or sessions;
    the worker of `voxledger run` carries it out, or this command with --wait."""
    from services.erasure.context import forget_context
    from services.erasure.identifiers import MAX_IDENTIFIERS, IdentifierError, parse
    from services.erasure.service import ErasureError, request_erasure, run_request

    if not _TENANT.fullmatch(tenant):
        raise _fail("--tenant must match [a-z0-9-]{1,63}")
    try:
        ids = ([parse("phone_e164", p, region) for p in phone or []]
               + [parse("email", e) for e in email or []]
               + [parse("customer_id", c) for c in customer_id or []])
    except IdentifierError as exc:
        raise _fail(str(exc)) from None
    if len(ids) + len(session or []) > MAX_IDENTIFIERS:
        raise _fail(f"at most {MAX_IDENTIFIERS} identifiers and sessions per request")

    async def go() -> dict[str, Any]:
        async with forget_context(_settings()) as ctx:
            try:
                created = await request_erasure(ctx, tenant, ids, list(session or []), reason,
                                                Holds())
            except ErasureError as exc:
                raise _fail(str(exc), 1) from None
            if wait and created.status != "refused":
                await run_request(ctx, created.request_id)
                await _wait_closed(ctx, created.request_id)  # the worker may have claimed it
            return await _status(ctx, created.request_id)

    info = asyncio.run(go())
    if as_json:
        print(json.dumps(info))
    else:
        _print_status(info)
    if info["status"] in ("refused", "failed"):
        raise typer.Exit(1)


@erasure_app.command("status")
def status(
    request_id: Annotated[str, typer.Argument(help="request id")],
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable")] = False,
) -> None:
    """One request: status, sessions, per-store counts, residue, its Art. 12 deadline."""
    from services.erasure.context import forget_context

    async def go() -> dict[str, Any]:
        async with forget_context(_settings(), with_nats=False) as ctx:
            return await _status(ctx, request_id)

    info = asyncio.run(go())
    print(json.dumps(info)) if as_json else _print_status(info)


@erasure_app.command("list")
def list_(
    tenant: Annotated[str | None, typer.Option("--tenant", help="only this tenant")] = None,
    overdue_only: Annotated[bool, typer.Option("--overdue", help="only overdue ones")] = False,
    limit: Annotated[int, typer.Option(min=1, max=10000)] = 200,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable")] = False,
) -> None:
    """Requests, newest first, with their deadline and whether they are overdue."""
    from services.erasure.context import forget_context
    from services.erasure.status import list_statuses

    async def go() -> list[dict[str, Any]]:
        async with (forget_context(_settings(), with_nats=False) as ctx,
                    ctx.engine.connect() as conn):
            return await list_statuses(conn, tenant, limit, ctx.clock.now())

    rows = [r for r in asyncio.run(go()) if r["overdue"] or not overdue_only]
    if as_json:
        print(json.dumps({"requests": rows}))
        return
    for r in rows:
        typer.echo(f"{r['request_id']}  {r['tenant_id']:<16} {r['status']:<10} "
                   f"{r['sessions']:>4} sessions  due {r['due_at'][:10]}"
                   + ("  OVERDUE" if r["overdue"] else ""))


@erasure_app.command("extend")
def extend_(
    request_id: Annotated[str, typer.Argument(help="request id")],
    months: Annotated[int, typer.Option(min=1, max=2, help="1 or 2 further months")],
    reason: Annotated[str, typer.Option(help="why (recorded; Art. 12(3) requires it)")],
) -> None:
    """Extend the Art. 12 deadline (only before the first month ends, with a reason)."""
    from services.erasure.context import forget_context
    from services.erasure.deadline import DeadlineError
    from services.erasure.service import ErasureError, extend_request

    async def go() -> Any:
        async with forget_context(_settings(), with_nats=False) as ctx:
            return await extend_request(ctx, request_id, months, reason)

    try:
        typer.echo(f"due {asyncio.run(go()).isoformat()}")
    except (DeadlineError, ErasureError) as exc:
        raise _fail(str(exc), 1) from None


@erasure_app.command("scan")
def scan(
    request_id: Annotated[str, typer.Argument(help="request id")],
    phone: Annotated[list[str] | None, typer.Option("--phone", help="also look for")] = None,
    email: Annotated[list[str] | None, typer.Option("--email", help="also look for")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable")] = False,
) -> None:
    """Search every store for what the request must have removed (exit 1 when anything is
    found). Identifiers are not kept after a request closes: give them again to scan for them."""
    from services.erasure import repository as repo
    from services.erasure.context import forget_context
    from services.erasure.identifiers import parse
    from services.erasure.scan import ScanInput, residue_scan

    ids = [parse("phone_e164", p) for p in phone or []] + [parse("email", e) for e in email or []]

    async def go() -> dict[str, Any]:
        async with forget_context(_settings()) as ctx:
            async with ctx.engine.connect() as conn:
                row = await repo.get(conn, request_id)
            if row is None:
                raise _fail(f"no erasure request {request_id!r}", 1)
            return await residue_scan(ctx, ScanInput(row.tenant_id, list(row.sessions), ids))

    result = asyncio.run(go())
    if as_json:
        print(json.dumps(result))
    else:
        typer.echo(f"residue: {result['total']} finding(s)")
        for line in result["findings"]:
            typer.echo(f"  {line}")
    if result["total"]:
        raise typer.Exit(1)


@erasure_app.command("certificate")
def certificate(
    request_id: Annotated[str, typer.Argument(help="request id")],
    output: Annotated[Path, typer.Option("-o", "--output", help="file to write")],
    timeout: Annotated[float, typer.Option(help="seconds to wait for a checkpoint")] = 60.0,
) -> None:
    """Write the signed certificate of a completed request (waits for the sealer to sign a
    checkpoint covering its completion event)."""
    from services.erasure.context import forget_context
    from services.erasure.issue import IssueError, issue_certificate
    from services.ledger.journal import JournalError

    async def go() -> dict[str, Any]:
        async with forget_context(_settings(), with_nats=False) as ctx:
            return await issue_certificate(ctx, request_id, timeout)

    try:
        cert = asyncio.run(go())
    except (IssueError, JournalError) as exc:
        raise _fail(str(exc), 1) from None
    _write_private(output, json.dumps(cert, indent=2, sort_keys=True) + "\n")
    typer.echo(f"certificate written to {output}")


def _write_private(path: Path, body: str) -> None:
    import os

    tmp = path.with_name(f".{path.name}.partial")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(body)
    os.replace(tmp, path)


@erasure_app.command("verify-certificate")
def verify_certificate_(
    path: Annotated[Path, typer.Argument(help="certificate JSON")],
    public_key: Annotated[Path | None, typer.Option(
        "--public-key", help="the tenant's key (`voxledger keys public`), to pin the signer")
    ] = None,
) -> None:
    """Check the statement's signature and the completion event's inclusion proof against the
    signed checkpoint (exit 0 valid, 1 invalid)."""
    from services.erasure.certificate import CertificateError, load_public_key, verify_certificate

    try:
        cert = json.loads(path.read_bytes())
        key = load_public_key(public_key.read_text()) if public_key else None
        statement = verify_certificate(cert, key)
    except (CertificateError, ValueError, OSError) as exc:
        typer.echo(f"invalid: {exc}")
        raise typer.Exit(1) from None
    typer.echo(f"valid: request {statement['request_id']} (tenant {statement['tenant_id']}), "
               f"{len(statement['sessions'])} session(s), completion at ledger position "
               f"{statement['completion']['position']}")


def tenants_erase(
    tenant: Annotated[str, typer.Argument(help="tenant id")],
    confirm: Annotated[str, typer.Option("--confirm", help="the tenant id again")],
    output: Annotated[Path | None, typer.Option("-o", "--output", help="certificate file")
                      ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable")] = False,
) -> None:
    """Erase a whole tenant: every session through the forget path, its projections, and its
    key-encryption key (everything encrypted for it becomes unreadable; proofs stay)."""
    from services.erasure.context import forget_context
    from services.erasure.issue import issue_certificate
    from services.erasure.service import ErasureError, request_erasure, run_request
    from services.erasure.tenant import tenant_sessions

    if confirm != tenant or not _TENANT.fullmatch(tenant):
        raise _fail("--confirm must repeat the tenant id exactly")

    async def go() -> tuple[dict[str, Any], dict[str, Any] | None]:
        async with forget_context(_settings()) as ctx:
            sessions = await tenant_sessions(ctx, tenant)
            try:
                created = await request_erasure(ctx, tenant, [], sessions or [], "tenant erasure",
                                                Holds(), kind="tenant") if sessions else None
            except ErasureError as exc:
                raise _fail(str(exc), 1) from None
            if created is None:
                raise _fail(f"tenant {tenant!r} has no sessions", 1)
            if created.status != "refused":
                await run_request(ctx, created.request_id)
            info = await _status(ctx, created.request_id)
            cert = (await issue_certificate(ctx, created.request_id)
                    if output and info["status"] == "completed" else None)
            return info, cert

    info, cert = asyncio.run(go())
    if cert is not None and output is not None:
        _write_private(output, json.dumps(cert, indent=2, sort_keys=True) + "\n")
    print(json.dumps(info)) if as_json else _print_status(info)
    if info["status"] != "completed":
        raise typer.Exit(1)


def _erased_section(conn: Any, tenant: str, session: str) -> dict[str, Any] | None:
    from sqlalchemy import text

    row = conn.execute(text(
        "SELECT wrapped_dek IS NULL FROM ledger_sessions WHERE tenant_id = :t AND "
        "session_id = :s"), {"t": tenant, "s": session}).first()
    if row is None or not row[0]:
        return None
    req = conn.execute(text(
        "SELECT request_id, closed_at FROM erasure_requests WHERE tenant_id = :t AND "
        "sessions ? :s ORDER BY received_at DESC LIMIT 1"), {"t": tenant, "s": session}).first()
    return {"erased": True, "request_id": req[0] if req else None,
            "at": req[1].isoformat() if req and req[1] else None}


def keys_rewrap(
    tenant: Annotated[str | None, typer.Option("--tenant", help="only this tenant")] = None,
) -> None:
    """Re-wrap stored session keys under each tenant's own KEK with tenant+session binding (the
    upgrade path from keyrings made before per-tenant KEKs; safe to run again)."""
    from services.erasure.context import forget_context
    from services.ledger.rewrap import rewrap_all
    from services.platform.roles import owner_settings

    async def go() -> int:
        # As the owner: the key guard refuses a key's replacement to every other role.
        async with forget_context(owner_settings(_settings()), with_nats=False) as ctx:
            return await rewrap_all(ctx.engine, ctx.keys, tenant)

    typer.echo(f"re-wrapped {asyncio.run(go())} session key(s)")


def _group(app: typer.Typer, name: str, help_: str) -> typer.Typer:
    """Join a command group another capability may have made (``tenants``, ``keys``)."""
    group = next((g.typer_instance for g in app.registered_groups if g.name == name), None)
    if group is None:
        group = typer.Typer(no_args_is_help=True, help=help_)
        app.add_typer(group, name=name)
    return group


def register(app: typer.Typer) -> None:
    from services.ledger.sessions_cli import SECTIONS

    SECTIONS["erasure"] = _erased_section
    app.add_typer(erasure_app, name="erasure")
    # `tenants` is shared with the NATS-credentials issue (tenants add|list|disable).
    _group(app, "tenants", "Tenants: onboarding and offboarding.").command("erase")(tenants_erase)
    _group(app, "keys", "Ledger keys.").command("rewrap")(keys_rewrap)
