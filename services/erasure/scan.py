"""Residue scan: look in every store for what an erasure must have removed (zero expected).

- Postgres: each identifier in every normalised form in every text, JSON, tsvector and bytea
  column of every table (information_schema, so a new table is scanned without being listed
  here), restricted to the tenant where the table has a ``tenant_id`` column; every row keyed by
  an erased session in every table with a ``session_id`` column except the ledger's proof tables
  and the catalog (kept on purpose: hashes, positions and counts, no content); dead letters on
  the sessions' subjects;
- S3: every object or object version whose key names an erased session under the tenant in
  every bucket, and every object of the tenant's training exports whose bytes hold an
  identifier;
- NATS: messages on the sessions' subjects;
- the ledger: sessions whose data key still unwraps (their payloads would still decrypt).

Findings name tables, columns and object keys, never the values found.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text

from services.erasure.identifiers import Identifier
from services.ledger.forget import PROOF_TABLES
from services.platform.deadletter_forget import count_messages, nats_client, session_subject_prefix
from services.platform.forget import ForgetContext
from services.platform.s3_forget import list_keys, list_versions

# Rows kept by design, keyed by session id but holding no content or identifier: the proof
# tables, the audit of destroyed keys, and retention/hold bookkeeping (ids, classes, counts).
KEPT_ROWS = PROOF_TABLES | {"sessions", "erasure_requests", "erasure_stores",
                            "ledger_key_destructions", "retention_sessions",
                            "retention_run_items", "retention_disposals", "legal_holds",
                            "legal_hold_objects"}
_TEXTUAL = ("text", "character varying", "json", "jsonb", "tsvector", "bytea", "character")
BUCKET_FIELDS = ("bucket_ledger", "bucket_worm", "bucket_audio", "bucket_exports")


@dataclass
class ScanInput:
    tenant_id: str
    session_ids: list[str]
    identifiers: list[Identifier] = field(default_factory=list)


async def _columns(conn: Any) -> dict[str, list[tuple[str, str]]]:
    rows = await conn.execute(text(
        "SELECT table_name, column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position"))
    out: dict[str, list[tuple[str, str]]] = {}
    for table, column, dtype in rows:
        out.setdefault(table, []).append((column, dtype))
    return out


async def _scan_db(ctx: ForgetContext, inp: ScanInput, findings: list[str]) -> tuple[int, int]:
    forms = sorted({f for i in inp.identifiers for f in i.scan_forms()})
    hits = rows_left = 0
    async with ctx.engine.connect() as conn:
        tables = await _columns(conn)
        for table, cols in tables.items():
            names = {c for c, _ in cols}
            scoped = "tenant_id" in names
            where = "tenant_id = :t AND " if scoped else ""
            for column, dtype in cols:
                if dtype not in _TEXTUAL or not forms:
                    continue
                if dtype == "bytea":
                    cond = " OR ".join(f"position(convert_to(:f{i}, 'UTF8') in \"{column}\") > 0"
                                       for i in range(len(forms)))
                else:
                    cond = " OR ".join(f"strpos(lower(\"{column}\"::text), :f{i}) > 0"
                                       for i in range(len(forms)))
                params: dict[str, Any] = {"t": inp.tenant_id}
                params.update({f"f{i}": f.lower() for i, f in enumerate(forms)})
                n = (await conn.execute(text(
                    f'SELECT count(*) FROM "{table}" WHERE {where}({cond})'), params)).scalar()
                if n:
                    hits += int(n)
                    findings.append(f"postgres {table}.{column}: {n} row(s) hold an identifier")
            if "session_id" in names and table not in KEPT_ROWS and inp.session_ids:
                n = (await conn.execute(text(
                    f'SELECT count(*) FROM "{table}" WHERE {where}session_id = ANY(:s)'),
                    {"t": inp.tenant_id, "s": inp.session_ids})).scalar()
                if n:
                    rows_left += int(n)
                    findings.append(f"postgres {table}: {n} row(s) of erased sessions")
        if inp.session_ids:
            prefixes = [session_subject_prefix(ctx.settings.subject_prefix, inp.tenant_id, s)
                        for s in inp.session_ids]
            n = (await conn.execute(text(
                "SELECT count(*) FROM dead_letters WHERE EXISTS (SELECT 1 FROM "
                "unnest(CAST(:p AS text[])) AS p(x) WHERE starts_with(subject, p.x))"),
                {"p": prefixes})).scalar()
            if n:
                rows_left += int(n)
                findings.append(f"postgres dead_letters: {n} row(s) on erased sessions' subjects")
    return hits, rows_left


def _scan_bucket(client: Any, bucket: str, tenant: str, sessions: list[str],
                 forms: list[str]) -> tuple[int, list[str]]:
    found: list[str] = []
    tops = [p["Prefix"] for p in client.list_objects_v2(
        Bucket=bucket, Delimiter="/").get("CommonPrefixes", [])]
    marks = [f"/{s}/" for s in sessions]
    for top in tops:
        prefix = f"{top}{tenant}/"
        for key, _version in list_versions(client, bucket, prefix):
            if any(m in key[len(prefix) - 1:] for m in marks):
                found.append(key)
        if forms and top.startswith("training"):
            needles = [f.lower().encode() for f in forms]
            for key in list_keys(client, bucket, prefix):
                body = client.get_object(Bucket=bucket, Key=key)["Body"].read().lower()
                if any(n in body for n in needles):
                    found.append(key)
    return len(found), found


async def residue_scan(ctx: ForgetContext, inp: ScanInput) -> dict[str, Any]:
    findings: list[str] = []
    ident, rows = await _scan_db(ctx, inp, findings)
    forms = sorted({f for i in inp.identifiers for f in i.scan_forms()})
    objects = 0
    for name in BUCKET_FIELDS:
        bucket = getattr(ctx.settings, name)
        n, keys = await asyncio.to_thread(_scan_bucket, ctx.s3, bucket, inp.tenant_id,
                                          inp.session_ids, forms)
        objects += n
        findings.extend(f"s3 {bucket}/{k}" for k in keys[:20])
    messages = 0
    async with nats_client(ctx) as nc:
        for s in inp.session_ids:
            messages += await count_messages(
                nc, ctx.settings.stream_name,
                f"{ctx.settings.subject_prefix}.{inp.tenant_id}.{s}.>")
    if messages:
        findings.append(f"nats {ctx.settings.stream_name}: {messages} message(s)")
    decryptable = 0
    async with ctx.engine.connect() as conn:
        for session, wrapped in await conn.execute(text(
                "SELECT session_id, wrapped_dek FROM ledger_sessions WHERE tenant_id = :t AND "
                "session_id = ANY(:s) AND wrapped_dek IS NOT NULL"),
                {"t": inp.tenant_id, "s": inp.session_ids}):
            try:
                ctx.keys.unwrap_dek(inp.tenant_id, bytes(wrapped), session)
                decryptable += 1
                findings.append(f"ledger: session {session} still decrypts")
            except Exception:  # a key that no longer unwraps is shredded
                continue
    stores = {"postgres": {"identifiers": ident, "rows": rows}, "s3": {"objects": objects},
              "nats": {"messages": messages}, "ledger": {"decryptable_sessions": decryptable}}
    total = ident + rows + objects + messages + decryptable
    return {"total": total, "stores": stores, "identifiers_checked": len(inp.identifiers),
            "findings": findings[:100]}
