"""Actions as the console's board shows them, whatever their number in a few queries (none per
row): counted by state and overdue, then one page of them by objective, or the first few of each
state in columns; one action with its history and the transitions its state allows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from accord.services.actions import ActionShown, body_name, show_action, today
from accord.services.context import Context
from statemachines.actions import ACTION_LIFECYCLE, STATES, is_overdue
from statemachines.errors import InvalidInput
from storage.action_reads import (
    BoardFilter,
    BoardRow,
    MeetingChoice,
    ObjectiveChoice,
    board_by_state,
    board_counts,
    board_page,
    meeting_choices,
    objective_choices,
)

BOARD_PAGE = 50  # actions a page of the "by objective" view
COLUMN_SHOWN = 20  # actions each column of the "by state" view shows before "show all"
VIEWS = ("objective", "state")


@dataclass(frozen=True)
class BoardAction:
    row: BoardRow
    overdue: bool


@dataclass(frozen=True)
class Column:
    """A heading's actions: an objective's in the "by objective" view, a state's in the other."""

    key: str  # the objective's number or the state
    title: str
    actions: list[BoardAction]
    total: int  # every matching action under this heading (a state column shows the first few)


@dataclass(frozen=True)
class BoardQuery:
    view: str = "objective"
    state: str | None = None
    overdue: bool = False
    body: str | None = None
    meeting_id: int | None = None
    objective: int | None = None
    page: int = 1


@dataclass(frozen=True)
class Board:
    view: str
    columns: list[Column]
    counts: dict[str, int]  # every matching action by state, on all pages
    late: dict[str, int]  # of those, the overdue ones by state
    page: int
    pages: int
    meetings: list[MeetingChoice] = field(default_factory=list)
    objectives: list[ObjectiveChoice] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def overdue(self) -> int:
        return sum(self.late.values())


def action_board(ctx: Context, query: BoardQuery) -> Board:
    """The matching actions counted by state, and those the view shows: one page (50) by
    objective, or the first 20 of each state."""
    _check(query)
    on = today(ctx)
    with ctx.uow(readonly=True) as uow:
        wanted = BoardFilter(
            state=query.state,
            overdue_on=on if query.overdue else None,
            body=body_name(uow, query.body) if query.body else None,
            meeting_id=query.meeting_id,
            objective=query.objective,
        )
        found = board_counts(uow.connection, wanted, on)
        counts = dict.fromkeys(STATES, 0) | {c.state: c.actions for c in found}
        late = dict.fromkeys(STATES, 0) | {c.state: c.overdue for c in found}
        pages = max(1, -(-sum(counts.values()) // BOARD_PAGE))
        if query.view == "state":
            rows = board_by_state(uow.connection, wanted, COLUMN_SHOWN)
        else:
            offset = (min(query.page, pages) - 1) * BOARD_PAGE
            rows = board_page(uow.connection, wanted, offset=offset, limit=BOARD_PAGE)
        meetings, objectives = meeting_choices(uow.connection), objective_choices(uow.connection)
    shown = [_on_board(row, on) for row in rows]
    columns = _by_state(shown, counts) if query.view == "state" else _by_objective(shown)
    page = min(query.page, pages)
    return Board(query.view, columns, counts, late, page, pages, meetings, objectives)


def _check(query: BoardQuery) -> None:
    if query.view not in VIEWS:
        raise InvalidInput(f"unknown view '{query.view}' (known: {', '.join(VIEWS)})")
    if query.page < 1:
        raise InvalidInput("pages are numbered from 1")
    if query.state is not None and query.state not in STATES:
        raise InvalidInput(f"unknown state '{query.state}' (known: {', '.join(STATES)})")


def _on_board(row: BoardRow, on: date) -> BoardAction:
    return BoardAction(row, is_overdue(row.state, row.due_on, on))


def _by_objective(shown: list[BoardAction]) -> list[Column]:
    columns: dict[int, Column] = {}
    for action in shown:
        number = action.row.objective
        column = columns.setdefault(number, Column(str(number), action.row.objective_title, [], 0))
        column.actions.append(action)
    return [Column(c.key, c.title, c.actions, len(c.actions)) for _, c in sorted(columns.items())]


def _by_state(shown: list[BoardAction], counts: dict[str, int]) -> list[Column]:
    return [
        Column(state, state, [a for a in shown if a.row.state == state], counts[state])
        for state in STATES
    ]


@dataclass(frozen=True)
class ActionPage:
    action: ActionShown
    allowed: list[str]  # the transitions its state allows


def action_page(ctx: Context, action_id: int) -> ActionPage:
    """The action with its history, and the transitions its state allows."""
    action = show_action(ctx, action_id)
    return ActionPage(action, list(ACTION_LIFECYCLE.allowed(action.state)))
