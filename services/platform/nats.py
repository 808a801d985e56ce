"""NATS connection and JetStream stream provisioning.

Subjects: ``<prefix>.<tenant>.<session>.<kind>`` with kind ``audio`` | ``event`` | ``system`` for a
single frame, or ``batch`` for several frames of one session (:mod:`schemas.batch`, what the
recorder SDK publishes). One stream holds them all; NATS is the buffer (bounded ``max_age``), the
ledger is the record.
"""

from __future__ import annotations

import nats
from nats.aio.client import Client
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError

from schemas.envelope import MAX_ENVELOPE_BYTES
from services.platform.settings import Settings, SettingsError


async def connect(settings: Settings, name: str = "voxledger", **kwargs: object) -> Client:
    if not settings.nats_url:
        raise SettingsError("VOXLEDGER_NATS_URL: not set; run `voxledger up` or set it")
    options: dict[str, object] = {"name": name, "max_reconnect_attempts": -1,
                                  "reconnect_time_wait": 0.5, "connect_timeout": 5}
    if settings.nats_user:
        options["user"] = settings.nats_user
    if settings.nats_password:
        options["password"] = settings.nats_password.get_secret_value()
    options.update(kwargs)
    return await nats.connect(settings.nats_url, **options)  # type: ignore[arg-type,unused-ignore]


# 1 MiB envelopes (schemas.envelope.MAX_ENVELOPE_BYTES) and 64 KiB of headers: NATS refuses a
# larger message at publish, before it costs the server or any consumer memory.
NATS_MAX_PAYLOAD = MAX_ENVELOPE_BYTES + 64 * 1024


def stream_config(settings: Settings) -> StreamConfig:
    return StreamConfig(
        name=settings.stream_name,
        subjects=[f"{settings.subject_prefix}.>"],
        storage=StorageType.FILE,
        retention=RetentionPolicy.LIMITS,
        discard=DiscardPolicy.OLD,
        max_age=settings.stream_max_age_days * 86400,
        duplicate_window=settings.stream_duplicate_window_s,
        num_replicas=settings.stream_replicas,
        # The envelope limit plus room for headers (Nats-Msg-Id): nothing larger is stored.
        max_msg_size=NATS_MAX_PAYLOAD,
    )


async def ensure_stream(settings: Settings, nc: Client) -> str:
    js = nc.jetstream()
    config = stream_config(settings)
    try:
        await js.stream_info(settings.stream_name)
    except NotFoundError:
        await js.add_stream(config)
        return "created"
    await js.update_stream(config)
    return "updated"
