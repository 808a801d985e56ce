"""What the raw stream holds for a session, frame by frame (batch members counted one by one)."""

from __future__ import annotations

from collections import Counter

from schemas.batch import is_batch_subject, split_batch
from schemas.envelope import decode_envelope
from services.platform.nats import connect
from services.platform.settings import Settings


async def stored_kinds(settings: Settings, tenant: str, session_id: str) -> dict[str, int]:
    """Frames per kind the stream holds for the session (a batch message counts its members)."""
    nc = await connect(settings, name="test-stream-frames")
    try:
        js = nc.jetstream()
        subject = f"{settings.subject_prefix}.{tenant}.{session_id}.>"
        info = await js.stream_info(settings.stream_name, subjects_filter=subject)
        total = sum((info.state.subjects or {}).values())
        sub = await js.subscribe(subject, ordered_consumer=True)
        kinds: Counter[str] = Counter()
        for _ in range(total):
            msg = await sub.next_msg(timeout=10)
            datas = split_batch(msg.data, msg.headers) if is_batch_subject(msg.subject) else \
                [msg.data]
            kinds.update(decode_envelope(d).kind for d in datas)
        await sub.unsubscribe()
        return dict(kinds)
    finally:
        await nc.close()


async def stored_frames(settings: Settings, tenant: str, session_id: str) -> int:
    return sum((await stored_kinds(settings, tenant, session_id)).values())
