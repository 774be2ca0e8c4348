"""Actions as the console's board shows them: grouped by objective, filtered; one action with
its history and the transitions its state allows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from accord.services.actions import list_actions, show_action
from accord.services.context import Context
from statemachines.actions import ACTION_LIFECYCLE, STATES


@dataclass(frozen=True)
class ObjectiveColumn:
    number: int
    title: str
    actions: list[dict[str, Any]]


@dataclass(frozen=True)
class Board:
    objectives: list[ObjectiveColumn]
    counts: dict[str, int]  # shown actions by state
    overdue: int


def action_board(
    ctx: Context,
    *,
    state: str | None = None,
    overdue: bool = False,
    body: str | None = None,
    meeting_id: int | None = None,
) -> Board:
    found = list_actions(ctx, state=state, overdue=overdue, body=body, meeting_id=meeting_id)
    columns: dict[int, ObjectiveColumn] = {}
    for action in found:
        number = action["objective"]["number"]
        column = columns.setdefault(
            number, ObjectiveColumn(number, action["objective"]["title"], [])
        )
        column.actions.append(action)
    counts = {name: 0 for name in STATES}
    for action in found:
        counts[action["state"]] += 1
    return Board(
        [columns[n] for n in sorted(columns)], counts, sum(1 for a in found if a["overdue"])
    )


def action_page(ctx: Context, action_id: int) -> dict[str, Any]:
    """The action with its history, and `allowed`: the transitions its state allows."""
    action = show_action(ctx, action_id)
    action["allowed"] = ACTION_LIFECYCLE.allowed(action["state"])
    return action
