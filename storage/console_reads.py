"""Reads the console's pages show, each one statement whatever the number of rows it returns (no
query per row): open rounds with their kept tallies, actions due, meetings, the record's tail."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection, func, select, update

from statemachines.actions import TERMINAL
from storage.tables import (
    actions,
    audit_log,
    groups,
    meetings,
    members,
    memberships,
    objectives,
    recipients,
    rounds,
    statements,
)


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
    started_at: datetime


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
            rounds.c.created_at,
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


@dataclass(frozen=True)
class StatementRow:
    id: int
    title: str
    kind: str
    state: str
    political: bool
    version: int
    rounds: int
    updated_at: datetime


def statements_list(connection: Connection) -> list[StatementRow]:
    """Every statement, newest first, with how many rounds it had (one query)."""
    counted = (
        select(rounds.c.statement_id, func.count().label("n"))
        .group_by(rounds.c.statement_id)
        .subquery()
    )
    query = (
        select(
            statements.c.id,
            statements.c.title,
            statements.c.kind,
            statements.c.state,
            statements.c.political,
            statements.c.version,
            func.coalesce(counted.c.n, 0),
            statements.c.updated_at,
        )
        .outerjoin(counted, counted.c.statement_id == statements.c.id)
        .order_by(statements.c.id.desc())
    )
    return [StatementRow(*row) for row in connection.execute(query)]


def silent_recipients(connection: Connection, round_id: int) -> list[tuple[int, str, int]]:
    """(member id, email, reminders sent) of the round's deliverable members with no answer."""
    query = (
        select(members.c.id, members.c.email, recipients.c.reminders_sent)
        .join(members, members.c.id == recipients.c.member_id)
        .where(
            recipients.c.round_id == round_id,
            recipients.c.decision.is_(None),
            members.c.undeliverable.is_(False),
        )
    )
    return [(int(a), str(b), int(c)) for a, b, c in connection.execute(query)]


def mark_reminded(
    connection: Connection, round_id: int, member_id: int, n: int, at: datetime
) -> None:
    connection.execute(
        update(recipients)
        .where(recipients.c.round_id == round_id, recipients.c.member_id == member_id)
        .values(reminders_sent=n, last_reminded_at=at)
    )


def record_page(
    connection: Connection, *, entity_type: str, entity_id: str, before: int | None, limit: int
) -> list[RecordRow]:
    """Entries newest first, filtered by entity, older than `before` (its seq) when given."""
    query = select(
        audit_log.c.seq,
        audit_log.c.recorded_at,
        audit_log.c.actor,
        audit_log.c.channel,
        audit_log.c.entity_type,
        audit_log.c.entity_id,
        audit_log.c.action,
    )
    if entity_type:
        query = query.where(audit_log.c.entity_type == entity_type)
    if entity_id:
        query = query.where(audit_log.c.entity_id == entity_id)
    if before is not None:
        query = query.where(audit_log.c.seq < before)
    query = query.order_by(audit_log.c.seq.desc()).limit(limit)
    return [RecordRow(*row) for row in connection.execute(query)]


def group_time_zones(connection: Connection, group: str) -> list[tuple[str, int]]:
    """The time zones of a group's members, with how many members live in each."""
    query = (
        select(members.c.timezone, func.count())
        .join(memberships, memberships.c.member_id == members.c.id)
        .join(groups, groups.c.id == memberships.c.group_id)
        .where(groups.c.name == group)
        .group_by(members.c.timezone)
        .order_by(func.count().desc(), members.c.timezone)
    )
    return [(str(zone), int(n)) for zone, n in connection.execute(query)]
