"""``voxledger retention set|show|run`` and ``voxledger hold place|release|list``.

Exit codes: 0 done, 1 a run left failed items, 2 bad input or nothing to act on, 3 another run
of the tenant is in progress.
"""

from __future__ import annotations

import asyncio
import getpass
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, time
from typing import Annotated, Any, TypeVar

import typer

retention_app = typer.Typer(help="Retention policies per tenant and data class, and the "
                            "disposition job.", no_args_is_help=True)
hold_app = typer.Typer(help="Legal holds: they beat retention and erasure until released.",
                       no_args_is_help=True)

T = TypeVar("T")
ActorOpt = Annotated[str | None, typer.Option(
    "--actor", help="who makes the change (default: the OS user)")]


def _actor(actor: str | None) -> str:
    if actor:
        return actor
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers): say so rather than guess
        raise _fail("cannot tell who you are; pass --actor") from None


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _run(make: Callable[[Any], Awaitable[T]]) -> T:
    from services.platform.settings import load_settings
    from services.retention.context import forget_context

    async def go() -> T:
        async with forget_context(load_settings()) as ctx:
            return await make(ctx)

    return asyncio.run(go())


@retention_app.command("set")
def set_cmd(
    tenant: Annotated[str, typer.Option("--tenant", help="tenant id")],
    data_class: Annotated[str, typer.Option("--class", help="raw_events, recordings, "
                          "transcripts, redacted_transcripts, training_exports, dead_letters, "
                          "access_log")],
    days: Annotated[int | None, typer.Option("--days", help="keep this many days")] = None,
    forever: Annotated[bool, typer.Option("--forever", help="keep forever")] = False,
    retention_class: Annotated[str, typer.Option(
        "--retention-class", help="only sessions whose session.started names this retention "
        "class (default: the tenant's own policy)")] = "",
    actor: ActorOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable")] = False,
) -> None:
    """Set how long one data class is kept for a tenant; sealed as retention.policy_changed."""
    from services.retention.policy import PolicyError, set_policy

    if (days is None) == (not forever):
        raise _fail("give exactly one of --days N or --forever")
    try:
        body = _run(lambda ctx: set_policy(
            ctx.engine, ctx.settings, ctx.keys, tenant=tenant, data_class=data_class,
            days=None if forever else days, actor=_actor(actor), now=ctx.clock.now(),
            retention_class=retention_class))
    except PolicyError as exc:
        raise _fail(str(exc)) from None
    if as_json:
        typer.echo(json.dumps(body))
        return
    scope = f" (retention class {retention_class})" if retention_class else ""
    typer.echo(f"{tenant}: {data_class}{scope} {_days(body['old_days'])} → {_days(body['new_days'])}"
               f" (journal position {body['journal_position']})")


@retention_app.command("show")
def show_cmd(
    tenant: Annotated[str | None, typer.Option("--tenant", help="one tenant (default: all)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable")] = False,
) -> None:
    """Show the effective period of every data class (tenant policy, named classes, defaults)."""
    from services.ledger import reads
    from services.retention.policy import load, tenants_with_policies

    async def go(ctx: Any) -> list[dict[str, Any]]:
        async with ctx.engine.connect() as conn:
            names = [tenant] if tenant else sorted(
                set(await reads.tenants(conn)) | set(await tenants_with_policies(conn)))
            out = []
            for t in names:
                pol = await load(conn, ctx.settings, t)
                out.append({**pol.as_json(), "warnings": pol.alignment_warnings(
                    ctx.settings.stream_max_age_days)})
            return out

    result = _run(go)
    if as_json:
        typer.echo(json.dumps({"tenants": result}))
        return
    for pol in result:
        typer.echo(f"{pol['tenant']}:")
        for c, v in pol["classes"].items():
            days = "forever" if v["days"] is None else f"{v['days']} d"
            typer.echo(f"  {c:<22} {days:<10} ({v['source']})")
        for rc, m in pol["retention_classes"].items():
            for c, v in m.items():
                days = "forever" if v["days"] is None else f"{v['days']} d"
                typer.echo(f"  {c:<22} {days:<10} (retention class {rc})")
        for w in pol["warnings"]:
            typer.echo(f"  warning: {w}", err=True)


def _days(days: int | None) -> str:
    return "forever" if days is None else f"{days} d"


def _as_of(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise _fail(f"--as-of {value!r} is not a date (YYYY-MM-DD or ISO 8601)") from None
    if len(value) == 10:  # a date: the end of that day, so "as of" includes the whole day
        return datetime.combine(parsed.date(), time(23, 59, 59), UTC)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


@retention_app.command("run")
def run_cmd(
    tenant: Annotated[str | None, typer.Option("--tenant", help="one tenant (default: all)")] = None,
    dry: Annotated[bool, typer.Option("--dry-run", help="list what would be disposed; change "
                                      "nothing")] = False,
    as_of: Annotated[str | None, typer.Option(
        "--as-of", help="with --dry-run: what would be due on this date (YYYY-MM-DD = end of "
        "that day, UTC)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object per tenant")] = False,
) -> None:
    """Dispose of every (session, data class) whose period has passed, except what is held."""
    from services.retention.context import NoRegistry, forgetters
    from services.retention.holds import Holds
    from services.retention.job import RetentionBusy, dry_run, run
    from services.retention.policy import tenants_to_run

    when = _as_of(as_of)
    if when is not None and not dry:
        raise _fail("--as-of needs --dry-run (a real run disposes as of now)")
    try:
        registry = forgetters()
    except NoRegistry as exc:
        raise _fail(str(exc), 1) from None

    async def go(ctx: Any) -> list[dict[str, Any]]:
        async with ctx.engine.connect() as conn:
            names = [tenant] if tenant else await tenants_to_run(conn, ctx.settings)
        out = []
        for t in names:
            report = (await dry_run(ctx, t, registry, Holds(), when or ctx.clock.now()) if dry
                      else await run(ctx, t, registry, Holds()))
            out.append(report.as_json())
        return out

    try:
        reports = _run(go)
    except RetentionBusy as exc:
        raise _fail(str(exc), 3) from None
    for rep in reports:
        if as_json:
            typer.echo(json.dumps(rep))
            continue
        verb = "would dispose" if dry else "disposed"
        typer.echo(f"{rep['tenant']} as of {rep['as_of'][:19]}{' (dry run)' if dry else ''}:")
        for c, n in rep["classes"].items():
            if n["due"]:
                done = n["due"] - n["held"] if dry else n["disposed"]
                typer.echo(f"  {c:<22} due {n['due']:>5}  {verb} {done:>5}  held {n['held']:>4}"
                           f"  failed {n['failed']:>4}")
        for w in rep["warnings"]:
            typer.echo(f"  warning: {w}", err=True)
    if any(n["failed"] for rep in reports for n in rep["classes"].values()):
        raise typer.Exit(1)


def _target(session: str | None, phone: str | None, email: str | None, customer_id: str | None,
            all_: bool) -> Any:
    from services.retention.holds import Target

    given = [x for x in (session, phone, email, customer_id) if x is not None] + \
        (["all"] if all_ else [])
    if len(given) != 1:
        raise _fail("give exactly one of --session, --phone, --email, --customer-id, --all")
    if session is not None:
        return Target("session", session_id=session)
    if all_:
        return Target("tenant")
    kind, value = next((k, v) for k, v in (("phone_e164", phone), ("email", email),
                                          ("customer_id", customer_id)) if v is not None)
    return Target("subject", subject_kind=kind, subject_value=value)


@hold_app.command("place")
def place_cmd(
    tenant: Annotated[str, typer.Option("--tenant", help="tenant id")],
    matter: Annotated[str, typer.Option("--matter", help="the legal matter (no personal data)")],
    reason: Annotated[str, typer.Option("--reason", help="why (recorded in the ledger)")],
    session: Annotated[str | None, typer.Option("--session", help="hold one session")] = None,
    phone: Annotated[str | None, typer.Option("--phone", help="hold a caller's sessions "
                                              "(E.164), including later ones")] = None,
    email: Annotated[str | None, typer.Option("--email", help="hold a subject by email")] = None,
    customer_id: Annotated[str | None, typer.Option("--customer-id",
                                                    help="hold a subject by customer id")] = None,
    all_: Annotated[bool, typer.Option("--all", help="hold every session of the tenant, "
                                       "including later ones")] = False,
    actor: ActorOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable")] = False,
) -> None:
    """Place a legal hold: retention skips, erasure refuses, S3 objects get a legal hold."""
    from services.retention import actions
    from services.retention.holds import HoldError

    target = _target(session, phone, email, customer_id, all_)
    try:
        hold = _run(lambda ctx: actions.place(ctx, tenant, target, matter, reason,
                                              _actor(actor)))
    except HoldError as exc:
        raise _fail(str(exc)) from None
    if as_json:
        typer.echo(json.dumps(hold))
        return
    typer.echo(f"hold {hold['hold_id']} placed on {target.describe()} for matter "
               f"{hold['matter']}: {hold['sessions']} session(s) now, "
               f"{hold['objects_locked']} S3 object version(s) locked")
    for w in hold["warnings"]:
        typer.echo(f"warning: {w}", err=True)


@hold_app.command("release")
def release_cmd(
    hold_id: Annotated[str, typer.Argument(help="the hold id (`voxledger hold list`)")],
    reason: Annotated[str, typer.Option("--reason", help="why (recorded in the ledger)")],
    actor: ActorOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable")] = False,
) -> None:
    """Release a hold; S3 legal holds come off objects no other hold covers."""
    from services.retention import actions
    from services.retention.holds import HoldError

    try:
        hold = _run(lambda ctx: actions.release(ctx, hold_id, reason, _actor(actor)))
    except HoldError as exc:
        raise _fail(str(exc)) from None
    if as_json:
        typer.echo(json.dumps(hold))
        return
    typer.echo(f"hold {hold_id} released ({hold['matter']}); {hold['objects_unlocked']} S3 "
               "object version(s) unlocked")


@hold_app.command("list")
def list_cmd(
    tenant: Annotated[str | None, typer.Option("--tenant", help="one tenant (default: all)")] = None,
    active: Annotated[bool, typer.Option("--active", help="only holds not released")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable")] = False,
) -> None:
    """List holds: who placed them, when, matter, reason, release."""
    from services.retention.holds import list_holds

    async def go(ctx: Any) -> list[dict[str, Any]]:
        async with ctx.engine.connect() as conn:
            return await list_holds(conn, tenant, active)

    holds = _run(go)
    if as_json:
        typer.echo(json.dumps({"holds": holds}))
        return
    if not holds:
        typer.echo("no holds")
    for h in holds:
        what = h["session_id"] or (f"subject {h['subject_kind']}" if h["scope"] == "subject"
                                   else "all sessions")
        state = "active" if h["active"] else f"released {h['released_at'][:10]}"
        typer.echo(f"{h['hold_id']}  {h['tenant']}  {what}  matter={h['matter']}  {state}  "
                   f"placed {h['placed_at'][:10]} by {h['placed_by']}")


def register(app: typer.Typer) -> None:
    app.add_typer(retention_app, name="retention")
    app.add_typer(hold_app, name="hold")
