"""The actions board and an action's transitions from the console, over real HTTP."""

from __future__ import annotations

import pytest

from accord.services.actions import show_action
from accord.services.context import Context
from accord.services.reports import import_report
from tests.conftest import SAMPLE_REPORT
from tests.console.helpers import SECRETARIAT, Console


def test_the_board_filters_and_an_action_moves_from_its_forms(
    ctx: Context, console: Console
) -> None:
    first = import_report(ctx, SAMPLE_REPORT).actions[0]["id"]
    console.log_in(SECRETARIAT)
    board = console.http.get("/console/actions").text
    assert "Objective 1" in board and "overdue" in board
    overdue = console.http.get("/console/actions", params={"overdue": "1"}).text
    assert 0 < overdue.count('<li class="is-overdue"') == overdue.count('<li class="')
    bad = console.http.get("/console/actions", params={"state": "finished", "body": "Nowhere"})
    assert bad.status_code == 400 and 'id="state-error"' in bad.text
    unknown = console.http.get("/console/actions", params={"body": "Nowhere"})
    assert 'id="body-error">no body named' in unknown.text

    page = f"/console/actions/{first}"
    missing = console.post(f"{page}/move", {"trigger": "assess"}, page=page)
    assert missing.status_code == 400 and 'id="outcome-error"' in missing.text
    assessed = console.post(
        f"{page}/move", {"trigger": "assess", "outcome": "accepted", "note": "agreed"}, page=page
    )
    assert assessed.status_code == 303
    assert console.post(f"{page}/move", {"trigger": "start"}, page=page).status_code == 303
    no_reason = console.post(f"{page}/move", {"trigger": "drop"}, page=page)
    assert 'id="reason-drop-error">Give a reason.' in no_reason.text
    refused = console.post(f"{page}/move", {"trigger": "reopen"}, page=page)
    assert refused.status_code == 400 and 'id="move-reopen-error"' in refused.text

    action = show_action(ctx, first)
    assert action["state"] == "in_progress"
    assert [(h["actor"], h["channel"], h["action"]) for h in action["history"]] == [
        (SECRETARIAT, "console", "assess"),
        (SECRETARIAT, "console", "start"),
    ]
    shown = console.http.get(page).text
    assert "agreed" in shown and "Complete" in shown and "Drop" in shown


def test_the_board_pages_its_actions_and_counts_them_all(
    ctx: Context, console: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("accord.services.action_pages.BOARD_PAGE", 5)
    total = len(import_report(ctx, SAMPLE_REPORT).actions)
    console.log_in(SECRETARIAT)
    first = console.http.get("/console/actions").text
    assert first.count('<li class="') == 5 and f"proposed: {total}" in first
    last_page = -(-total // 5)
    assert f"Page 1 of {last_page}" in first
    last = console.http.get("/console/actions", params={"page": last_page}).text
    assert last.count('<li class="') == total - 5 * (last_page - 1)
