"""The console's browser tests' tools: a recorded tab, screenshots, API look-ups (the oracle)."""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.console_stack import World

REPO = Path(__file__).resolve().parents[2]
SHOTS = REPO / "docs" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


class Tab:
    """A page that records console errors, uncaught exceptions and every response."""

    def __init__(self, browser: Any, width: int = 1280, height: int = 900) -> None:
        self.context = browser.new_context(viewport={"width": width, "height": height},
                                           accept_downloads=True)
        # Generous bounds: a shared 2-core machine may be busy with other suites.
        self.context.set_default_timeout(120_000)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.responses: list[Any] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("response", lambda r: self.responses.append(r))

    def sign_in(self, url: str, token: str, landing: str = "search") -> None:
        self.page.goto(url + "/console")
        self.page.get_by_label("API token").fill(token)
        self.page.get_by_role("button", name="Sign in").click()
        self.page.wait_for_url(f"**/console/{landing}")

    def search(self, words: str) -> None:
        self.page.get_by_label("Words spoken in the call").fill(words)
        self.page.get_by_role("button", name="Search").click()
        self.page.wait_for_selector("#results-h")

    def js(self, expr: str) -> Any:
        return self.page.evaluate(expr)

    def until(self, check: Callable[[], Any], timeout_s: float = 90.0) -> Any:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            got = check()
            if got:
                return got
            self.page.wait_for_timeout(100)
        raise AssertionError("the page did not reach the expected state")

    def unlabelled(self) -> list[str]:
        return list(self.js("""Array.from(document.querySelectorAll(
            'input:not([type=hidden]), select, textarea, button')).filter(el =>
            !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
            && !el.textContent.trim()).map(el => el.outerHTML)"""))

    def close(self) -> None:
        self.context.close()


def shot(tab: Tab, name: str, full: bool = False) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    tab.page.screenshot(path=str(SHOTS / name), full_page=full)


def api_get(world: World, role: str, path: str, **params: Any) -> Any:
    res = httpx.get(world.url + path, params=params, timeout=60,
                    headers={"Authorization": f"Bearer {world.tokens[role]}"})
    assert res.status_code == 200, res.text
    return res.json()


@contextlib.contextmanager
def signed_in(world: World, role: str) -> Iterator[tuple[httpx.Client, str]]:
    """An HTTP client signed in to the console as ``role``, and its CSRF value."""
    with httpx.Client(base_url=world.url, timeout=120) as c:
        form = c.get("/console/sign-in")
        pre = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert pre is not None
        assert c.post("/console/sign-in", data={"token": world.tokens[role],
                                                "csrf": pre.group(1)}).status_code == 303
        page = c.get("/console/search")
        csrf = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
        assert csrf is not None
        yield c, csrf.group(1)
