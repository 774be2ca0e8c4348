"""`accord actions ...` on SQLite and PostgreSQL: the lifecycle with notes and reasons, refusals
that change nothing, overdue on the clock, filters, and recurring actions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from accord.services.actions import list_actions, move_action, show_action
from accord.services.context import Context
from accord.services.reports import import_report
from accord.services.results import plain
from tests.cli import run
from tests.conftest import SAMPLE_REPORT
from tests.integration.test_report_import import one_line_error, table_counts

YEARLY = 18  # "Starting in 2024 and repeating every year"


def imported(ctx: Context, path: Path = SAMPLE_REPORT) -> dict[int, int]:
    """Import a report (through the service: set-up, not what is tested); ids by position."""
    return {action.position: action.id for action in import_report(ctx, path).actions}


def ok(*args: str | int) -> str:
    done = run("actions", *map(str, args))
    assert done.code == 0, done.stderr
    return done.stdout


def finish(ctx: Context, action_id: int) -> dict[str, Any]:
    """Assess as accepted, start and complete; the completed action."""
    move_action(ctx, action_id, "assess", outcome="accepted")
    move_action(ctx, action_id, "start")
    return plain(move_action(ctx, action_id, "complete"))


def test_the_lifecycle_with_notes_and_reasons_goes_into_the_record(ctx: Context) -> None:
    ids = imported(ctx)
    first = ids[1]
    assert ok("assess", first, "--outcome", "accepted", "--note", "Agreed by the group") == (
        f"action {first}: assessed\n"
    )
    ok("start", first, "--note", "Draft shared with two cities")
    ok("complete", first, "--note", "Sent to all coordinators")
    ok("reopen", first, "--note", "Coordinators asked for a French version")
    ok("complete", first)
    action = json.loads(ok("show", first, "--json"))
    assert (action["state"], action["assessment"]) == ("done", "accepted")
    assert action["last_note"] == "Coordinators asked for a French version"
    assert action["overdue"] is False  # done: never overdue
    history = [(h["action"], h["payload"]) for h in action["history"]]
    assert history == [
        ("assess", {"from": "proposed", "to": "assessed", "outcome": "accepted",
                    "note": "Agreed by the group"}),
        ("start", {"from": "assessed", "to": "in_progress",
                   "note": "Draft shared with two cities"}),
        ("complete", {"from": "in_progress", "to": "done", "note": "Sent to all coordinators"}),
        ("reopen", {"from": "done", "to": "in_progress",
                    "note": "Coordinators asked for a French version"}),
        ("complete", {"from": "in_progress", "to": "done", "note": None}),
    ]  # fmt: skip
    assert {(h["actor"], h["channel"]) for h in action["history"]} == {("secretariat", "cli")}

    ok("drop", ids[2], "--reason", "  Covered by the new Statement of Intent ")
    ok("assess", ids[3], "--outcome", "under_consideration")
    ok("reject", ids[3], "--reason", "No budget for videos")
    dropped, rejected = plain(show_action(ctx, ids[2])), plain(show_action(ctx, ids[3]))
    assert (dropped["state"], dropped["drop_reason"]) == (
        "dropped",
        "Covered by the new Statement of Intent",
    )
    assert rejected["history"][-1]["payload"] == {
        "from": "assessed",
        "to": "dropped",
        "reason": "No budget for videos",
        "note": None,
    }
    assert json.loads(run("audit", "verify", "--json").stdout)["ok"] is True


def _without_history(action: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in action.items() if key != "history"}


def test_refused_moves_say_why_and_change_nothing(ctx: Context) -> None:
    ids = imported(ctx)
    proposed, considered, done = ids[1], ids[2], ids[5]
    move_action(ctx, considered, "assess", outcome="under_consideration")
    finish(ctx, done)
    refusals = [
        (("start", proposed), "cannot start action in state 'proposed' "
                              "(allowed from 'proposed': assess, drop, reject)"),
        (("complete", proposed), "cannot complete action in state 'proposed'"),
        (("reopen", proposed), "cannot reopen action in state 'proposed'"),
        (("reject", done, "--reason", "late"), "cannot reject action in state 'done' "
                                               "(allowed from 'done': reopen)"),
        (("assess", proposed), "assess needs --outcome accepted or under_consideration"),
        (("assess", proposed, "--outcome", "maybe"), "assess needs --outcome accepted"),
        (("drop", proposed), "drop needs a reason"),
        (("drop", proposed, "--reason", "   "), "drop needs a reason"),
        (("reject", proposed), "reject needs a reason"),
        (("start", considered), "only an action assessed as accepted can start"),
        (("start", 999), "no action with id 999"),
        (("show", 999), "no action with id 999"),
    ]  # fmt: skip
    before = table_counts(ctx.settings.db_url)
    actions = {
        i: _without_history(plain(show_action(ctx, i))) for i in (proposed, considered, done)
    }
    for args, reason in refusals:
        line = one_line_error(run("actions", *map(str, args)))
        assert line.startswith(f"error: {reason}"), line
    assert table_counts(ctx.settings.db_url) == before
    assert {i: _without_history(plain(show_action(ctx, i))) for i in actions} == actions


def test_overdue_follows_the_clock_and_the_filters_combine(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = imported(ctx)
    position = {action_id: pos for pos, action_id in ids.items()}

    def positions(*args: str) -> list[int]:
        return [position[a["id"]] for a in json.loads(ok("list", *args, "--json"))]

    assert positions("--overdue") == [1, 3, 4, 9, 17]  # due before 2023-10-01 (ACCORD_NOW)
    move_action(ctx, ids[9], "drop", reason="Merged with the annual survey")
    assert positions("--overdue") == [1, 3, 4, 17]  # dropped: no longer overdue
    assert positions("--overdue", "--body", "Bradford") == [3, 4]
    assert positions("--body", "bradford") == [3, 4, 14]
    assert positions("--body", "ICC Spanish network") == [20]  # an alias of RECI
    assert positions("--body", "Members of the Advisory Group") == [17, 21]
    assert positions("--objective", "4") == [19, 20]
    assert positions("--state", "dropped") == [9]
    assert positions("--state", "proposed", "--objective", "6") == [21]
    text = ok("list", "--overdue")
    assert text.count("OVERDUE") == 4 and text.endswith("4 action(s)\n")

    monkeypatch.setenv("ACCORD_NOW", "2023-11-14T10:00:00")
    assert positions("--overdue") == [1, 2, 3, 4, 5, 11, 17, 19, 20]

    assert one_line_error(run("actions", "list", "--state", "finished")) == (
        "error: unknown state 'finished' (known: proposed, assessed, in_progress, done, dropped)"
    )
    assert one_line_error(run("actions", "list", "--body", "Atlantis")) == (
        "error: no body named 'Atlantis'"
    )


def test_completing_a_recurring_action_opens_its_next_occurrence(
    ctx: Context, tmp_path: Path
) -> None:
    ids = imported(ctx)
    yearly = ids[YEARLY]
    move_action(ctx, yearly, "assess", outcome="accepted")
    move_action(ctx, yearly, "start")
    output = ok("complete", yearly, "--note", "First welcome session held")
    following = next(a for a in plain(list_actions(ctx)) if a["previous_id"] == yearly)
    assert output == (
        f"action {yearly}: done\nopened occurrence 2 as action {following['id']} (due 2025-12-31)\n"
    )
    before = plain(show_action(ctx, yearly))
    assert (following["occurrence"], following["state"], following["assessment"]) == (
        2,
        "proposed",
        None,
    )
    for same in ("text", "objective", "responsible", "meeting_id"):
        assert following[same] == before[same], same
    timeframe = following["timeframe"]
    assert (timeframe["start"], timeframe["end"], timeframe["due"]) == (
        "2025-01-01",
        "2025-12-31",
        "2025-12-31",
    )
    assert (timeframe["raw"], timeframe["recurrence"]) == (
        "Starting in 2024 and repeating every year",
        "FREQ=YEARLY",
    )
    opened = plain(show_action(ctx, following["id"]))["history"]
    assert [(h["action"], h["payload"]["previous_id"]) for h in opened] == [
        ("open_occurrence", yearly)
    ]

    move_action(ctx, yearly, "reopen")
    again = plain(move_action(ctx, yearly, "complete"))  # its next occurrence is already open
    assert again["next_occurrence"] is None and len(plain(list_actions(ctx))) == 22

    monthly_report = tmp_path / "monthly.txt"
    monthly_report.write_text(
        SAMPLE_REPORT.read_text(encoding="utf-8")
        .replace("4-5 July 2023 – Strasbourg", "13-14 November 2023 – Strasbourg")
        .replace("Starting in 2024 and repeating every year", "Every month from March 2024"),
        encoding="utf-8",
    )
    monthly = imported(ctx, monthly_report)[YEARLY]
    windows = []
    for _ in range(2):
        following = finish(ctx, monthly)["next_occurrence"]
        windows.append((following["timeframe"]["start"], following["timeframe"]["due"]))
        monthly = following["id"]
    assert windows == [  # the last day of a month stays the last day of its month
        ("2024-04-01", "2024-04-30"),
        ("2024-05-01", "2024-05-31"),
    ]


def test_editing_a_timeframe_reads_it_again_and_records_it(ctx: Context) -> None:
    ids = imported(ctx)
    first = ids[1]
    before = plain(show_action(ctx, first))
    preview = json.loads(ok("edit", first, "--timeframe", "Q2 2024", "--dry-run", "--json"))
    assert preview["saved"] is False and preview["timeframe"]["due"] == "2024-06-30"
    assert preview["previous"]["raw"] == before["timeframe"]["raw"]
    assert plain(show_action(ctx, first))["timeframe"] == before["timeframe"]

    counts = table_counts(ctx.settings.db_url)
    refused = run("actions", "edit", str(first), "--timeframe", "when we can")
    assert one_line_error(refused).startswith("error: no date found in 'when we can'")
    assert table_counts(ctx.settings.db_url) == counts

    said = ok("edit", first, "--timeframe", "by end of March 2024 (tbc)")
    assert said.splitlines()[0] == (
        f"action {first}: 'by end of March 2024 (tbc)' reads as due 2024-03-31"
    )
    after = plain(show_action(ctx, first))
    assert (after["timeframe"]["due"], after["timeframe"]["tentative"]) == ("2024-03-31", True)
    last = after["history"][-1]
    assert (last["actor"], last["channel"], last["action"]) == (
        "secretariat",
        "cli",
        "edit_timeframe",
    )
    assert last["payload"]["due_before"] == before["timeframe"]["due"]
