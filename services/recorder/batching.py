"""A session's open batch: frames recorded within ``batch_linger_ms`` go out as one message.

Pure bookkeeping (no clock, no I/O): the session adds encoded envelopes in seq order, asks
whether the next one still fits (``batch_max_frames`` members, the body bound of
:mod:`schemas.batch`), and turns the batch into the :class:`Message` that is queued, spooled and
published as one. A batch of one frame is sent as that frame alone, on its own subject with its
event id: the wire form every consumer has always read.
"""

from __future__ import annotations

from schemas.batch import MAX_BATCH_BYTES, batch_id, batch_subject, encode_batch
from services.recorder.spool import Message


class OpenBatch:
    def __init__(self, first_seq: int, first_subject: str) -> None:
        self.first_seq = first_seq
        self.first_subject = first_subject  # a lone frame's own subject
        self.members: list[bytes] = []
        self.event_ids: list[str] = []
        self.size = 0  # body bytes so far (separators included)

    def __len__(self) -> int:
        return len(self.members)

    def fits(self, length: int, max_frames: int) -> bool:
        """Can a member of ``length`` bytes join without passing either bound?"""
        sep = 1 if self.members else 0
        return len(self.members) < max_frames and self.size + sep + length <= MAX_BATCH_BYTES

    def add(self, event_id: str, data: bytes) -> None:
        self.size += len(data) + (1 if self.members else 0)
        self.members.append(data)
        self.event_ids.append(event_id)

    def message(self, prefix: str, tenant: str, session: str) -> Message:
        if len(self.members) == 1:
            return Message(self.first_subject, self.event_ids[0], self.members[0], 1)
        return Message(batch_subject(prefix, tenant, session), batch_id(self.event_ids),
                       encode_batch(self.members), len(self.members))
