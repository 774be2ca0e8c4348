"""The reply page in headless Chromium (Playwright on Debian's chromium, see tests/conftest.py):
render it, press endorse, check the record."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from accord.services.context import Context
from tests.integration.test_web import BARRY, TITLE, OpenRound, open_round
from tests.servers import serving


def test_member_renders_the_page_and_presses_endorse(ctx: Context, page: Page) -> None:
    rnd: OpenRound = open_round(ctx)
    with serving(ctx.settings) as base_url:
        page.goto(f"{base_url}/r/{rnd.token()}")
        expect(page).to_have_title(TITLE)
        expect(page.locator("h1")).to_have_text(TITLE)
        expect(page.locator(".fingerprint")).to_have_text(rnd.sha256)
        assert page.locator("form").count() == 1
        buttons = page.locator("form button[name=decision]")
        assert [buttons.nth(i).get_attribute("value") for i in range(buttons.count())] == [
            "endorse",
            "decline",
            "abstain",
        ]
        assert rnd.status()["tally"]["pending"] == 7  # rendering recorded nothing

        page.locator("button[value=endorse]").click()
        expect(page.locator("h1")).to_have_text("Your answer is recorded")
        expect(page.locator(".decision")).to_have_text("Endorse")

    assert rnd.status()["tally"] == {"endorse": 1, "decline": 0, "abstain": 0, "pending": 6}
    assert [(d.member_id, d.decision, d.channel) for d in rnd.decisions()] == [
        (rnd.members[BARRY], "endorse", "link")
    ]
