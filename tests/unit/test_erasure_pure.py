"""Erasure, pure parts: identifiers, the Art. 12 clock, certificate verification."""

from __future__ import annotations

import base64
import copy
import json
import os
from datetime import UTC, datetime, timedelta

import pytest

from services.erasure.certificate import (
    CertificateError,
    leaf_json,
    sign,
    tlog_proof,
    verify_certificate,
)
from services.erasure.deadline import DeadlineError, due, extend, overdue
from services.erasure.identifiers import IdentifierError, parse
from services.ledger.checkpoint import Checkpoint, origin_for, sign_checkpoint
from services.ledger.leaf import LeafFields, leaf_data
from services.ledger.merkle import MerkleTree, leaf_hash
from services.platform.keys import LocalKeyProvider


@pytest.mark.parametrize("raw", ["+1 (415) 555-0123", "415.555.0123", "(415) 555 0123",
                                 "4155550123", "+14155550123", " 415-555-0123 "])
def test_phone_formats_normalise_to_e164(raw: str) -> None:
    ident = parse("phone_e164", raw)
    assert ident.value == "+14155550123"
    assert {"+14155550123", "14155550123", "4155550123"} <= set(ident.scan_forms())


def test_bad_identifiers_are_refused_without_echoing_them() -> None:
    with pytest.raises(IdentifierError) as exc:
        parse("phone_e164", "call me maybe")
    assert "call me" not in str(exc.value)
    with pytest.raises(IdentifierError):
        parse("email", "not-an-email")
    assert parse("email", " Jane.Doe@Example.COM ").value == "jane.doe@example.com"


def test_art12_clock_and_extension() -> None:
    received = datetime(2026, 1, 31, 12, tzinfo=UTC)
    assert due(received) == datetime(2026, 2, 28, 12, tzinfo=UTC)
    with pytest.raises(DeadlineError):
        extend(received, due(received), 1, " ", received)
    with pytest.raises(DeadlineError):
        extend(received, due(received), 3, "complex", received)
    with pytest.raises(DeadlineError):  # too late: the first month is over
        extend(received, due(received), 2, "complex", due(received) + timedelta(seconds=1))
    assert extend(received, due(received), 2, "many stores", received) == datetime(
        2026, 4, 30, 12, tzinfo=UTC)
    assert overdue("running", due(received), due(received) + timedelta(days=1))
    assert not overdue("completed", due(received), due(received) + timedelta(days=1))


def _certificate() -> tuple[dict[str, object], LocalKeyProvider]:
    keys = LocalKeyProvider(os.urandom(32))
    tenant = "acme"
    fields = LeafFields(tenant, 2, "e-1", "_journal", 3, 1, "custom", "system",
                        "erasure.completed", datetime(2026, 11, 30, tzinfo=UTC), 0,
                        os.urandom(32), os.urandom(32))
    leaves = [os.urandom(32), os.urandom(32), leaf_hash(leaf_data(fields)), os.urandom(32)]
    tree = MerkleTree(leaves)
    note = sign_checkpoint(Checkpoint(origin_for(tenant), 4, tree.root()),
                           keys.signing_key(tenant))
    statement = {"request_id": "r", "tenant_id": tenant, "sessions": ["s1"],
                 "completion": {"position": 2, "leaf": leaf_json(fields)}}
    cert = sign(statement, tlog_proof(2, tree.inclusion_proof(2, 4), note),
                keys.signing_key(tenant))
    return cert, keys


def test_certificate_verifies_and_any_change_fails() -> None:
    cert, _keys = _certificate()
    assert verify_certificate(cert)["request_id"] == "r"
    raw = json.dumps(cert)
    assert verify_certificate(json.loads(raw))
    bad = copy.deepcopy(cert)
    bad["statement"]["sessions"] = ["s2"]  # type: ignore[index]
    with pytest.raises(CertificateError, match="signature"):
        verify_certificate(bad)
    bad = copy.deepcopy(cert)
    bad["tlog_proof"] = str(cert["tlog_proof"]).replace("index 2", "index 1")
    with pytest.raises(CertificateError):
        verify_certificate(bad)
    other = LocalKeyProvider(os.urandom(32)).signing_key("acme")
    from services.platform.keys import public_key_bytes

    with pytest.raises(CertificateError, match="another key"):
        verify_certificate(cert, public_key_bytes(other))
    forged = sign(cert["statement"], str(cert["tlog_proof"]), other)  # type: ignore[arg-type]
    with pytest.raises(CertificateError, match="checkpoint"):
        verify_certificate(forged)  # re-signed statement, but the checkpoint is not its key's
    assert base64.b64decode(cert["signature"]["public_key"])  # type: ignore[index]


def test_every_byte_of_a_certificate_is_checked() -> None:
    """Each single-byte change of the serialised certificate fails (the signature's descriptive
    fields included: a changed vkey once passed with a pinned key)."""
    cert, _keys = _certificate()
    pinned = base64.b64decode(cert["signature"]["public_key"])  # type: ignore[index]
    raw = json.dumps(cert, indent=2).encode()
    assert verify_certificate(json.loads(raw), pinned)
    for offset in range(len(raw)):
        bad = bytearray(raw)
        bad[offset] = ord("0") if bad[offset] != ord("0") else ord("1")
        try:
            parsed = json.loads(bytes(bad))
        except ValueError:
            continue  # not JSON any more: refused before any check
        with pytest.raises(CertificateError):
            verify_certificate(parsed, pinned)
