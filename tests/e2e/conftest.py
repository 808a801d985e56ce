"""Fixtures of the e2e tier: the reviewer console's world (built once per test run)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import pytest

from services.platform.settings import Settings
from tests.e2e.console_stack import World, build_world, serving
from tests.e2e.console_tab import ARGS, CHROMIUM


@pytest.fixture(scope="session")
def world(settings: Settings) -> Iterator[World]:
    """Two tenants, one simulated OpenAI call each through the whole pipeline, tokens of the
    first (reviewer, data, auditor, privacy), and the API with its console on a free port."""
    tenant, other = "t-" + secrets.token_hex(5), "t-" + secrets.token_hex(5)
    call, other_call, tokens = build_world(settings, tenant, other)
    with serving(settings) as url:
        yield World(url, tenant, other, call, other_call, tokens)


@pytest.fixture(scope="module")
def browser(world: World) -> Iterator[Any]:
    """Debian's chromium through Playwright: missing, the tests fail saying how to install it."""
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is not installed: run `apt-get install -y chromium` as "
                    "root (`make test` installs it when it runs as root)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()
