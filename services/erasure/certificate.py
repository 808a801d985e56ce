"""Erasure certificates: a signed statement of what one request erased, with the inclusion proof
of its ``erasure.completed`` event in a signed checkpoint of the tenant's ledger.

The file is JSON: ``statement`` (request id, tenant, subject digest, sessions, per-store counts,
residue result, what was put beyond use rather than deleted and until when, the completion
event's ledger position and leaf fields), ``tlog_proof`` (C2SP ``tlog-proof@v1`` text: the leaf
index, the RFC 9162 inclusion proof, the signed checkpoint note) and ``signature`` (Ed25519 over
the canonical JSON of the statement, by the tenant's checkpoint key — the same key that signs the
checkpoint; the evidence issue moves it to its own module).

:func:`verify_certificate` recomputes the completion leaf from the statement, checks it is an
``erasure.completed`` journal entry, checks the inclusion proof against the checkpoint root and
the checkpoint's and the statement's signatures. Pure: no database, no network.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from services.ledger.checkpoint import NoteError, Verifier, open_checkpoint, origin_for
from services.ledger.journal_ids import JOURNAL_SESSION
from services.ledger.leaf import LeafFields, leaf_data
from services.ledger.merkle import HASH_SIZE, ProofError, leaf_hash, verify_inclusion
from services.platform.keys import public_key_bytes

FORMAT = "voxledger-erasure-certificate/v1"
PROOF_HEADER = "c2sp.org/tlog-proof@v1"


class CertificateError(Exception):
    """A certificate that does not verify; the message says which check failed."""


def canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def leaf_json(f: LeafFields) -> dict[str, Any]:
    return {"tenant_id": f.tenant_id, "position": f.position, "event_id": f.event_id,
            "session_id": f.session_id, "seq": f.seq, "schema_version": f.schema_version,
            "provider": f.provider, "direction": f.direction, "type": f.type,
            "recorded_at": f.recorded_at.isoformat(), "mono_ns": f.mono_ns,
            "payload_sha256": f.payload_sha256.hex(), "audio_sha256": f.audio_sha256.hex()}


def _leaf_fields(d: dict[str, Any]) -> LeafFields:
    return LeafFields(str(d["tenant_id"]), int(d["position"]), str(d["event_id"]),
                      str(d["session_id"]), int(d["seq"]), int(d["schema_version"]),
                      str(d["provider"]), str(d["direction"]), str(d["type"]),
                      datetime.fromisoformat(d["recorded_at"]), int(d["mono_ns"]),
                      bytes.fromhex(d["payload_sha256"]), bytes.fromhex(d["audio_sha256"]))


def _b64(text: str, what: str) -> bytes:
    """Canonical base64 only: the padding bits of a last character are otherwise free, and a
    changed byte there would still decode to the same value."""
    try:
        raw = base64.b64decode(text, validate=True)
    except ValueError:
        raise CertificateError(f"{what} is not valid base64") from None
    if base64.b64encode(raw).decode() != text:
        raise CertificateError(f"{what} is not canonical base64")
    return raw


def tlog_proof(index: int, proof: list[bytes], note: str) -> str:
    lines = [PROOF_HEADER, f"index {index}", *(base64.b64encode(h).decode() for h in proof)]
    return "\n".join(lines) + "\n\n" + note


def parse_tlog_proof(text: str) -> tuple[int, list[bytes], str]:
    head, sep, note = text.partition("\n\n")
    lines = head.split("\n")
    if not sep or len(lines) < 2 or lines[0] != PROOF_HEADER or not lines[1].startswith("index "):
        raise CertificateError("tlog_proof is not a c2sp.org/tlog-proof@v1 text")
    try:
        index = int(lines[1][6:])
        hashes = [_b64(line, "tlog_proof hash") for line in lines[2:]
                  if not line.startswith("extra ")]
    except ValueError:
        raise CertificateError("tlog_proof has a bad index or proof hash") from None
    if any(len(h) != HASH_SIZE for h in hashes):
        raise CertificateError("tlog_proof hash is not 32 bytes")
    return index, hashes, note


def sign(statement: dict[str, Any], proof_text: str, key: Ed25519PrivateKey) -> dict[str, Any]:
    tenant = statement["tenant_id"]
    verifier = Verifier.from_public_key(origin_for(tenant), key)
    return {"format": FORMAT, "statement": statement, "tlog_proof": proof_text,
            "signature": {"algorithm": "ed25519", "key_name": verifier.name,
                          "key_id": verifier.key_id.hex(), "vkey": verifier.vkey(),
                          "public_key": base64.b64encode(public_key_bytes(key)).decode(),
                          "value": base64.b64encode(key.sign(canonical(statement))).decode()}}


def load_public_key(text: str) -> bytes:
    """A raw base64 Ed25519 key, a C2SP vkey (``name+id+base64``) or ``keys public --json``."""
    text = text.strip()
    if text.startswith("{"):
        text = json.loads(text)["public_key"]
    if "+" in text and not text.endswith("="):
        return Verifier.parse(text).public_key
    try:
        return Verifier.parse(text).public_key
    except (NoteError, ValueError):
        raw = base64.b64decode(text, validate=True)
        if len(raw) != 32:
            raise CertificateError("public key is not 32 bytes of Ed25519") from None
        return raw


def verify_certificate(cert: dict[str, Any], public_key: bytes | None = None) -> dict[str, Any]:
    """Raise :class:`CertificateError` unless every check holds; return the statement."""
    try:
        if cert.get("format") != FORMAT:
            raise CertificateError(f"not a {FORMAT} file")
        statement, sig = cert["statement"], cert["signature"]
        embedded = _b64(sig["public_key"], "public_key")
        key = public_key if public_key is not None else embedded
        if public_key is not None and embedded != public_key:
            raise CertificateError("the certificate was signed by another key than the one given")
        tenant = statement["tenant_id"]
        # The descriptive fields must describe that key too: every byte of the file is checked.
        named = Verifier.from_public_key(origin_for(tenant), key)
        if (sig.get("algorithm"), sig.get("key_name"), sig.get("key_id"), sig.get("vkey")) != (
                "ed25519", named.name, named.key_id.hex(), named.vkey()):
            raise CertificateError("the signature's algorithm, key name, key id or vkey does "
                                   "not match its key")
        try:
            Ed25519PublicKey.from_public_bytes(key).verify(
                _b64(sig["value"], "signature value"), canonical(statement))
        except InvalidSignature:
            raise CertificateError("statement signature does not verify") from None
        completion = statement["completion"]
        fields = _leaf_fields(completion["leaf"])
        if (fields.tenant_id, fields.session_id, fields.type) != (
                tenant, JOURNAL_SESSION, "erasure.completed"):
            raise CertificateError("the proven leaf is not this tenant's erasure.completed event")
        if fields.position != completion["position"]:
            raise CertificateError("the proven leaf is not at the stated position")
        index, proof, note = parse_tlog_proof(cert["tlog_proof"])
        if index != fields.position:
            raise CertificateError("the inclusion proof is for another position")
        try:
            checkpoint = open_checkpoint(note, named)
        except NoteError as exc:
            raise CertificateError(f"checkpoint: {exc}") from None
        try:
            verify_inclusion(index, checkpoint.size, leaf_hash(leaf_data(fields)), proof,
                             checkpoint.root_hash)
        except ProofError as exc:
            raise CertificateError(f"inclusion proof: {exc}") from None
        return dict(statement)
    except CertificateError:
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise CertificateError(f"malformed certificate ({type(exc).__name__})") from None
