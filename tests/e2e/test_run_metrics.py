"""Acceptance (issue 12, item 8): `voxledger run` serves Prometheus metrics while calls are
recorded, and logs JSON lines. On a private stack: `run` (the supervisor and its children) and
`simulate`, then the endpoint is scraped until it shows sealed events and consumer lag series."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from services.bench.private import PrivateStack, stop
from services.platform.servers import free_port

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivateStack]:
    port = free_port()
    s = PrivateStack(tmp_path_factory.mktemp("metrics") / "vox",
                     extra_env={"VOXLEDGER_METRICS_LISTEN": f"127.0.0.1:{port}",
                                "VOXLEDGER_METRICS_POLL_S": "1"})
    s.up()
    yield s
    s.down()


def scrape(url: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    with urllib.request.urlopen(url, timeout=5) as response:
        body = response.read().decode()
    samples: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append((dict(sample.labels), sample.value))
    return samples


def test_metrics_show_sealed_events_and_lag_while_calls_are_recorded(stack: PrivateStack,
                                                                     tmp_path: Path) -> None:
    url = f"http://{stack.extra_env['VOXLEDGER_METRICS_LISTEN']}/metrics"
    log = tmp_path / "run.log"
    run = stack.run(log)
    try:
        stack.vox("simulate", "--provider", "twilio", "--sessions", "2", "--tenant", "acme",
                  timeout=600)
        deadline = time.monotonic() + 600
        samples: dict[str, list[tuple[dict[str, str], float]]] = {}
        while time.monotonic() < deadline:
            assert run.poll() is None, log.read_text()[-3000:]
            try:
                samples = scrape(url)
            except OSError:
                samples = {}
            sealed = sum(v for _, v in samples.get("voxledger_events_sealed_total", []))
            lag = {labels["consumer"] for labels, _ in
                   samples.get("voxledger_consumer_lag_messages", [])}
            if sealed > 0 and {"sealer", "catalog", "audio", "transcripts", "redaction"} <= lag:
                break
            time.sleep(0.5)
        else:
            raise AssertionError(f"metrics never showed sealed events and lag: {samples}\n"
                                 + log.read_text()[-3000:])
        for name in ("voxledger_checkpoint_age_seconds", "voxledger_recorder_spool_bytes",
                     "voxledger_recorder_gaps", "voxledger_worm_outbox_pending"):
            assert name in samples, name
        # No tenant (let alone a caller) in any label.
        assert all("acme" not in str(labels) for rows in samples.values() for labels, _ in rows)
    finally:
        stop(run)
    lines = [line for line in log.read_text().splitlines() if line.strip()]
    assert lines, "run logged nothing"
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    assert {"ts", "level", "logger", "msg"} <= set(records[0])
    assert any("metrics: serving" in r["msg"] for r in records)
