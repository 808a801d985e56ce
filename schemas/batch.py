"""The batch wire form: several envelopes of one session in one NATS message (issue 13 item 5).

A gateway publishes a session's frames in small batches instead of one message per 20 ms frame:
one JetStream publish, one ack and one stored message stand for up to
``MAX_BATCH_FRAMES`` frames. Every member keeps its own envelope (``event_id``, ``seq``), so the
ledger still seals one entry and one leaf per frame.

    subject  <prefix>.<tenant>.<session>.batch
    headers  Nats-Msg-Id: batch_id(member event ids)      (deterministic: a spool replay of the
             Voxledger-Batch: ndjson/1                      same batch is dropped by JetStream)
             Voxledger-Batch-Count: <members>
    body     the members' envelope JSON (``encode_envelope``), in seq order, joined by b"\\n"

Newline-delimited JSON, not length prefixes: compact JSON never holds a raw newline (it is
escaped inside strings), so one damaged member cannot shift the framing of its siblings and
is dead-lettered alone. The body is bounded like a single envelope (``MAX_BATCH_BYTES``), so a
batch fits the stream's ``max_msg_size`` whatever its headers. A one-member body is a plain
envelope: a dead-lettered member republished to its batch subject decodes again.

Headers are optional on the way in (a dead letter's retry republishes the body alone); when
present they must name this format and the number of members. A single frame on its own
``<kind>`` subject (``subject_for``) stays valid: old gateways, ``voxledger import``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Final

from schemas.envelope import MAX_ENVELOPE_BYTES, EnvelopeError

BATCH_KIND: Final = "batch"  # the last subject token of a batch message
BATCH_FORMAT: Final = "ndjson/1"
FORMAT_HEADER: Final = "Voxledger-Batch"
COUNT_HEADER: Final = "Voxledger-Batch-Count"
# Bounds checked at intake: members per message, and body bytes (the envelope limit, so a batch
# fits wherever one envelope does: the stream's max_msg_size leaves the rest for headers).
MAX_BATCH_FRAMES: Final = 1024
MAX_BATCH_BYTES: Final = MAX_ENVELOPE_BYTES
SEPARATOR: Final = b"\n"
MEMBER_BITS: Final = 16  # members per message < 2**16 (far above MAX_BATCH_FRAMES)


def item_key(stream_seq: int, member: int = 0) -> int:
    """A consumer's key of one event: ``(stream sequence, member index)`` in one integer that
    sorts in stream order, then member order (BIGINT-safe below 2**47 stream sequences)."""
    return (stream_seq << MEMBER_BITS) | member


def batch_subject(prefix: str, tenant: str, session: str) -> str:
    """``<prefix>.<tenant>.<session>.batch`` (ids are pattern-checked by the envelope)."""
    return f"{prefix}.{tenant}.{session}.{BATCH_KIND}"


def is_batch_subject(subject: str) -> bool:
    parts = subject.split(".")
    return len(parts) == 4 and parts[3] == BATCH_KIND


def batch_id(event_ids: Sequence[str]) -> str:
    """The batch's ``Nats-Msg-Id``: a digest of its members' event ids, in order."""
    return "vxb1-" + hashlib.sha256("\n".join(event_ids).encode()).hexdigest()


def encode_batch(members: Sequence[bytes]) -> bytes:
    """Join encoded envelopes; refuses a body over the bound or a member that would split."""
    if not members or len(members) > MAX_BATCH_FRAMES:
        raise EnvelopeError(f"a batch holds 1..{MAX_BATCH_FRAMES} members, not {len(members)}")
    body = SEPARATOR.join(members)
    if len(body) > MAX_BATCH_BYTES:
        raise EnvelopeError(f"batch is {len(body)} bytes; the limit is {MAX_BATCH_BYTES}")
    if any(SEPARATOR in m for m in members):  # memchr per member, not a count over the body
        raise EnvelopeError("a batch member contains a newline (not compact JSON)")
    return body


def batch_size(body: bytes) -> int:
    """How many members ``body`` frames (without splitting it)."""
    return body.count(SEPARATOR) + 1


def batch_headers(msg_id: str, members: int) -> dict[str, str]:
    return {"Nats-Msg-Id": msg_id, FORMAT_HEADER: BATCH_FORMAT, COUNT_HEADER: str(members)}


def split_batch(body: bytes, headers: Mapping[str, str] | None) -> list[bytes]:
    """The members of a batch body, or :class:`EnvelopeError` naming why the whole message is
    refused (bad format or count header, over a bound). Members are not decoded here."""
    headers = headers or {}
    fmt = headers.get(FORMAT_HEADER)
    if fmt is not None and fmt != BATCH_FORMAT:
        raise EnvelopeError("batch: unsupported format header")
    if len(body) > MAX_BATCH_BYTES:
        raise EnvelopeError(f"batch: body over {MAX_BATCH_BYTES} bytes")
    n = batch_size(body)
    if n > MAX_BATCH_FRAMES:
        raise EnvelopeError(f"batch: more than {MAX_BATCH_FRAMES} members")
    count = headers.get(COUNT_HEADER)
    if count is not None and count != str(n):
        raise EnvelopeError("batch: member count does not match its header")
    return body.split(SEPARATOR)
