"""The sealing plan: gapless positions, exact audio in encrypted segments, no PII in clear."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime
from typing import Any

import uuid_utils

from schemas.envelope import Direction, Envelope, Provider
from services.ledger.leaf import EMPTY_SHA256, LeafFields, leaf_data
from services.ledger.merkle import leaf_hash
from services.ledger.payloads import open_payload
from services.ledger.sealing import Fresh, payload_aad, plan_batch, segment_aad
from services.ledger.segments import batch_key, open_part, part_id
from services.ledger.subjects import normalize, split_subjects
from services.platform.keys import new_dek, subject_index

T, S = "acme", "call-1"
PHONE = "+14155550123"


def env(seq: int, direction: Direction, type_: str, payload: dict[str, Any],
        provider: Provider = Provider.OPENAI_REALTIME) -> Envelope:
    return Envelope(event_id=str(uuid_utils.uuid7()), tenant_id=T, session_id=S, seq=seq,
                    provider=provider, direction=direction, type=type_,
                    recorded_at=datetime.now(UTC), mono_ns=seq * 20_000_000, payload=payload)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def batch() -> list[Fresh]:
    envs = [
        env(0, Direction.SYSTEM, "session.started",
            {"provider": "openai-realtime", "subject": {"phone_e164": PHONE,
                                                        "email": " Jo@Example.COM "}}),
        env(1, Direction.CLIENT, "input_audio_buffer.append",
            {"type": "input_audio_buffer.append", "audio": b64(b"\x01" * 960)}),
        env(3, Direction.SERVER, "response.output_audio.delta",
            {"type": "response.output_audio.delta", "delta": b64(b"\x02" * 480)}),
        env(2, Direction.CLIENT, "input_audio_buffer.append",
            {"type": "input_audio_buffer.append", "audio": b64(b"\x03" * 320)}),
        env(4, Direction.SERVER, "response.output_audio.delta",
            {"type": "response.output_audio.delta", "delta": "not*base64"}),
        env(5, Direction.SYSTEM, "session.ended", {"reason": "completed", "last_seq": 5}),
    ]
    return [Fresh(100 + i, "voice.acme.call-1.x", e) for i, e in enumerate(envs)]


def test_plan_assigns_positions_and_recomputable_leaves() -> None:
    dek = new_dek()
    plan = plan_batch(T, batch(), 40, {S: dek}, {}, lambda n: "idx-" + n)
    assert [e["position"] for e in plan.entries] == list(range(40, 46))
    for e, lh in zip(plan.entries, plan.leaves, strict=True):
        lf = LeafFields(T, e["position"], e["event_id"], S, e["seq"], 1, e["provider"],
                        e["direction"], e["type"], e["recorded_at"], e["mono_ns"],
                        hashlib.sha256(e["payload_ct"]).digest(), e["audio_sha256"])
        assert leaf_hash(leaf_data(lf)) == lh == e["leaf_hash"]
    d = plan.sessions[S]
    assert (d.entries, d.first_position, d.last_position, d.max_seq) == (6, 40, 45, 5)
    assert d.out_of_order == 1  # seq 2 arrived after seq 3
    assert d.started and d.ended and d.last_seq_declared == 5
    assert plan.ended_sessions == [S]


def test_audio_goes_to_segments_exactly_and_payload_keeps_a_reference() -> None:
    dek = new_dek()
    plan = plan_batch(T, batch(), 0, {S: dek}, {}, lambda n: "i")
    segs = {s.direction: s for s in plan.segments}
    # One object for the whole batch, a compressed and encrypted part per session and direction.
    assert plan.object_key == batch_key(T, 0) == "raw/acme/_batch/000000000000.seg"
    assert segs["client"].key == part_id(plan.object_key, S, "client")
    c = segs["client"]
    assert plan.object_body[c.at:c.at + len(c.ciphertext)] == c.ciphertext
    assert len(plan.object_body) == sum(len(s.ciphertext) for s in plan.segments)
    assert c.codec == "flac"  # an even length is read as 16-bit samples (constant: FLAC wins)
    client = open_part(dek, segment_aad(T, S, c.key), c.ciphertext, c.codec)
    assert client == b"\x01" * 960 + b"\x03" * 320
    assert len(c.ciphertext) < len(client)  # compressed before encryption
    e1 = plan.entries[1]
    assert e1["audio_sha256"] == hashlib.sha256(b"\x01" * 960).digest()
    stored = json.loads(open_payload(dek, e1["payload_ct"], payload_aad(T, S, e1["event_id"])))
    assert stored["audio"] == {"$audio": {"sha256": hashlib.sha256(b"\x01" * 960).hexdigest(),
                                          "length": 960, "segment": c.key, "offset": 0,
                                          "at": c.at, "size": len(c.ciphertext),
                                          "codec": "flac"}}
    refs = [(r["position"], r["offset"], r["length"]) for r in plan.audio_refs]
    assert refs == [(1, 0, 960), (2, 0, 480), (3, 960, 320)]


def test_invalid_audio_is_sealed_as_received_and_reported() -> None:
    dek = new_dek()
    plan = plan_batch(T, batch(), 0, {S: dek}, {}, lambda n: "i")
    assert len(plan.entries) == 6
    [(item, reason)] = plan.problems
    assert item.envelope.seq == 4 and "delta" in reason and "not*base64" not in reason
    e4 = plan.entries[4]
    assert e4["audio_sha256"] == EMPTY_SHA256
    stored = json.loads(open_payload(dek, e4["payload_ct"], payload_aad(T, S, e4["event_id"])))
    assert stored["delta"] == "not*base64"


def test_subjects_are_indexed_encrypted_and_absent_from_the_payload() -> None:
    dek = new_dek()
    pepper = b"p" * 32
    plan = plan_batch(T, batch(), 0, {S: dek}, {}, lambda n: subject_index(pepper, n))
    kinds = {r["kind"]: r for r in plan.subjects}
    assert kinds["phone_e164"]["subject_index"] == subject_index(pepper, PHONE)
    assert kinds["email"]["subject_index"] == subject_index(pepper, "jo@example.com")
    e0 = plan.entries[0]
    clear = open_payload(dek, e0["payload_ct"], payload_aad(T, S, e0["event_id"]))
    assert PHONE.encode() not in clear and b"xample" not in clear
    assert json.loads(clear)["subject"]["phone_e164"] == {
        "$subject": subject_index(pepper, PHONE)}
    assert PHONE.encode() not in kinds["phone_e164"]["value_ct"]


def test_split_subjects_drops_unknown_keys_and_normalizes() -> None:
    payload, found = split_subjects({"subject": {"customer_id": " C-1 ", "nickname": "Bob"}},
                                    lambda n: "h")
    assert found == {"customer_id": ("C-1", "h")}
    assert payload["subject"] == {"customer_id": {"$subject": "h"}, "nickname": {"$dropped": True}}
    assert normalize("phone_e164", "+1 (415) 555-0123") == PHONE
