"""The reply page in headless Chromium: render it, press endorse, check the record.

Chromium is driven over the Chrome DevTools Protocol with the `websockets` package: no browser
library and no browser download. The test is skipped only when no chromium binary is installed
(Debian: `apt-get install chromium`).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.sync.client import ClientConnection, connect

from accord.services.context import Context
from tests.integration.test_web import BARRY, TITLE, OpenRound, open_round
from tests.servers import serving, wait_until

CHROMIUM = next(
    (path for name in ("chromium", "chromium-browser") if (path := shutil.which(name))), None
)
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium binary on PATH")
STEP_TIMEOUT = 10.0


class DevTools:
    """One page target, spoken to over CDP: commands wait for their answer, events are kept."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.last_id = 0
        self.events: list[dict[str, Any]] = []

    def _receive(self) -> dict[str, Any]:
        message: dict[str, Any] = json.loads(self.ws.recv(timeout=STEP_TIMEOUT))
        return message

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.last_id += 1
        self.ws.send(json.dumps({"id": self.last_id, "method": method, "params": params}))
        while True:
            message = self._receive()
            if message.get("id") == self.last_id:
                assert "error" not in message, message
                result: dict[str, Any] = message["result"]
                return result
            self.events.append(message)

    def wait_for(self, event: str) -> dict[str, Any]:
        while True:
            for message in self.events:
                if message.get("method") == event:
                    self.events.remove(message)
                    return message
            self.events.append(self._receive())

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        assert "exceptionDetails" not in result, result
        return result["result"].get("value")

    def open(self, url: str) -> None:
        self.events.clear()
        self.call("Page.navigate", url=url)
        self.wait_for("Page.loadEventFired")

    def click(self, selector: str) -> None:
        """A real mouse press and release on the element's centre, as a member's click."""
        where = self.evaluate(
            f"(() => {{ const r = document.querySelector({json.dumps(selector)})"
            ".getBoundingClientRect(); return {x: r.x + r.width / 2, y: r.y + r.height / 2}; })()"
        )
        for kind in ("mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", type=kind, button="left", clickCount=1, **where)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[DevTools]:
    """Headless Chromium on a throwaway profile, and a DevTools connection to its page."""
    profile = tmp_path / "chromium-profile"
    assert CHROMIUM is not None
    process = subprocess.Popen(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--remote-debugging-port=0",
            "--window-size=1000,1200",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        port_file = profile / "DevToolsActivePort"
        wait_until(lambda: port_file.exists() and port_file.read_text().count("\n") >= 1, "CDP")
        port = port_file.read_text().splitlines()[0]
        targets = httpx.get(f"http://127.0.0.1:{port}/json/list", timeout=STEP_TIMEOUT).json()
        page = next(t for t in targets if t["type"] == "page")
        with connect(page["webSocketDebuggerUrl"], max_size=None) as ws:
            devtools = DevTools(ws)
            devtools.call("Page.enable")
            yield devtools
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


def test_member_renders_the_page_and_presses_endorse(ctx: Context, browser: DevTools) -> None:
    rnd: OpenRound = open_round(ctx)
    with serving(ctx.settings) as base_url:
        browser.open(f"{base_url}/r/{rnd.token()}")
        shown = browser.evaluate(
            "({title: document.title, heading: document.querySelector('h1').textContent,"
            " fingerprint: document.querySelector('.fingerprint').textContent,"
            " forms: document.forms.length,"
            " buttons: [...document.querySelectorAll('form button[name=decision]')]"
            ".map(b => b.value)})"
        )
        assert shown == {
            "title": TITLE,
            "heading": TITLE,
            "fingerprint": rnd.sha256,
            "forms": 1,
            "buttons": ["endorse", "decline", "abstain"],
        }
        assert (
            rnd.status()["tally"]["pending"] == 7
        )  # rendering (and any prefetch) recorded nothing

        browser.click("button[value=endorse]")
        browser.wait_for("Page.loadEventFired")
        result = browser.evaluate(
            "({heading: document.querySelector('h1').textContent,"
            " decision: document.querySelector('.decision').textContent})"
        )
        assert result == {"heading": "Your answer is recorded", "decision": "Endorse"}

    assert rnd.status()["tally"] == {"endorse": 1, "decline": 0, "abstain": 0, "pending": 6}
    assert [(d.member_id, d.decision, d.channel) for d in rnd.decisions()] == [
        (rnd.members[BARRY], "endorse", "link")
    ]
