"""What the console's dashboard shows: open rounds with their tallies and time left, actions
overdue or due soon, the next meeting, the decision record's last entries."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from accord.services.actions import today
from accord.services.context import Context
from storage.console_reads import (
    DueActionRow,
    OpenRoundRow,
    RecordRow,
    actions_due_before,
    last_record_entries,
    next_meeting_on,
    open_rounds,
)

SOON = timedelta(days=14)
DUE_SHOWN = 20
RECORD_SHOWN = 10
PREFECT_UI = "http://127.0.0.1:4200"


@dataclass(frozen=True)
class RoundOnBoard:
    row: OpenRoundRow
    time_left: timedelta  # negative once the deadline has passed (the sweep closes it)

    @property
    def answered(self) -> int:
        return self.row.endorse + self.row.decline + self.row.abstain

    @property
    def recipients(self) -> int:
        return self.answered + self.row.pending


@dataclass(frozen=True)
class ActionOnBoard:
    row: DueActionRow
    overdue: bool


@dataclass(frozen=True)
class NextMeeting:
    on: date
    body: str


@dataclass(frozen=True)
class Dashboard:
    now: datetime
    rounds: list[RoundOnBoard]
    actions: list[ActionOnBoard]
    next_meeting: NextMeeting | None
    record: list[RecordRow]
    flow_runs_url: str


def round_boards(ctx: Context) -> list[RoundOnBoard]:
    """Open rounds, soonest deadline first, with their kept tallies (one query)."""
    now = ctx.now()
    with ctx.uow(readonly=True) as uow:
        return [RoundOnBoard(row, row.deadline - now) for row in open_rounds(uow.connection)]


def dashboard(ctx: Context) -> Dashboard:
    on = today(ctx)
    with ctx.uow(readonly=True) as uow:
        due = actions_due_before(uow.connection, on + SOON, DUE_SHOWN)
        meeting = next_meeting_on(uow.connection, on)
        record = last_record_entries(uow.connection, RECORD_SHOWN)
    return Dashboard(
        now=ctx.now(),
        rounds=round_boards(ctx),
        actions=[ActionOnBoard(row, row.due_on < on) for row in due],
        next_meeting=NextMeeting(*meeting) if meeting else None,
        record=record,
        flow_runs_url=flow_runs_url(),
    )


def flow_runs_url() -> str:
    """The Prefect UI's flow runs: of the server PREFECT_API_URL names, else `accord up`'s."""
    api = os.environ.get("PREFECT_API_URL", "").strip().rstrip("/")
    return f"{api.removesuffix('/api') if api else PREFECT_UI}/runs"
