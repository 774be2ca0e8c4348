"""The actions board and an action's transitions from the console, over real HTTP."""

from __future__ import annotations

import pytest

from accord.services.actions import move_action, show_action
from accord.services.context import Context
from accord.services.reports import import_report
from tests.conftest import SAMPLE_REPORT
from tests.console.helpers import SECRETARIAT, Console


def test_the_board_filters_and_an_action_moves_from_its_forms(
    ctx: Context, console: Console
) -> None:
    first = import_report(ctx, SAMPLE_REPORT).actions[0].id
    console.log_in(SECRETARIAT)
    board = console.http.get("/console/actions").text
    assert "Objective 1" in board and "overdue" in board
    overdue = console.http.get("/console/actions", params={"overdue": "1"}).text
    cards = overdue.count('<li class="action-card')
    assert 0 < overdue.count('<li class="action-card is-overdue"') == cards
    assert overdue.count("Overdue since ") == cards  # said in words, not by colour alone
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
    assert action.state == "in_progress"
    assert [(h.actor, h.channel, h.action) for h in action.history] == [
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
    assert first.count('<li class="action-card') == 5 and f"proposed: {total}" in first
    last_page = -(-total // 5)
    assert f"Page 1 of {last_page}" in first
    last = console.http.get("/console/actions", params={"page": last_page}).text
    assert last.count('<li class="action-card') == total - 5 * (last_page - 1)


def test_the_board_by_state_shows_a_column_per_state_with_the_first_few(
    ctx: Context, console: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("accord.services.action_pages.COLUMN_SHOWN", 3)
    actions = import_report(ctx, SAMPLE_REPORT).actions
    first = actions[0].id
    move_action(ctx, first, "assess", outcome="accepted")
    console.log_in(SECRETARIAT)
    board = console.http.get("/console/actions", params={"view": "state"}).text
    for state in ("proposed", "assessed", "in progress", "done", "dropped"):
        assert f'<span class="state state-{state.replace(" ", "_")}">{state}</span>' in board
    assert board.count('<li class="action-card') == 3 + 1
    assert f"Show all {len(actions) - 1}" in board and "view=objective&amp;state=proposed" in board
    assert f'href="/console/actions/{first}"' in board


def test_the_board_filters_by_objective_and_meeting(ctx: Context, console: Console) -> None:
    actions = import_report(ctx, SAMPLE_REPORT).actions
    second = [a for a in actions if a.objective.number == 2]
    console.log_in(SECRETARIAT)
    board = console.http.get("/console/actions", params={"objective": "2"}).text
    assert board.count('<li class="action-card') == len(second) > 0
    meeting = actions[0].meeting_id
    assert (
        f'<option value="{meeting}" selected>'
        in console.http.get("/console/actions", params={"meeting": str(meeting)}).text
    )
    bad = console.http.get("/console/actions", params={"objective": "two", "view": "grid"})
    assert bad.status_code == 400
    assert 'id="objective-error"' in bad.text and 'id="view-error"' in bad.text


def test_a_timeframe_edit_shows_the_date_it_read_and_is_recorded(
    ctx: Context, console: Console
) -> None:
    first = import_report(ctx, SAMPLE_REPORT).actions[0].id
    before = show_action(ctx, first)
    console.log_in(SECRETARIAT)
    page = f"/console/actions/{first}"
    shown = console.post(
        f"{page}/timeframe", {"text": "by end of March 2024 (tbc)", "do": "preview"}, page=page
    )
    assert shown.status_code == 200 and "2024-03-31" in shown.text and "Tentative" in shown.text
    assert show_action(ctx, first).timeframe == before.timeframe  # a preview saves nothing

    bad = console.post(f"{page}/timeframe", {"text": "when we can", "do": "save"}, page=page)
    assert bad.status_code == 400 and 'id="timeframe-error">no date found' in bad.text
    assert show_action(ctx, first).timeframe == before.timeframe

    saved = console.post(f"{page}/timeframe", {"text": "by March 2024", "do": "save"}, page=page)
    assert saved.status_code == 303
    after = show_action(ctx, first)
    assert after.timeframe.raw == "by March 2024"
    assert after.timeframe.due == "2024-03-31"
    last = after.history[-1]
    assert (last.actor, last.channel, last.action) == (
        SECRETARIAT,
        "console",
        "edit_timeframe",
    )
    assert last.payload["from"] == before.timeframe.raw
    assert "Timeframe saved: due 2024-03-31." in console.http.get(saved.headers["location"]).text
