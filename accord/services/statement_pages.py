"""Statements and rounds as the console (and `accord statements list`) read them: the list, one
statement with its rounds, a revision's diff against the circulated text, a round's recipients
with their answers and mail; and a reminder sent now to every silent recipient."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from accord.services.context import Context
from accord.services.groups import GroupSettings, list_groups
from accord.services.outbox import Mail, asking_message_ids, enqueue
from accord.services.statements import StatementShown, known_kinds, show_statement
from statemachines.errors import InvalidInput
from statemachines.rounds import OPEN
from storage.console_reads import (
    StatementRow,
    group_time_zones,
    mark_reminded,
    silent_recipients,
    statements_list,
)
from storage.round_reads import RoundSummary, round_summary


def list_statements(ctx: Context) -> list[StatementRow]:
    with ctx.uow(readonly=True) as uow:
        return statements_list(uow.connection)


@dataclass(frozen=True)
class StatementPage:
    statement: StatementShown
    rounds: list[RoundSummary]
    groups: list[GroupSettings]
    kinds: dict[str, str]

    @property
    def open_round(self) -> RoundSummary | None:
        return next((r for r in self.rounds if r.state == OPEN), None)


def statement_page(ctx: Context, statement_id: int) -> StatementPage:
    """The statement and its rounds' summaries (kept tallies: no recipient is read)."""
    statement = show_statement(ctx, statement_id)
    with ctx.uow(readonly=True) as uow:
        kinds = known_kinds(uow)
        found = [round_summary(uow.connection, round_id) for round_id in statement.rounds]
    rounds = [r for r in found if r is not None]
    return StatementPage(statement, rounds, list_groups(ctx), kinds)


@dataclass(frozen=True)
class LocalDeadline:
    zone: str
    members: int
    at: datetime  # the deadline in that zone


def deadline_for_members(ctx: Context, group: str, deadline: datetime) -> list[LocalDeadline]:
    """The deadline as the group's members will read it, one line per time zone."""
    with ctx.uow(readonly=True) as uow:
        uow.groups.named(group)  # NotFound for a group that does not exist
        zones = group_time_zones(uow.connection, group)
    return [LocalDeadline(zone, n, deadline.astimezone(ZoneInfo(zone))) for zone, n in zones]


def kinds(ctx: Context) -> dict[str, str]:
    with ctx.uow(readonly=True) as uow:
        return known_kinds(uow)


@dataclass(frozen=True)
class DiffLine:
    kind: str  # "same", "added", "removed"
    text: str


@dataclass(frozen=True)
class RevisionPreview:
    diff: list[DiffLine]
    circulated_version: int
    open_round: int | None
    answers_going_stale: int


def text_diff(old: str, new: str) -> list[DiffLine]:
    """Line by line: what a revision keeps, adds and removes."""
    kinds = {" ": "same", "+": "added", "-": "removed"}
    return [
        DiffLine(kinds[line[0]], line[2:])
        for line in difflib.ndiff(old.splitlines(), new.splitlines())
        if line[0] in kinds
    ]


def revision_preview(ctx: Context, statement_id: int, body: str) -> RevisionPreview:
    """The diff against the text last circulated (or the current one), and how many answers of
    the open round a revision would make stale."""
    page = statement_page(ctx, statement_id)
    if not body.strip():
        raise InvalidInput("the new text is empty")
    opened = page.open_round
    answered = opened.endorse + opened.decline + opened.abstain if opened else 0
    circulated = page.rounds[-1].version if page.rounds else page.statement.current_version
    with ctx.uow(readonly=True) as uow:
        old = uow.statements.get(statement_id).versions[circulated - 1].body
    return RevisionPreview(
        text_diff(old, body), circulated, opened.id if opened else None, answered
    )


def remind_now(ctx: Context, round_id: int) -> int:
    """A reminder now to every deliverable recipient without an answer, threaded to their
    invitation; the mail goes with the next delivery (`accord up`'s courier, or the sweep)."""
    now = ctx.now()
    with ctx.uow() as uow:
        rnd = uow.rounds.get(round_id)
        if rnd.state != OPEN:
            raise InvalidInput("round {id} is closed", id=round_id)
        silent = silent_recipients(uow.connection, round_id)
        threads = asking_message_ids(uow, round_id) if silent else {}
        mails = [
            Mail(
                dedupe_key=f"reminder:{round_id}:{member_id}:v{rnd.version_number}:{sent + 1}",
                purpose="reminder",
                to_addr=email,
                round_id=round_id,
                member_id=member_id,
                statement_id=rnd.statement_id,
                data={"reminder_number": sent + 1},
                thread_id=threads.get(member_id),
            )
            for member_id, email, sent in silent
        ]
        enqueue(uow, mails, settings=ctx.settings)
        for member_id, _email, sent in silent:
            mark_reminded(uow.connection, round_id, member_id, sent + 1, now)
        ctx.record(
            uow,
            entity_type="round",
            entity_id=round_id,
            action="remind",
            at=now,
            payload={"reminders": len(silent)},
        )
        uow.commit()
    return len(silent)
