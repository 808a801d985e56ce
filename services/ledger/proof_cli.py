"""``voxledger proof inclusion|consistency|check|check-*`` and ``voxledger keys public``.

With ``--tenant`` the proof commands produce a proof and the signed checkpoint it is against
(``--json`` for ``proof check``, ``--format tlog-proof`` for C2SP tlog-proof@v1). Without it they
keep their original role, also available as ``check-inclusion`` / ``check-consistency``: an
outside auditor checks a proof with nothing but the command line: exit 0 when it verifies, 1
when it does not (with the reason), 2 for input that is not a proof at all (bad base64, a leaf
hash or proof node that is not 32 bytes, or Typer's own usage errors). Roots are compared as
given: a root of the wrong length simply does not match.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from services.ledger import merkle

USAGE_ERROR = 2
INVALID = 1
_TENANT_RE = re.compile(r"[a-z0-9-]{1,63}")  # DESIGN.md envelope: tenant_id slug


def _usage(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(USAGE_ERROR)


def _b64(value: str, option: str, *, hash_size: bool) -> bytes:
    try:
        raw = base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        _usage(f"{option}: {value!r} is not valid base64")
    if hash_size and len(raw) != merkle.HASH_SIZE:
        _usage(f"{option}: must decode to {merkle.HASH_SIZE} bytes (SHA-256), got {len(raw)}")
    return raw


def _proof(values: list[str] | None) -> list[bytes]:
    return [_b64(v, f"--proof #{i + 1}", hash_size=True) for i, v in enumerate(values or [])]


def _verdict(check: Callable[[], None], ok: str) -> None:
    try:
        check()
    except merkle.ProofError as exc:
        typer.echo(f"invalid: {exc}")
        raise typer.Exit(INVALID) from None
    typer.echo(f"valid: {ok}")


ProofOpt = Annotated[list[str] | None, typer.Option(
    "--proof", help="base64 proof node (repeat, in order, leaf side first)")]

TenantOpt = Annotated[str | None, typer.Option("--tenant", help="produce: the tenant's ledger")]
JsonOpt = Annotated[bool, typer.Option("--json", help="produce: JSON that `proof check` reads")]
FormatOpt = Annotated[str, typer.Option(
    "--format", help="produce: text (default) or tlog-proof (C2SP tlog-proof@v1)")]


def _check_inclusion(leaf_hash: str, index: int, size: int, root: str,
                     proof: list[str] | None) -> None:
    leaf, nodes = _b64(leaf_hash, "--leaf-hash", hash_size=True), _proof(proof)
    root_hash = _b64(root, "--root", hash_size=False)
    _verdict(lambda: merkle.verify_inclusion(index, size, leaf, nodes, root_hash),
             f"leaf {index} is included in the tree of size {size}")


def _check_consistency(size1: int, size2: int, root1: str, root2: str,
                       proof: list[str] | None) -> None:
    nodes = _proof(proof)
    r1, r2 = _b64(root1, "--root1", hash_size=False), _b64(root2, "--root2", hash_size=False)
    _verdict(lambda: merkle.verify_consistency(size1, size2, r1, r2, nodes),
             f"the tree of size {size1} is a prefix of the tree of size {size2}")


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        _usage(f"cannot read {path}: {exc}")


def _trust(trusted_key: Path | None) -> Any:
    from services.ledger.trust import Trust, TrustError
    from services.platform.settings import SettingsError, load_settings
    from services.platform.signing import PublicKeys, SigningKeyError

    try:
        if trusted_key is not None:
            return Trust.from_file(trusted_key)
        return Trust.local(PublicKeys.load(load_settings().signing_keys_dir))
    except (TrustError, SettingsError, SigningKeyError) as exc:
        _usage(str(exc))


def _produce(kind: str, tenant: str, a: int, b: int | None, as_json: bool, fmt: str) -> None:
    from services.ledger import proofs
    from services.platform.db import make_async_engine
    from services.platform.settings import load_settings

    if not _TENANT_RE.fullmatch(tenant):
        _usage(f"--tenant: {tenant!r} is not a tenant id ([a-z0-9-]{{1,63}})")
    if fmt not in ("text", "tlog-proof") or (fmt == "tlog-proof" and kind != "inclusion"):
        _usage("--format is text or tlog-proof (tlog-proof is for inclusion proofs)")

    async def run() -> dict[str, Any]:
        engine = make_async_engine(load_settings(), pool_size=1)
        try:
            async with engine.connect() as conn:
                if kind == "inclusion":
                    return await proofs.inclusion(conn, tenant, a, b)
                return await proofs.consistency(conn, tenant, a, b)
        finally:
            await engine.dispose()

    try:
        doc = asyncio.run(run())
    except proofs.ProofRequestError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(INVALID) from None
    if as_json:
        typer.echo(json.dumps(doc, indent=2))
    elif fmt == "tlog-proof":
        sys.stdout.write(proofs.tlog_proof(doc))
    else:
        for key, value in doc.items():
            if key == "proof":
                for i, h in enumerate(value):
                    typer.echo(f"proof[{i}]: {h}")
            elif key.startswith("checkpoint"):
                typer.echo(f"{key}:\n{value}")
            else:
                typer.echo(f"{key}: {value}")




def register(app: typer.Typer) -> None:
    proof_app = typer.Typer(no_args_is_help=True, help=(
        "RFC 9162 Merkle proofs: produce them from the ledger (--tenant), or check given ones "
        "(exit 0 valid, 1 invalid, 2 usage error)."))
    keys_app = typer.Typer(no_args_is_help=True, help="Ledger keys that verifiers need.")

    @proof_app.command("inclusion")
    def inclusion(
        tenant: TenantOpt = None,
        position: Annotated[int | None, typer.Option(
            "--position", min=0, help="produce: the entry's position")] = None,
        size: Annotated[int | None, typer.Option(
            "--size", min=0, help="checkpoint size (produce: default the newest)")] = None,
        as_json: JsonOpt = False,
        fmt: FormatOpt = "text",
        leaf_hash: Annotated[str | None, typer.Option(
            "--leaf-hash", help="check: base64 RFC 9162 leaf hash")] = None,
        index: Annotated[int | None, typer.Option("--index", min=0, help="check: leaf index")
                         ] = None,
        root: Annotated[str | None, typer.Option("--root", help="check: base64 root")] = None,
        proof: ProofOpt = None,
    ) -> None:
        """Produce an inclusion proof (--tenant --position) with its signed checkpoint, or check
        one (--leaf-hash --index --size --root --proof, as `proof check-inclusion`)."""
        if tenant is not None:
            if position is None:
                _usage("--position is required with --tenant")
            _produce("inclusion", tenant, position, size, as_json, fmt)
            return
        if leaf_hash is None or index is None or size is None or root is None:
            _usage("give --tenant and --position to produce a proof, or --leaf-hash, --index, "
                   "--size and --root to check one")
        _check_inclusion(leaf_hash, index, size, root, proof)

    @proof_app.command("consistency")
    def consistency(
        tenant: TenantOpt = None,
        size1: Annotated[int | None, typer.Option("--size1", min=0, help="older tree size")
                         ] = None,
        size2: Annotated[int | None, typer.Option(
            "--size2", min=0, help="newer tree size (produce: default the newest checkpoint)")
        ] = None,
        as_json: JsonOpt = False,
        root1: Annotated[str | None, typer.Option("--root1", help="check: base64 root at size1")
                         ] = None,
        root2: Annotated[str | None, typer.Option("--root2", help="check: base64 root at size2")
                         ] = None,
        proof: ProofOpt = None,
    ) -> None:
        """Produce a consistency proof (--tenant --size1) with the signed checkpoint(s), or check
        one (--size1 --size2 --root1 --root2 --proof, as `proof check-consistency`)."""
        if size1 is None:
            _usage("--size1 is required")
        if tenant is not None:
            _produce("consistency", tenant, size1, size2, as_json, "text")
            return
        if size2 is None or root1 is None or root2 is None:
            _usage("give --tenant to produce a proof, or --size2, --root1 and --root2 to check")
        _check_consistency(size1, size2, root1, root2, proof)

    @proof_app.command("check-inclusion")
    def check_inclusion(
        leaf_hash: Annotated[str, typer.Option(
            "--leaf-hash", help="base64 RFC 9162 leaf hash, SHA-256(0x00 || leaf data)")],
        index: Annotated[int, typer.Option("--index", min=0, help="0-based leaf index")],
        size: Annotated[int, typer.Option("--size", min=0, help="tree size of the root")],
        root: Annotated[str, typer.Option("--root", help="base64 root hash at --size")],
        proof: ProofOpt = None,
    ) -> None:
        """Check that a leaf hash is at --index in the tree of --size leaves with --root."""
        _check_inclusion(leaf_hash, index, size, root, proof)

    @proof_app.command("check-consistency")
    def check_consistency(
        size1: Annotated[int, typer.Option("--size1", min=0, help="size of the older tree")],
        size2: Annotated[int, typer.Option("--size2", min=0, help="size of the newer tree")],
        root1: Annotated[str, typer.Option("--root1", help="base64 root hash at --size1")],
        root2: Annotated[str, typer.Option("--root2", help="base64 root hash at --size2")],
        proof: ProofOpt = None,
    ) -> None:
        """Check that the tree (--size1, --root1) is a prefix of (--size2, --root2)."""
        _check_consistency(size1, size2, root1, root2, proof)

    @proof_app.command("check")
    def check(
        source: Annotated[str, typer.Argument(help="proof file (JSON from `proof ... --json`, or "
                                              "a tlog-proof), '-' for stdin")] = "-",
        trusted_key: Annotated[Path | None, typer.Option(
            "--trusted-key", help="pinned vkey file (default: the local public-key file)")] = None,
        leaf_hash: Annotated[str | None, typer.Option(
            "--leaf-hash", help="base64 leaf hash (a tlog-proof does not carry it)")] = None,
        tenant: TenantOpt = None,
    ) -> None:
        """Check a produced proof end to end: the Merkle proof and the checkpoint's signature."""
        from services.ledger.proof_check import check_document

        text = sys.stdin.read() if source == "-" else _read(Path(source))
        trust = _trust(trusted_key)

        def run() -> None:
            try:
                check_document(text, trust, leaf_hash, tenant)
            except merkle.ProofError:
                raise
            except (ValueError, KeyError, TypeError) as exc:
                _usage(f"not a proof document: {exc}")

        _verdict(run, "proof and signed checkpoint verify")
    @keys_app.command("public")
    def public(
        tenant: Annotated[str, typer.Option("--tenant", help="tenant id")] = "default",
        origin: Annotated[str | None, typer.Option(
            "--origin", help="checkpoint origin / key name (default voxledger.local/<tenant>)",
        )] = None,
        as_json: Annotated[bool, typer.Option("--json", help="machine-readable")] = False,
    ) -> None:
        """Print the tenant's checkpoint verification keys (C2SP signed-note vkeys): the current
        one first, then older versions still needed for old checkpoints."""
        from services.ledger.checkpoint import NoteError, Verifier, origin_for
        from services.platform.settings import SettingsError, load_settings
        from services.platform.signing import PublicKeys, SigningKeyError

        if not _TENANT_RE.fullmatch(tenant):
            _usage(f"--tenant: {tenant!r} is not a tenant id ([a-z0-9-]{{1,63}})")
        try:
            name = origin if origin is not None else origin_for(tenant)
            settings = load_settings()
            public = PublicKeys.load(settings.signing_keys_dir)
            verifier = Verifier.from_public_key(name, public.keys[public.current])
        except NoteError as exc:
            _usage(f"--origin: {exc}")
        except SettingsError as exc:
            _usage(str(exc))
        except SigningKeyError as exc:
            # Printed here rather than by cli.main so the message stays one unwrapped line.
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from None
        # Current key first, then older versions: a pinned file needs them for old checkpoints.
        older = [Verifier.from_public_key(name, k).vkey()
                 for v, k in sorted(public.keys.items(), reverse=True) if v != public.current]
        if not as_json:
            for line in [verifier.vkey(), *older]:
                typer.echo(line)
            return
        typer.echo(json.dumps({
            "tenant": tenant, "origin": name, "algorithm": "ed25519",
            "key_id": verifier.key_id.hex(), "vkey": verifier.vkey(),
            "public_key": base64.b64encode(verifier.public_key).decode(),
            "version": public.current, "older_vkeys": older,
        }))

    @keys_app.command("rotate-signing")
    def rotate_signing() -> None:
        """Make a new checkpoint signing key current; old public keys stay published so old
        checkpoints keep verifying. Restart the sealer to sign with the new key."""
        from services.platform.settings import SettingsError, load_settings
        from services.platform.signing import SigningKeyError, rotate

        try:
            version = rotate(load_settings().signing_keys_dir)
        except (SettingsError, SigningKeyError) as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from None
        typer.echo(f"signing key v{version} is current; restart the sealer to use it")

    app.add_typer(proof_app, name="proof")
    app.add_typer(keys_app, name="keys")
