"""An independent witness (C2SP tlog-witness ``add-checkpoint``, tlog-cosignature ``cosignature/v1``).

A separate process with its own key and state directory: it cosigns a log's checkpoint only when
the log's trusted key signed it and a consistency proof leads from the last checkpoint it cosigned
for that origin, so someone holding the log key alone cannot get a rewritten history cosigned.
State (``state.json``) is updated under a lock and persisted before the answer (the spec's race).

State directory::

    witness.json   name and Ed25519 seed (0600, atomic)
    state.json     origin → latest cosigned size and root (0600, atomic)
    logs.txt       trusted log vkeys, one per line (`voxledger keys public --tenant T`)
    refused.log    requests refused for a bad proof or conflict: possible evidence of misbehaviour

Answers: 200 signature lines; 400 malformed or old > size; 403 no trusted signature; 404 unknown
origin; 409 (``text/x.tlog.size``) old size is not the cosigned size, or same size other root;
413 body too large; 422 consistency proof does not verify.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.ledger.checkpoint import (
    MalformedNoteError,
    NoteError,
    Verifier,
    check_key_name,
    parse_checkpoint,
    parse_note,
)
from services.ledger.cosignature import WitnessKey, cosign
from services.ledger.merkle import ProofError, verify_consistency
from services.platform.signing import write_atomic

MAX_BODY = 64 * 1024
MAX_PROOF_LINES = 63  # tlog-witness: clients MUST NOT send more


class WitnessSetupError(Exception):
    """The state directory is missing or malformed; the message says what to run."""


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"


def init_state(state: Path, name: str) -> WitnessKey:
    """Create a witness identity in ``state`` (refuses to overwrite one)."""
    check_key_name(name)
    path = state / "witness.json"
    if path.exists():
        raise WitnessSetupError(f"{path} exists; a witness identity is never replaced in place")
    state.mkdir(parents=True, exist_ok=True)
    seed = secrets.token_bytes(32)
    write_atomic(path, json.dumps({"name": name, "seed": base64.b64encode(seed).decode()}), 0o600)
    (state / "logs.txt").touch(exist_ok=True)
    return WitnessKey.from_public_key(name, Ed25519PrivateKey.from_private_bytes(seed))


class Witness:
    def __init__(self, state: Path) -> None:
        self.state = state
        try:
            ident = json.loads((state / "witness.json").read_text())
            self.name = check_key_name(str(ident["name"]))
            self.key = Ed25519PrivateKey.from_private_bytes(base64.b64decode(ident["seed"]))
        except FileNotFoundError:
            raise WitnessSetupError(f"no witness in {state}; run `voxledger witness init`"
                                    ) from None
        except (ValueError, KeyError, NoteError):
            raise WitnessSetupError(f"{state}/witness.json is malformed") from None
        self.public = WitnessKey.from_public_key(self.name, self.key)
        self.logs: dict[str, list[Verifier]] = {}
        logs = state / "logs.txt"
        for n, line in enumerate(logs.read_text().splitlines() if logs.exists() else [], 1):
            if line.strip() and not line.startswith("#"):
                try:
                    v = Verifier.parse(line.strip())
                except NoteError as exc:
                    raise WitnessSetupError(f"{logs}:{n}: {exc}") from None
                self.logs.setdefault(v.name, []).append(v)
        self._lock = threading.Lock()
        path = state / "state.json"
        self._seen: dict[str, dict[str, object]] = (json.loads(path.read_text())
                                                    if path.exists() else {})

    def add_checkpoint(self, body: bytes) -> Answer:
        if len(body) > MAX_BODY:
            return Answer(413, b"request body too large\n")
        try:
            old, proof, note = _parse_request(body)
            parsed = parse_note(note)
            cp = parse_checkpoint(parsed.text)
        except (ValueError, NoteError) as exc:
            return Answer(400, f"malformed request: {exc}\n".encode())
        trusted = self.logs.get(cp.origin)
        if not trusted:
            return Answer(404, b"unknown log origin\n")
        if not any(v.verify(parsed.text, s.signature) for v in trusted for s in parsed.signatures
                   if (s.name, s.key_id) == (v.name, v.key_id)):
            return Answer(403, b"no signature by a trusted log key\n")
        if old > cp.size:
            return Answer(400, b"old size is larger than the checkpoint size\n")
        with self._lock:  # check and persist atomically (tlog-witness: the rollback race)
            seen = self._seen.get(cp.origin, {})
            size = int(str(seen.get("size", 0)))
            root = base64.b64decode(str(seen.get("root", "")))
            if old != size:
                return Answer(409, f"{size}\n".encode(), "text/x.tlog.size")
            try:
                if old == 0:
                    if proof:
                        raise ProofError("the proof must be empty when the old size is 0")
                elif old == cp.size:
                    if proof or root != cp.root_hash:
                        self._refused(note, "same size, another root")
                        return Answer(409, f"{size}\n".encode(), "text/x.tlog.size")
                else:
                    verify_consistency(old, cp.size, root, cp.root_hash, proof)
            except ProofError as exc:
                self._refused(note, f"consistency proof from {old}: {exc}")
                return Answer(422, f"consistency proof does not verify: {exc}\n".encode())
            self._seen[cp.origin] = {"size": cp.size,
                                     "root": base64.b64encode(cp.root_hash).decode()}
            write_atomic(self.state / "state.json", json.dumps(self._seen, indent=2), 0o600)
        return Answer(200, cosign(parsed.text, self.name, self.key, int(time.time())).encode())

    def _refused(self, note: str, why: str) -> None:
        with open(self.state / "refused.log", "a") as fh:
            fh.write(json.dumps({"at": int(time.time()), "why": why, "note": note}) + "\n")


def _parse_request(body: bytes) -> tuple[int, list[bytes], str]:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedNoteError("body is not UTF-8") from None
    head, sep, note = text.partition("\n\n")
    if not sep:
        raise ValueError("no empty line before the checkpoint")
    lines = head.split("\n")
    first = lines[0]
    if not first.startswith("old ") or not first[4:].isdigit() or str(int(first[4:])) != first[4:]:
        raise ValueError("first line must be 'old <size>'")
    if len(lines) - 1 > MAX_PROOF_LINES:
        raise ValueError("more than 63 proof lines")
    proof = [base64.b64decode(h, validate=True) for h in lines[1:]]
    if any(len(p) != 32 for p in proof):
        raise ValueError("proof lines must be 32-byte hashes")
    return int(first[4:]), proof, note
