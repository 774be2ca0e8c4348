"""Reads the console's pages show, each one statement whatever the number of rows it returns (no
query per row): open rounds with their kept tallies, actions due, meetings, the record's tail."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection, select

from statemachines.actions import TERMINAL
from storage.tables import actions, audit_log, groups, meetings, objectives, rounds, statements


@dataclass(frozen=True)
class OpenRoundRow:
    id: int
    statement_id: int
    title: str
    group: str
    mode: str
    rule: str
    deadline: datetime
    endorse: int
    decline: int
    abstain: int
    pending: int


@dataclass(frozen=True)
class DueActionRow:
    id: int
    text: str
    state: str
    due_on: date
    objective: int
    meeting: str


@dataclass(frozen=True)
class RecordRow:
    seq: int
    recorded_at: str
    actor: str
    channel: str
    entity_type: str
    entity_id: str
    action: str


def open_rounds(connection: Connection) -> list[OpenRoundRow]:
    query = (
        select(
            rounds.c.id,
            rounds.c.statement_id,
            statements.c.title,
            groups.c.name,
            rounds.c.mode,
            rounds.c.rule,
            rounds.c.deadline,
            rounds.c.tally_endorse,
            rounds.c.tally_decline,
            rounds.c.tally_abstain,
            rounds.c.tally_pending,
        )
        .join(statements, statements.c.id == rounds.c.statement_id)
        .join(groups, groups.c.id == rounds.c.group_id)
        .where(rounds.c.state == "open")
        .order_by(rounds.c.deadline, rounds.c.id)
    )
    return [OpenRoundRow(*row) for row in connection.execute(query)]


def actions_due_before(connection: Connection, before: date, limit: int) -> list[DueActionRow]:
    """Open actions due before `before` (overdue ones first), at most `limit`."""
    query = (
        select(
            actions.c.id,
            actions.c.text,
            actions.c.state,
            actions.c.due_on,
            objectives.c.number,
            meetings.c.name,
        )
        .join(objectives, objectives.c.id == actions.c.objective_id)
        .join(meetings, meetings.c.id == actions.c.meeting_id)
        .where(actions.c.due_on < before, actions.c.state.not_in(TERMINAL))
        .order_by(actions.c.due_on, actions.c.id)
        .limit(limit)
    )
    return [DueActionRow(*row) for row in connection.execute(query)]


def next_meeting_on(connection: Connection, on_or_after: date) -> tuple[date, str] | None:
    """The earliest next meeting a report announced, on or after `on_or_after`, and its body."""
    query = (
        select(meetings.c.next_meeting_on, meetings.c.body)
        .where(meetings.c.next_meeting_on >= on_or_after)
        .order_by(meetings.c.next_meeting_on)
        .limit(1)
    )
    row = connection.execute(query).first()
    return None if row is None else (row[0], row[1])


def last_record_entries(connection: Connection, count: int) -> list[RecordRow]:
    query = (
        select(
            audit_log.c.seq,
            audit_log.c.recorded_at,
            audit_log.c.actor,
            audit_log.c.channel,
            audit_log.c.entity_type,
            audit_log.c.entity_id,
            audit_log.c.action,
        )
        .order_by(audit_log.c.seq.desc())
        .limit(count)
    )
    return [RecordRow(*row) for row in connection.execute(query)]
