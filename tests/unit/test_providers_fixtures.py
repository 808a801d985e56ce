"""Every example payload in wire-formats.md becomes the right timeline item (table-driven).

Fixtures are the verbatim payloads (tests/fixtures/providers/*.json). The few that the source
abbreviates ("no+JhoaJjpz...") or fills with a placeholder are not base64: those must become a
typed frame error naming the field, and their de-abbreviated twins must become audio chunks.
"""

from __future__ import annotations

from typing import Any

import pytest

from services.providers import Timeline, interpret
from tests.unit.providers_support import env, load

CASES = [case for name in ("openai", "twilio", "gemini", "elevenlabs") for case in load(name)]


def kinds(tl: Timeline) -> set[str]:
    out = {f"chunk:{c.track}" for c in tl.chunks}
    out |= {f"turn:{t.speaker}" for t in tl.turns}
    out |= {"tool"} if tl.tool_calls else set()
    out |= {"config"} if [c for c in tl.configs if c.source != "session.started"] else set()
    out |= {"usage"} if tl.usage else set()
    out |= {"truncation"} if tl.truncations else set()
    out |= {"provider_error"} if tl.provider_errors else set()
    out |= {"marker"} if tl.markers else set()
    out |= {f"frame_error:{e.reason}" for e in tl.frame_errors}
    out |= {f"unknown:{u.type}" for u in tl.unknown}
    return out


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_example_payload_interprets_to_expected_items(case: dict[str, Any]) -> None:
    tl = interpret([env(0, case["provider"], case["direction"], case["frame"], 5.0)])
    assert kinds(tl) == set(case["expect"])


def test_every_provider_has_fixtures() -> None:
    assert {c["provider"] for c in CASES} == {
        "openai-realtime", "openai-realtime-beta", "twilio-media", "gemini-live", "elevenlabs"}
    assert len(CASES) >= 90


def by_name(name: str) -> dict[str, Any]:
    return next(c for c in CASES if c["name"] == name)


def test_openai_texts_and_formats_are_read() -> None:
    tl = interpret([env(i, c["provider"], c["direction"], c["frame"], float(i)) for i, c in
                    enumerate([by_name("wf-block27-ga-session.created"),
                               by_name("wf-block7-beta-conversation.item.input_audio_transcription"
                                       ".completed"),
                               by_name("wf-block12-beta-response.audio_transcript.done"),
                               by_name("wf-block14-beta-response.function_call_arguments.done")])])
    assert tl.configs[0].output_format is not None
    assert tl.configs[0].output_format.sample_rate == 24000
    assert tl.configs[0].voice == "marin"
    assert tl.turn("msg_003") is not None
    assert tl.turn("msg_003").transcript == "Hello, how are you?"  # type: ignore[union-attr]
    assert tl.turn("msg_008").transcript == "Hello, how can I assist you today?"  # type: ignore[union-attr]
    assert tl.tool_calls[0].arguments == '{"location": "San Francisco"}'
    assert not tl.frame_errors


def test_dtmf_digit_and_payload_text_never_reach_errors_or_markers() -> None:
    bad = {"event": "media", "media": {"track": "inbound", "payload": "secret card 4111!!"}}
    tl = interpret([env(0, "twilio-media", "server", bad),
                    env(1, "twilio-media", "server", by_name("wf-block48-dtmf-server")["frame"])])
    rendered = repr(tl)
    assert "4111" not in rendered and "secret" not in rendered
    assert tl.frame_errors[0].reason == "invalid_base64:media.payload"
    assert [m.kind for m in tl.markers] == ["dtmf"] and tl.markers[0].detail is None
