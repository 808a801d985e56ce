"""The recorder SDK a voice gateway embeds.

    recorder = await Recorder.connect(settings, tenant_id="acme")
    async with recorder.session("call-123", Provider.OPENAI_REALTIME) as s:
        await s.client(frame_sent_to_provider)
        await s.server(frame_received_from_provider)
    await recorder.close()

Recording never waits on NATS: frames are stamped and queued; a background task publishes them
with ``Nats-Msg-Id = event_id`` and waits for the JetStream acks off the caller's path.
"""

from services.recorder.pipeline import RecorderStats
from services.recorder.sdk import Recorder, RecordingSession

__all__ = ["Recorder", "RecorderStats", "RecordingSession"]
