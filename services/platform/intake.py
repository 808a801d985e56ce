"""What a fetched JetStream message becomes: a decoded event, or the reason it cannot be one.

Checked here, before any handler runs: the envelope contract (with the ingest bounds), and that
the subject names the envelope's tenant, session and kind (law 10).
"""

from __future__ import annotations

from dataclasses import dataclass

from nats.aio.msg import Msg

from schemas.envelope import Envelope, EnvelopeError, Limits, decode_envelope
from services.platform.deadletter import Letter, ids_from_subject


@dataclass(frozen=True)
class Delivered:
    stream_seq: int
    subject: str
    envelope: Envelope


@dataclass(frozen=True)
class Item:
    """One fetched message: decoded, or the reason it cannot be (then ``delivered`` may be None)."""

    msg: Msg
    seq: int
    delivered: Delivered | None
    reason: str | None

    def letter(self, reason: str) -> Letter:
        tenant, session = ids_from_subject(self.msg.subject)
        env = self.delivered.envelope if self.delivered else None
        if tenant is None and env is not None:
            tenant, session = env.tenant_id, env.session_id
        return Letter(self.seq, self.msg.subject, reason, self.msg.data, tenant, session,
                      env.event_id if env else None)


def subject_mismatch(subject: str, env: Envelope) -> str | None:
    """Law 10: the subject (what a gateway credential may publish on) must name the envelope's
    tenant, session and kind; a frame claiming another tenant's ledger is refused."""
    parts = subject.split(".")
    if len(parts) != 4:
        return "subject_mismatch: not <prefix>.<tenant>.<session>.<kind>"
    wrong = [name for name, said, is_ in (("tenant", parts[1], env.tenant_id),
                                          ("session", parts[2], env.session_id),
                                          ("kind", parts[3], env.kind)) if said != is_]
    return f"subject_mismatch: {', '.join(wrong)}" if wrong else None


def decode_item(msg: Msg, limits: Limits | None) -> Item:
    seq = msg.metadata.sequence.stream
    try:
        env = decode_envelope(msg.data, limits)
    except EnvelopeError as exc:
        return Item(msg, seq, None, str(exc))
    return Item(msg, seq, Delivered(seq, msg.subject, env), subject_mismatch(msg.subject, env))
