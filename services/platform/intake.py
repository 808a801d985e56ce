"""What a fetched JetStream message becomes: decoded events, or the reasons they cannot be.

Checked here, before any handler runs: the envelope contract (with the ingest bounds), and that
the subject names the envelope's tenant, session and kind (law 10).

A batch message (:mod:`schemas.batch`, subject ``<prefix>.<tenant>.<session>.batch``) becomes
one item per member: a member that does not decode, or whose envelope names another tenant or
session than the batch subject, is dead-lettered alone while its siblings are sealed. A batch
over a bound, with a format or count header that is not ours, is refused whole.

Item keys: several items share a stream sequence, so isolation, dead letters and the ordered
consumer's progress key an item by ``(stream sequence, member index)`` packed into one integer
(:func:`schemas.batch.item_key`), which sorts in stream order and, within a message, in member order.
"""

from __future__ import annotations

from dataclasses import dataclass

from nats.aio.msg import Msg

from schemas.batch import BATCH_KIND, is_batch_subject, item_key, split_batch
from schemas.envelope import Envelope, EnvelopeError, Limits, decode_envelope
from services.platform.deadletter import Letter, ids_from_subject

__all__ = ["Delivered", "Item", "decode_items", "item_key", "subject_mismatch"]


@dataclass(frozen=True)
class Delivered:
    stream_seq: int
    subject: str
    envelope: Envelope
    member: int = 0  # index within a batch message (0 for a single frame)

    @property
    def key(self) -> int:
        return item_key(self.stream_seq, self.member)


@dataclass(frozen=True)
class Item:
    """One event of a fetched message: decoded, or the reason it cannot be (then ``delivered``
    may be None). A single-frame message is one item (``member`` 0 of ``members`` 1)."""

    msg: Msg
    seq: int
    delivered: Delivered | None
    reason: str | None
    member: int = 0
    members: int = 1
    raw: bytes | None = None  # the member's own bytes (None: the whole message)

    @property
    def key(self) -> int:
        return item_key(self.seq, self.member)

    @property
    def last_of_message(self) -> bool:
        return self.member == self.members - 1

    def letter(self, reason: str) -> Letter:
        tenant, session = ids_from_subject(self.msg.subject)
        env = self.delivered.envelope if self.delivered else None
        if tenant is None and env is not None:
            tenant, session = env.tenant_id, env.session_id
        return Letter(self.seq, self.msg.subject, reason,
                      self.msg.data if self.raw is None else self.raw, tenant, session,
                      env.event_id if env else None, self.member)


def subject_mismatch(subject: str, env: Envelope) -> str | None:
    """Law 10: the subject (what a gateway credential may publish on) must name the envelope's
    tenant, session and kind; a frame claiming another tenant's ledger is refused. A batch
    subject names no kind (its members mix audio, events and system events)."""
    parts = subject.split(".")
    if len(parts) != 4:
        return "subject_mismatch: not <prefix>.<tenant>.<session>.<kind>"
    kind = BATCH_KIND if parts[3] == BATCH_KIND else env.kind
    wrong = [name for name, said, is_ in (("tenant", parts[1], env.tenant_id),
                                          ("session", parts[2], env.session_id),
                                          ("kind", parts[3], kind)) if said != is_]
    return f"subject_mismatch: {', '.join(wrong)}" if wrong else None


def decode_items(msg: Msg, limits: Limits | None) -> list[Item]:
    """The items of one message: one for a single frame, one per member for a batch."""
    seq = msg.metadata.sequence.stream
    if not is_batch_subject(msg.subject):
        return [_decode(msg, seq, msg.data, limits)]
    try:
        members = split_batch(msg.data, msg.headers)
    except EnvelopeError as exc:
        return [Item(msg, seq, None, str(exc))]
    n = len(members)
    return [_decode(msg, seq, data, limits, i, n) for i, data in enumerate(members)]


def _decode(msg: Msg, seq: int, data: bytes, limits: Limits | None, member: int = 0,
            members: int = 1) -> Item:
    raw = data if members > 1 else None
    try:
        env = decode_envelope(data, limits)
    except EnvelopeError as exc:
        return Item(msg, seq, None, str(exc), member, members, raw)
    return Item(msg, seq, Delivered(seq, msg.subject, env, member),
                subject_mismatch(msg.subject, env), member, members, raw)
