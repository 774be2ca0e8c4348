"""A members import from the console in Chromium: the upload lands on the job's page, which
moves to done by itself (htmx, with the page's CSP), passes axe, and links to the members."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import BrowserContext, expect

from tests.browser.conftest import log_in, screenshot, serious_violations
from tests.console.helpers import SECRETARIAT

HEADER = "name,email,organisation,groups,language,timezone\n"


def test_the_job_page_shows_progress_and_ends_by_itself(
    axe_context: BrowserContext, console_url: str, tmp_path: Path
) -> None:
    members = tmp_path / "members.csv"
    rows = "".join(f"Member {n},m{n}@example.org,City {n},Network,en,UTC\n" for n in range(10_000))
    members.write_text(HEADER + rows, encoding="utf-8")
    page = axe_context.new_page()
    log_in(page, console_url, SECRETARIAT)
    page.goto(f"{console_url}/console/members")
    page.get_by_label("Members file (.csv)").set_input_files(str(members))
    page.get_by_role("button", name="Import").click()
    page.wait_for_url(f"{console_url}/console/jobs/*")
    screenshot(page, "job")
    expect(page.get_by_role("heading", name="Done")).to_be_visible(timeout=60_000)
    expect(page.get_by_text("10000 created, 0 updated, 0 unchanged")).to_be_visible()
    assert serious_violations(page) == []
    screenshot(page, "job-done")
    page.get_by_role("link", name="Open the members list").click()
    expect(page.get_by_role("heading", name="10000 members")).to_be_visible()
