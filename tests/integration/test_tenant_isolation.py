"""Acceptance (issue 12, law 10): a tenant's gateway credential publishes its own subjects only.

With tenant A's credential, against the real embedded NATS: subscribing to ``voice.>`` or
``voice.B.>`` is refused (and nothing of B's arrives), publishing to ``voice.B.…`` is refused,
deleting or purging the stream is refused; publishing to ``voice.A.…`` works and is sealed. A
disabled tenant's credential stops working.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable

import nats
import pytest
from nats.aio.client import Client
from nats.aio.msg import Msg

from schemas.envelope import Provider
from services.platform.gateway import accepts, add_tenant, as_gateway, disable_tenant
from services.platform.nats import connect
from services.platform.settings import Settings
from services.platform.tenants import GatewayCredential, gateway_inbox_prefix
from services.recorder import Recorder
from tests.integration.ledger_helpers import TenantSealer, publish_small_session

pytestmark = pytest.mark.integration


def _tenant() -> str:
    return "t-" + secrets.token_hex(5)


class Gateway:
    """A client connected with a tenant credential; collects the server's async errors."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.received: list[str] = []
        self.nc: Client | None = None

    async def connect(self, settings: Settings, cred: GatewayCredential) -> Client:
        async def on_error(exc: Exception) -> None:
            self.errors.append(str(exc))

        self.nc = await nats.connect(settings.nats_url or "", user=cred.nats_user,
                                     password=cred.nats_password, error_cb=on_error,
                                     inbox_prefix=gateway_inbox_prefix(cred.tenant),
                                     max_reconnect_attempts=0, allow_reconnect=False)
        return self.nc

    async def on_msg(self, msg: Msg) -> None:
        self.received.append(msg.subject)

    async def wait_error(self, predicate: Callable[[str], bool], timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [e for e in self.errors if predicate(e)]
            if found:
                return found[0]
            await asyncio.sleep(0.05)
        raise AssertionError(f"no matching server error; got {self.errors}")


def violation(kind: str, subject: str) -> Callable[[str], bool]:
    want = f"permissions violation for {kind} to".lower()
    return lambda e: want in e.lower() and subject.lower() in e.lower()


async def test_a_gateway_credential_is_publish_only_for_its_tenant(settings: Settings) -> None:
    a, b = _tenant(), _tenant()
    cred_a, created = await add_tenant(settings, a)
    assert created and cred_a.nats_user == f"gw-{a}" and cred_a.tenant == a
    gw = Gateway()
    nc = await gw.connect(settings, cred_a)
    pipeline = await connect(settings, name="test-isolation-pipeline")
    try:
        # Reading: every voice subject, and B's in particular, is refused by the server.
        await nc.subscribe(f"{settings.subject_prefix}.>", cb=gw.on_msg)
        await gw.wait_error(violation("Subscription", f'"{settings.subject_prefix}.>"'))
        await nc.subscribe(f"{settings.subject_prefix}.{b}.>", cb=gw.on_msg)
        await gw.wait_error(violation("Subscription", f'"{settings.subject_prefix}.{b}.>"'))
        # ... and indeed nothing of B's arrives (the pipeline's user may publish B's frames).
        await publish_small_session(settings, b, "s-b", frames=2)
        await nc.flush(timeout=10)
        await pipeline.flush(timeout=10)
        assert gw.received == []

        js = nc.jetstream()
        # Forging B's frames: the publish never reaches the stream.
        before = (await pipeline.jetstream().stream_info(settings.stream_name)).state.messages
        with pytest.raises((TimeoutError, nats.errors.NoRespondersError)):
            await js.publish(f"{settings.subject_prefix}.{b}.s-forged.event", b"{}", timeout=2)
        await gw.wait_error(violation("Publish", f"{settings.subject_prefix}.{b}.s-forged.event"))

        # Managing the stream: delete and purge are JetStream API requests it may not send.
        with pytest.raises((TimeoutError, nats.errors.NoRespondersError)):
            await js.delete_stream(settings.stream_name)
        await gw.wait_error(violation("Publish", f"$JS.API.STREAM.DELETE.{settings.stream_name}"))
        with pytest.raises((TimeoutError, nats.errors.NoRespondersError)):
            await js.purge_stream(settings.stream_name)
        await gw.wait_error(violation("Publish", f"$JS.API.STREAM.PURGE.{settings.stream_name}"))
        info = await pipeline.jetstream().stream_info(settings.stream_name)
        assert info.state.messages >= before > 0
        # Nor may it listen on other clients' inboxes (where the pipeline's fetched frames go).
        await nc.subscribe("_INBOX.>", cb=gw.on_msg)
        await gw.wait_error(violation("Subscription", '"_INBOX.>"'))

        # Its own subjects: acknowledged by JetStream.
        ack = await js.publish(f"{settings.subject_prefix}.{a}.s-probe.event", b"{}", timeout=10)
        assert ack.stream == settings.stream_name and ack.seq > 0
    finally:
        await nc.close()
        await pipeline.close()


async def test_the_tenants_frames_published_with_its_credential_are_sealed(settings: Settings
                                                                          ) -> None:
    a = _tenant()
    gateway_settings = await as_gateway(settings, a)  # what `simulate` and `import` do
    assert gateway_settings.nats_user == f"gw-{a}"
    cred, _ = await add_tenant(settings, a)
    sealer = TenantSealer(settings, a)
    await sealer.start()
    try:
        published = await publish_small_session(gateway_settings, a, "s-a")
        # The SDK handed the credential directly, as a gateway given `tenants add --json` would.
        rec = await Recorder.connect(settings, a, credential=cred)
        async with rec.session("s-b", Provider.CUSTOM) as s:
            await s.client({"type": "hello"})
            published += s.next_seq + 1
        await rec.close()
        # acks reached the tenant's own inbox: nothing had to be spilled and retried
        assert rec.stats.dropped == 0 and rec.stats.spilled == 0 and rec.stats.published > 0
        await sealer.wait_for(published)
    finally:
        await sealer.stop()
    try:
        report = await sealer.verify()
        assert report.ok, [str(e) for e in report.errors]
    finally:
        await sealer.close()


async def test_a_disabled_tenant_can_no_longer_connect(settings: Settings) -> None:
    a = _tenant()
    cred, _ = await add_tenant(settings, a)
    url = settings.nats_url or ""
    assert accepts(url, cred.nats_user, cred.nats_password)
    assert disable_tenant(settings, a)
    deadline = time.monotonic() + 30
    while accepts(url, cred.nats_user, cred.nats_password) and time.monotonic() < deadline:
        await asyncio.sleep(0.2)  # the reload is asynchronous
    assert not accepts(url, cred.nats_user, cred.nats_password)
    assert accepts(url, settings.nats_user or "", settings.nats_password.get_secret_value()
                   if settings.nats_password else "")  # the pipeline is untouched
    again, created = await add_tenant(settings, a)  # re-enabled: a new password, the old one dead
    assert created and again.nats_password != cred.nats_password
    assert accepts(url, again.nats_user, again.nats_password)
    assert not accepts(url, cred.nats_user, cred.nats_password)
