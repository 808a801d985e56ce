"""``voxledger proof inclusion|consistency`` and ``voxledger keys public``.

The proof commands let an outside auditor check a proof with nothing but the command line: exit 0
when it verifies, 1 when it does not (with the reason), 2 for input that is not a proof at all
(bad base64, a leaf hash or proof node that is not 32 bytes, or Typer's own usage errors).
Roots are compared as given: a root of the wrong length simply does not match.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable
from typing import Annotated, NoReturn

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


def register(app: typer.Typer) -> None:
    proof_app = typer.Typer(no_args_is_help=True, help=(
        "Verify RFC 9162 Merkle proofs given on the command line (exit 0 valid, 1 invalid, "
        "2 usage error)."))
    keys_app = typer.Typer(no_args_is_help=True, help="Ledger keys that verifiers need.")

    @proof_app.command("inclusion")
    def inclusion(
        leaf_hash: Annotated[str, typer.Option(
            "--leaf-hash", help="base64 RFC 9162 leaf hash, SHA-256(0x00 || leaf data)")],
        index: Annotated[int, typer.Option("--index", min=0, help="0-based leaf index")],
        size: Annotated[int, typer.Option("--size", min=0, help="tree size of the root")],
        root: Annotated[str, typer.Option("--root", help="base64 root hash at --size")],
        proof: ProofOpt = None,
    ) -> None:
        """Check that a leaf hash is at --index in the tree of --size leaves with --root."""
        leaf, nodes = _b64(leaf_hash, "--leaf-hash", hash_size=True), _proof(proof)
        root_hash = _b64(root, "--root", hash_size=False)
        _verdict(lambda: merkle.verify_inclusion(index, size, leaf, nodes, root_hash),
                 f"leaf {index} is included in the tree of size {size}")

    @proof_app.command("consistency")
    def consistency(
        size1: Annotated[int, typer.Option("--size1", min=0, help="size of the older tree")],
        size2: Annotated[int, typer.Option("--size2", min=0, help="size of the newer tree")],
        root1: Annotated[str, typer.Option("--root1", help="base64 root hash at --size1")],
        root2: Annotated[str, typer.Option("--root2", help="base64 root hash at --size2")],
        proof: ProofOpt = None,
    ) -> None:
        """Check that the tree (--size1, --root1) is a prefix of (--size2, --root2)."""
        nodes = _proof(proof)
        r1, r2 = _b64(root1, "--root1", hash_size=False), _b64(root2, "--root2", hash_size=False)
        _verdict(lambda: merkle.verify_consistency(size1, size2, r1, r2, nodes),
                 f"the tree of size {size1} is a prefix of the tree of size {size2}")

    @keys_app.command("public")
    def public(
        tenant: Annotated[str, typer.Option("--tenant", help="tenant id")] = "default",
        origin: Annotated[str | None, typer.Option(
            "--origin", help="checkpoint origin / key name (default voxledger.local/<tenant>)",
        )] = None,
        as_json: Annotated[bool, typer.Option("--json", help="machine-readable")] = False,
    ) -> None:
        """Print the tenant's checkpoint verification key (C2SP signed-note vkey)."""
        from services.ledger.checkpoint import NoteError, Verifier, origin_for
        from services.platform.keys import KeyError_, key_provider
        from services.platform.settings import SettingsError, load_settings

        if not _TENANT_RE.fullmatch(tenant):
            _usage(f"--tenant: {tenant!r} is not a tenant id ([a-z0-9-]{{1,63}})")
        try:
            name = origin if origin is not None else origin_for(tenant)
            settings = load_settings()
            signing_key = key_provider(settings).signing_key(tenant)
            verifier = Verifier.from_public_key(name, signing_key)
        except NoteError as exc:
            _usage(f"--origin: {exc}")
        except SettingsError as exc:
            _usage(str(exc))
        except KeyError_ as exc:
            # Printed here rather than by cli.main so the message stays one unwrapped line.
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from None
        if not as_json:
            typer.echo(verifier.vkey())
            return
        typer.echo(json.dumps({
            "tenant": tenant, "origin": name, "algorithm": "ed25519",
            "key_id": verifier.key_id.hex(), "vkey": verifier.vkey(),
            "public_key": base64.b64encode(verifier.public_key).decode(),
        }))

    app.add_typer(proof_app, name="proof")
    app.add_typer(keys_app, name="keys")
