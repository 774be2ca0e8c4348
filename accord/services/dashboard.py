"""What the console's dashboard shows: open rounds with their tallies and time left, actions
overdue or due soon, the next meeting, the decision record's last entries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from urllib.parse import urlencode

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


@dataclass(frozen=True)
class RoundOnBoard:
    row: OpenRoundRow
    time_left: timedelta  # negative once the deadline has passed (the sweep closes it)
    flow_runs_url: str | None  # the round's flow runs in the Prefect UI, when there is one

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


def round_boards(ctx: Context) -> list[RoundOnBoard]:
    """Open rounds, soonest deadline first, with their kept tallies (one query)."""
    now = ctx.now()
    with ctx.uow(readonly=True) as uow:
        found = open_rounds(uow.connection)
    ui = ctx.settings.prefect_ui_url
    return [
        RoundOnBoard(row, row.deadline - now, round_runs_url(ui, row.id, row.started_at))
        for row in found
    ]


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
    )


def round_runs_url(ui: str | None, round_id: int, started_at: datetime) -> str | None:
    """The Prefect UI's runs page showing the runs tagged `round:ID` (flows/rounds.py tags
    them), over the days since the round started (the page shows the last 7 days unless told;
    the wall clock, as the round's row stamp and the runs are); None when no Prefect UI is
    configured (Settings.prefect_ui_url)."""
    if not ui:
        return None
    days = (datetime.now(started_at.tzinfo) - started_at).days + 2
    query = urlencode({"tag": f"round:{round_id}", "type": "span", "seconds": -days * 86400})
    return f"{ui.rstrip('/')}/runs?{query}"
