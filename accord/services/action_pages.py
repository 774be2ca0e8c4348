"""Actions as the console's board shows them: grouped by objective, filtered (one query
whatever their number); one action with its history and the transitions its state allows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from accord.services.actions import show_action, today
from accord.services.context import Context
from statemachines.actions import ACTION_LIFECYCLE, STATES, TERMINAL
from statemachines.errors import InvalidInput, NotFound
from storage.console_reads import BoardRow, board_rows


@dataclass(frozen=True)
class BoardAction:
    row: BoardRow
    overdue: bool


@dataclass(frozen=True)
class ObjectiveColumn:
    number: int
    title: str
    actions: list[BoardAction]


BOARD_PAGE = 200


@dataclass(frozen=True)
class Board:
    objectives: list[ObjectiveColumn]  # this page's actions, by objective
    counts: dict[str, int]  # every matching action by state, on all pages
    overdue: int
    page: int
    pages: int


def action_board(
    ctx: Context,
    *,
    state: str | None = None,
    overdue: bool = False,
    body: str | None = None,
    meeting_id: int | None = None,
    page: int = 1,
) -> Board:
    """The matching actions counted, and one page of them (200) shown by objective."""
    if page < 1:
        raise InvalidInput("pages are numbered from 1")
    if state is not None and state not in STATES:
        raise InvalidInput(f"unknown state '{state}' (known: {', '.join(STATES)})")
    on = today(ctx)
    with ctx.uow(readonly=True) as uow:
        canonical = None
        if body:
            canonical = uow.meetings.aliases().get(" ".join(body.split()).lower())
            if canonical is None:
                raise NotFound(f"no body named '{body}'")
        rows = board_rows(
            uow.connection,
            state=state,
            overdue_on=on if overdue else None,
            body=canonical,
            meeting_id=meeting_id,
        )
    columns: dict[int, ObjectiveColumn] = {}
    counts = dict.fromkeys(STATES, 0)
    late = 0
    shown = range((page - 1) * BOARD_PAGE, page * BOARD_PAGE)
    for index, row in enumerate(rows):
        is_late = row.due_on is not None and row.due_on < on and row.state not in TERMINAL
        late += is_late
        counts[row.state] += 1
        if index in shown:
            column = columns.setdefault(
                row.objective, ObjectiveColumn(row.objective, row.objective_title, [])
            )
            column.actions.append(BoardAction(row, is_late))
    pages = max(1, -(-len(rows) // BOARD_PAGE))
    return Board([columns[n] for n in sorted(columns)], counts, late, page, pages)


def action_page(ctx: Context, action_id: int) -> dict[str, Any]:
    """The action with its history, and `allowed`: the transitions its state allows."""
    action = show_action(ctx, action_id)
    action["allowed"] = ACTION_LIFECYCLE.allowed(action["state"])
    return action
