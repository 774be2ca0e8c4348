"""axe-core on every console page, in Chromium: no serious or critical violation. Screenshots of
the main pages when $CONSOLE_SCREENSHOTS is set (docs/console/)."""

from __future__ import annotations

from playwright.sync_api import BrowserContext, Page

from accord.services.actions import list_actions, move_action
from accord.services.answering import record_decision
from accord.services.context import Context
from accord.services.users import reset_password
from tests.browser.conftest import log_in, screenshot, serious_violations
from tests.conftest import SAMPLE_REPORT
from tests.console.helpers import SECRETARIAT
from tests.integration.test_web import BARRY, open_round

REVISED = "On International Migrants Day we stand side by side with every resident."


def spread_over_the_states(ctx: Context) -> None:
    """A few of the imported actions moved on, so the board's columns show something."""
    found = list_actions(ctx)
    for action in found[4:9]:
        move_action(ctx, action.id, "assess", outcome="accepted")
    for action in found[5:9]:
        move_action(ctx, action.id, "start")
    for action in found[7:9]:
        move_action(ctx, action.id, "complete")
    move_action(ctx, found[9].id, "drop", reason="Merged with the annual survey")


def check(page: Page, name: str) -> None:
    screenshot(page, name)
    assert serious_violations(page) == [], name


def test_every_page_passes_axe(ctx: Context, axe_context: BrowserContext, console_url: str) -> None:
    rnd = open_round(ctx)
    record_decision(
        ctx, round_id=rnd.round_id, member_id=rnd.members[BARRY], decision="endorse",
        comment="Bradford supports this.", channel="link",
    )  # fmt: skip
    gemma = rnd.members["gemma.pinyol@example.org"]
    record_decision(
        ctx, round_id=rnd.round_id, member_id=gemma, decision="decline",
        comment="Not this year.", channel="cli",
    )  # fmt: skip
    page = axe_context.new_page()
    page.set_content('<html lang="en"><title>t</title><main><input></main></html>')
    assert [v["id"] for v in serious_violations(page)] == ["label"]  # axe runs and sees
    base = f"{console_url}/console"

    page.goto(f"{base}/login")
    check(page, "login")
    page.get_by_role("button", name="Log in").click()  # empty: errors beside the fields
    check(page, "login-errors")
    link = reset_password(ctx, SECRETARIAT).url.replace(ctx.settings.public_url, console_url)
    page.goto(link)
    check(page, "password")

    log_in(page, console_url, SECRETARIAT)
    page.get_by_label("Language").select_option("fr")
    page.get_by_role("button", name="Change").click()
    check(page, "dashboard-fr")
    page.get_by_label("Langue").select_option("en")
    page.get_by_role("button", name="Changer").click()
    page.goto(f"{base}/reports")
    page.get_by_role("button", name="Upload and preview").click()  # no file: the error
    check(page, "reports")
    page.get_by_label("Report file").set_input_files(str(SAMPLE_REPORT))
    page.get_by_role("button", name="Upload and preview").click()
    check(page, "report-preview")
    page.get_by_role("button", name="Import this report").click()
    page.goto(f"{base}/")
    check(page, "dashboard")
    page.goto(f"{base}/statements")
    check(page, "statements")
    page.goto(f"{base}/statements/new")
    page.get_by_label("Title").fill("Human Rights Day")
    page.get_by_label("Kind").select_option("awareness-day")
    page.get_by_label("Text", exact=True).fill(
        "We recall the Universal Declaration.\n\nAll cities."
    )
    page.get_by_role("button", name="Preview").click()
    check(page, "statement-draft-preview")
    page.get_by_role("button", name="Save the draft").click()
    page.get_by_label("Group").select_option("Advisory Group")
    page.get_by_label("Deadline").fill("2023-10-20T18:00")
    page.get_by_role("button", name="Show members' local times").click()
    check(page, "statement-draft")
    page.goto(f"{base}/statements/{rnd.statement_id}")
    check(page, "statement-circulated")
    page.goto(f"{base}/statements/{rnd.statement_id}/revise")
    page.get_by_label("New text").fill(REVISED)
    page.get_by_role("button", name="Show the changes").click()
    check(page, "statement-revise-diff")
    page.goto(f"{base}/rounds/{rnd.round_id}")
    check(page, "round")
    spread_over_the_states(ctx)
    page.goto(f"{base}/actions")
    page.get_by_label("View", exact=True).select_option("state")
    page.get_by_role("button", name="Filter", exact=True).click()  # a GET form
    check(page, "actions")
    page.goto(f"{base}/actions?overdue=1")
    check(page, "actions-overdue")
    page.get_by_role("link", name="Advisory Group members to provide feedback").first.click()
    page.get_by_role("button", name="Assess").click()  # no outcome: the error beside it
    check(page, "action")
    page.get_by_label("Timeframe text").fill("by the end of March 2024 (tbc)")
    page.get_by_role("button", name="Read the date").click()
    check(page, "action-timeframe")
    page.goto(f"{base}/members?search=a")
    check(page, "members")
    page.goto(f"{base}/groups")
    check(page, "groups")
    page.goto(f"{base}/record/verify")
    check(page, "record")
    page.goto(f"{base}/rounds/999")
    check(page, "refused")
