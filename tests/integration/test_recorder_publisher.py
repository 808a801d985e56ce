"""The recorder's JetStream publisher against the real server: one call's messages are acked
together, an error reply or a subject no stream takes counts as not acknowledged, a republished
batch id is dropped by JetStream (the spool's replay), and each message is reported alone."""

from __future__ import annotations

import secrets

import pytest
import uuid_utils

from schemas.batch import batch_id, batch_subject, encode_batch
from services.platform.nats import connect
from services.platform.settings import Settings
from services.recorder.publisher import NatsPublisher
from services.recorder.spool import Message

pytestmark = pytest.mark.integration


def _frame(tenant: str, session: str, seq: int) -> tuple[str, bytes]:
    event_id = str(uuid_utils.uuid7())
    data = (f'{{"schema_version":1,"event_id":"{event_id}","tenant_id":"{tenant}",'
            f'"session_id":"{session}","seq":{seq},"provider":"custom","direction":"client",'
            f'"type":"x","recorded_at":"2026-12-01T10:00:00Z","mono_ns":{seq},'
            f'"payload":{{"type":"x"}}}}').encode()
    return event_id, data


async def test_acks_errors_and_replays_are_reported_per_message(settings: Settings) -> None:
    tenant, session = "p-" + secrets.token_hex(4), "s-" + secrets.token_hex(4)
    nc = await connect(settings, name="test-recorder-publisher")
    try:
        frames = [_frame(tenant, session, seq) for seq in range(3)]
        batch = Message(batch_subject(settings.subject_prefix, tenant, session),
                        batch_id([e for e, _ in frames[:2]]),
                        encode_batch([d for _, d in frames[:2]]), 2)
        lone = Message(f"{settings.subject_prefix}.{tenant}.{session}.event", frames[2][0],
                       frames[2][1])
        nowhere = Message(f"vxtest-{secrets.token_hex(4)}.nothing", "n-1", b"{}")
        publisher = NatsPublisher(nc, settings.stream_name)
        assert await publisher.publish([batch, nowhere, lone], 10.0) == [True, False, True]
        # The spool's replay: same Nats-Msg-Id, acknowledged, and JetStream drops the copy.
        assert await publisher.publish([batch, lone], 10.0) == [True, True]
        js = nc.jetstream()
        for msg in (batch, lone):
            ack = await js.publish(msg.subject, msg.data, headers={"Nats-Msg-Id": msg.event_id})
            assert ack.duplicate
        # Another stream expected: the server answers with an error, not an ack.
        wrong = NatsPublisher(nc, "NOT-" + settings.stream_name)
        assert await wrong.publish([lone], 10.0) == [False]
        assert await publisher.publish([], 1.0) == []
    finally:
        await nc.close()
