"""The console in Chromium: a served app with users and data, an axe-core check, screenshots.

axe-core (npm `axe-core`, MPL-2.0) is vendored as tests/browser/axe.min.js and injected into
the page; its context bypasses the page's CSP only to let that script in (the story tests run
with the CSP enforced). Screenshots go to $CONSOLE_SCREENSHOTS when it is set (the
README's pictures under docs/console/ are made so)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page

from accord.services.context import Context
from tests.conftest import sqlite_copy
from tests.console.conftest import cheap_argon2  # noqa: F401  (the same cheap hashes)
from tests.console.helpers import PASSWORD, make_users
from tests.servers import serving

AXE = Path(__file__).parent / "axe.min.js"


@pytest.fixture
def db_url(sqlite_template: Path, tmp_path: Path) -> str:
    """SQLite only: what the browser checks is the pages; the console's routes are tested over
    HTTP on both databases (tests/console), and a browser run costs about 15 s."""
    return sqlite_copy(sqlite_template, tmp_path)


@pytest.fixture
def console_url(ctx: Context) -> Iterator[str]:
    make_users(ctx)
    with serving(ctx.settings) as base:
        yield base


@pytest.fixture
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_context_args, "viewport": {"width": 1280, "height": 900}, "locale": "en-GB"}


def log_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/console/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/console/")


@pytest.fixture
def axe_context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900})
    yield context
    context.close()


def serious_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is now."""
    page.add_script_tag(path=str(AXE))
    found: list[dict[str, Any]] = page.evaluate(
        "async () => (await axe.run(document)).violations"
        ".filter(v => v.impact === 'serious' || v.impact === 'critical')"
        ".map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.html).slice(0, 3)}))"
    )
    return found


def screenshot(page: Page, name: str) -> None:
    folder = os.environ.get("CONSOLE_SCREENSHOTS")  # absolute: tests run in a tmp dir
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)
