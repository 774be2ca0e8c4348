"""The console as the secretariat uses it, in Chromium with the CSP enforced: log in by
keyboard, upload the sample report (preview, confirm), assess and start an action, draft a
statement with its preview, start a round, watch the dashboard's tally move (htmx) while a
member answers by link in another browser context, close the round, publish, download the
follow-up docx."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from accord.services.context import Context
from accord.services.members import import_members
from accord.services.results import plain
from accord.services.rounds import round_status
from tests.browser.conftest import log_in
from tests.conftest import FIXTURES, SAMPLE_REPORT
from tests.console.helpers import PASSWORD, SECRETARIAT, VIEWER
from tests.integration.test_web import OpenRound

TEXT = "On International Migrants Day we stand together.\n\nEvery city is invited to mark it."


def test_logging_in_with_the_keyboard_alone(page: Page, console_url: str) -> None:
    page.goto(f"{console_url}/console/")
    expect(page).to_have_url(f"{console_url}/console/login")
    page.keyboard.press("Tab")  # the skip link
    page.keyboard.press("Tab")  # the brand
    page.keyboard.press("Tab")
    expect(page.get_by_label("Email")).to_be_focused()
    page.keyboard.type(VIEWER)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()


def test_draft_circulate_watch_the_tally_close_and_publish(
    ctx: Context, page: Page, browser: Browser, console_url: str
) -> None:
    import_members(ctx, FIXTURES / "members.csv")
    log_in(page, console_url, SECRETARIAT)

    page.get_by_role("link", name="Reports").click()
    page.get_by_label("Report file").set_input_files(str(SAMPLE_REPORT))
    page.get_by_role("button", name="Upload and preview").click()
    expect(page.get_by_role("heading", name="Objective 1", exact=False).first).to_be_visible()
    page.get_by_role("button", name="Import this report").click()
    expect(page.get_by_role("heading", name="Actions", level=1)).to_be_visible()

    page.get_by_label("Overdue only").check()
    page.get_by_role("button", name="Filter").click()
    page.get_by_role("link", name="Advisory Group members to provide feedback").first.click()
    page.get_by_label("accepted").check()
    page.get_by_role("button", name="Assess").click()
    expect(page.locator("h1")).to_contain_text("assessed")
    page.get_by_role("button", name="Start").click()
    expect(page.locator("h1")).to_contain_text("in_progress")
    expect(page.get_by_role("cell", name="assess → assessed")).to_be_visible()

    page.get_by_role("link", name="Statements").click()
    page.get_by_role("link", name="Draft a statement").click()
    page.get_by_label("Title").fill("International Migrants Day")
    page.get_by_label("Kind").select_option("awareness-day")
    page.get_by_label("Text", exact=True).fill(TEXT)
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_text("Every city is invited to mark it.").last).to_be_visible()
    page.get_by_role("button", name="Save the draft").click()
    expect(page.get_by_role("heading", name="Text, version 1")).to_be_visible()

    page.get_by_label("Group").select_option("Advisory Group")
    page.get_by_label("Deadline").fill("2023-10-20T18:00")
    page.get_by_role("button", name="Start the round").click()  # a job: its page, then the round
    page.get_by_role("link", name="Open the round").click()
    expect(page.get_by_role("heading", name="Round 1")).to_be_visible()

    page.get_by_role("link", name="Dashboard").click()
    tally = page.locator('td.tally[data-round="1"]')
    expect(tally).to_contain_text("0 endorse")
    member = browser.new_context()
    status = plain(round_status(ctx, 1))
    with ctx.uow(readonly=True) as uow:
        members = {m.email: m.id for m in uow.members.list()}
    rnd = OpenRound(ctx, 1, 1, status["text_sha256"], members)
    link = rnd.token(deadline=datetime.fromisoformat(status["deadline"]))
    answer = member.new_page()
    answer.goto(f"{console_url}/r/{link}")
    answer.get_by_role("button", name="Endorse").click()
    expect(answer.get_by_role("heading", name="Your answer is recorded")).to_be_visible()
    member.close()
    expect(tally).to_contain_text("1 endorse", timeout=15_000)  # htmx polls every 5 s

    page.goto(f"{console_url}/console/rounds/1")
    for email in ("gemma.pinyol@example.org", "gregory.jaquet@example.org"):
        page.get_by_label("Member's email").fill(email)
        page.get_by_label("Answer", exact=True).select_option("endorse")
        page.get_by_label("Comment").fill("said yes by phone")
        page.get_by_role("button", name="Record the answer").click()
    page.get_by_label("Member's email").fill("ingrid.rasmussen@example.org")
    page.get_by_label("Answer", exact=True).select_option("endorse")
    page.get_by_role("button", name="Record the answer").click()
    expect(page.get_by_text("4 endorse")).to_be_visible()
    page.get_by_role("button", name="Close the round now").click()
    expect(page.locator("h1")).to_contain_text("closed")
    page.get_by_role("link", name="International Migrants Day").click()
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_role("link", name="The published page")).to_be_visible()
    page.get_by_role("link", name="The published page").click()
    expect(page.locator("h1")).to_contain_text("International Migrants Day")

    page.goto(f"{console_url}/console/reports")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download as Word (.docx)").click()
    assert download.value.suggested_filename == "followup.docx"
    assert Path(download.value.path()).read_bytes().startswith(b"PK")
