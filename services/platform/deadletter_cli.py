"""``voxledger deadletters list | show | retry``: what the pipeline refused, and replaying it.

``show`` prints the reason and the metadata; the payload (decrypted with the tenant's key) only
with ``--payload``. ``retry`` re-publishes the original bytes to their subject after a fix (a
new release, a corrected key) and marks the row retried; a frame that fails again becomes a new
dead letter with its new stream sequence.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

deadletters_app = typer.Typer(help="Inspect and retry dead letters (frames the pipeline refused).",
                              no_args_is_help=True)
out = Console()


def _settings() -> Any:
    from services.platform.settings import load_settings

    return load_settings()


def _rows(settings: Any, ids: list[int] | None, tenant: str | None, status: str | None,
          limit: int) -> list[Any]:
    from services.platform.db import make_engine
    from services.platform.deadletter import DeadLetter, select_letters

    q = select_letters(tenant, status, limit)
    if ids is not None:
        q = q.where(DeadLetter.id.in_(ids))
    engine = make_engine(settings)
    try:
        with engine.connect() as conn:
            return list(conn.execute(q))
    finally:
        engine.dispose()


def _fail(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)
    raise typer.Exit(2)


@deadletters_app.command("list")
def list_(
    tenant: Annotated[str | None, typer.Option(help="only this tenant")] = None,
    status: Annotated[str | None, typer.Option(help="open or retried")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10000)] = 200,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable")] = False,
) -> None:
    """Dead letters, newest first: id, reason, tenant, session, consumers, status."""
    from services.platform.deadletter import summary

    rows = [summary(r) for r in _rows(_settings(), None, tenant, status, limit)]
    if as_json:
        print(json.dumps({"dead_letters": rows}))
        return
    table = Table("id", "received", "tenant", "session", "reason", "consumers", "status")
    for r in rows:
        table.add_row(str(r["id"]), r["received_at"][:19], r["tenant_id"] or "-",
                      r["session_id"] or "-", r["reason"][:60], ",".join(r["consumers"]),
                      r["status"])
    out.print(table)


@deadletters_app.command("show")
def show(
    letter_id: Annotated[int, typer.Argument(help="dead letter id (from `deadletters list`)")],
    tenant: Annotated[str | None, typer.Option(help="only if it belongs to this tenant")] = None,
    payload: Annotated[bool, typer.Option("--payload", help="also print the decrypted payload "
                                                            "(may hold personal data)")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable")] = False,
) -> None:
    """One dead letter: reason and metadata; the payload only with --payload."""
    from services.platform.deadletter import DeadLetterError, decrypt_raw, summary
    from services.platform.keys import LocalKeyProvider

    settings = _settings()
    rows = _rows(settings, [letter_id], tenant, None, 1)
    if not rows:
        _fail(f"no dead letter {letter_id}" + (f" for tenant {tenant}" if tenant else "")
              + "; see `voxledger deadletters list`")
    info = summary(rows[0])
    if payload:
        try:
            raw = decrypt_raw(rows[0], LocalKeyProvider.from_file(settings.keyring_path))
        except DeadLetterError as exc:
            _fail(str(exc))
        info["payload"] = raw.decode("utf-8", errors="replace")
    if as_json:
        print(json.dumps(info))
        return
    for key, value in info.items():
        out.print(f"[bold]{key}[/]: {value}", highlight=False, markup=key != "payload")


@deadletters_app.command("retry")
def retry(
    ids: Annotated[list[int] | None, typer.Argument(help="dead letter ids")] = None,
    all_open: Annotated[bool, typer.Option("--all", help="every open dead letter")] = False,
    tenant: Annotated[str | None, typer.Option(help="only this tenant's")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable")] = False,
) -> None:
    """Re-publish the original bytes to their subject and mark the rows retried."""
    if not ids and not all_open:
        _fail("name dead letter ids, or --all (with --tenant to narrow it)")
    settings = _settings()
    rows = _rows(settings, ids or None, tenant, "open" if all_open and not ids else None, 10000)
    if ids and len(rows) != len(set(ids)):
        missing = sorted(set(ids) - {r.id for r in rows})
        _fail(f"no dead letter(s) {missing}" + (f" for tenant {tenant}" if tenant else ""))
    done, skipped = asyncio.run(_republish(settings, rows))
    result = {"retried": done, "skipped": skipped}
    if as_json:
        print(json.dumps(result))
    else:
        out.print(f"retried {len(done)} dead letter(s)"
                  + (f"; skipped {len(skipped)} without a readable payload" if skipped else ""))
    if skipped:
        raise typer.Exit(1)


async def _republish(settings: Any, rows: list[Any]) -> tuple[list[int], list[dict[str, Any]]]:
    from services.platform.db import make_async_engine
    from services.platform.deadletter import DeadLetterError, decrypt_raw, mark_retried
    from services.platform.keys import LocalKeyProvider
    from services.platform.nats import connect

    keys = LocalKeyProvider.from_file(settings.keyring_path)
    nc = await connect(settings, name="voxledger-deadletters")
    engine = make_async_engine(settings)
    done: list[int] = []
    skipped: list[dict[str, Any]] = []
    try:
        js = nc.jetstream()
        for row in rows:
            try:
                raw = decrypt_raw(row, keys)
            except DeadLetterError as exc:
                skipped.append({"id": row.id, "reason": str(exc)})
                continue
            # No Nats-Msg-Id: within the duplicate window JetStream would drop the retry as the
            # original; consumers dedupe on event_id anyway.
            await js.publish(row.subject, raw)
            async with engine.begin() as conn:
                await conn.execute(mark_retried([row.id]))
            done.append(row.id)
    finally:
        await nc.close()
        await engine.dispose()
    return done, skipped


def register(app: typer.Typer) -> None:
    app.add_typer(deadletters_app, name="deadletters")
