"""Reads the console's pages show, each one statement whatever the number of rows it returns (no
query per row): open rounds with their kept tallies, actions due, meetings, the record's tail."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, func, literal, select, update
from sqlalchemy.dialects.postgresql import aggregate_order_by

from statemachines.actions import TERMINAL
from storage.tables import (
    actions,
    audit_log,
    decisions,
    groups,
    meetings,
    members,
    memberships,
    objectives,
    outbox,
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


@dataclass(frozen=True)
class RecipientRow:
    member_id: int
    email: str
    name: str
    language: str
    timezone: str
    decision: str | None
    comment: str | None
    decided_at: datetime | None
    channel: str | None
    stale: bool
    reminders_sent: int
    undeliverable: bool
    delivery: str | None  # the latest mail to them in this round: pending, sending, sent, failed


ANSWER_FILTERS = ("endorse", "decline", "abstain", "support", "concerns", "none", "stale")
DELIVERY_FILTERS = ("queued", "sent", "failed", "bounced")


def round_recipients(
    connection: Connection,
    round_id: int,
    *,
    offset: int,
    limit: int,
    answer: str = "",
    delivery: str = "",
) -> list[RecipientRow]:
    """One page of a round's recipients by name, those with `answer` (a decision on the current
    text, `none` for no current answer, `stale` for an answer to an earlier text) and whose
    latest mail is `delivery` (ANSWER_FILTERS, DELIVERY_FILTERS; empty: any). Two queries: the
    page's members (sorting the round's once), then their rows, whose latest-decision and
    latest-mail lookups read only those members (a delivery filter reads the round's latest
    mail per member to choose them)."""
    chosen = [recipients.c.round_id == round_id, *_answer_is(answer, round_id)]
    if delivery:
        chosen.append(_delivery_is(delivery, round_id))
    paged = (
        select(recipients.c.member_id)
        .join(members, members.c.id == recipients.c.member_id)
        .where(*chosen)
        .order_by(members.c.name, members.c.id)
        .offset(offset)
        .limit(limit)
    )
    on_page = [int(member_id) for member_id in connection.scalars(paged)]
    if not on_page:
        return []
    last_decision = (
        select(decisions.c.member_id, func.max(decisions.c.id).label("id"))
        .where(decisions.c.round_id == round_id, decisions.c.member_id.in_(on_page))
        .group_by(decisions.c.member_id)
        .subquery()
    )
    last_mail = _latest_mail(round_id, outbox.c.member_id.in_(on_page))
    stale = (recipients.c.decision.is_not(None)) & (
        recipients.c.decision_sha256 != rounds.c.text_sha256
    )
    query = (
        select(
            members.c.id,
            members.c.email,
            members.c.name,
            members.c.language,
            members.c.timezone,
            recipients.c.decision,
            recipients.c.comment,
            recipients.c.decided_at,
            decisions.c.channel,
            stale,
            recipients.c.reminders_sent,
            members.c.undeliverable,
            outbox.c.status,
        )
        .join(members, members.c.id == recipients.c.member_id)
        .join(rounds, rounds.c.id == recipients.c.round_id)
        .outerjoin(last_decision, last_decision.c.member_id == recipients.c.member_id)
        .outerjoin(decisions, decisions.c.id == last_decision.c.id)
        .outerjoin(last_mail, last_mail.c.member_id == recipients.c.member_id)
        .outerjoin(outbox, outbox.c.id == last_mail.c.id)
        .where(recipients.c.round_id == round_id, recipients.c.member_id.in_(on_page))
        .order_by(members.c.name, members.c.id)
    )
    return [RecipientRow(*row[:9], bool(row[9]), *row[10:]) for row in connection.execute(query)]


def _answer_is(answer: str, round_id: int) -> list[Any]:
    """The conditions on a recipient row for an answer filter (none for no filter)."""
    if not answer:
        return []
    text = select(rounds.c.text_sha256).where(rounds.c.id == round_id).scalar_subquery()
    current = recipients.c.decision_sha256 == text
    if answer == "none":
        return [recipients.c.decision.is_(None) | ~current]
    if answer == "stale":
        return [recipients.c.decision.is_not(None), ~current]
    return [recipients.c.decision == answer, current]


def _latest_mail(round_id: int, *where: Any) -> Any:
    """Each member's latest outbox row of the round: (member_id, id)."""
    return (
        select(outbox.c.member_id, func.max(outbox.c.id).label("id"))
        .where(outbox.c.round_id == round_id, *where)
        .group_by(outbox.c.member_id)
        .subquery()
    )


def _delivery_is(delivery: str, round_id: int) -> Any:
    """Recipients whose latest mail of the round is in `delivery`'s state; `bounced` is a
    member marked undeliverable, whatever their mail."""
    if delivery == "bounced":
        return members.c.undeliverable.is_(True)
    statuses = {"queued": ("pending", "sending"), "sent": ("sent",), "failed": ("failed",)}
    latest = _latest_mail(round_id)
    chosen = (
        select(latest.c.member_id)
        .join(outbox, outbox.c.id == latest.c.id)
        .where(outbox.c.status.in_(statuses[delivery]))
    )
    return members.c.undeliverable.is_(False) & recipients.c.member_id.in_(chosen)


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


def _joined(column: Any, connection: Connection) -> Any:
    """The values of `column` in a group, joined by ", " (SQLite and PostgreSQL spell it apart)."""
    if connection.dialect.name == "postgresql":
        return func.string_agg(column, aggregate_order_by(literal(", "), column))
    return func.group_concat(column, ", ")


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


@dataclass(frozen=True)
class RoundSummary:
    id: int
    statement_id: int
    group: str
    mode: str
    rule: str
    state: str
    outcome: str | None
    close_reason: str | None
    deadline: datetime
    version: int  # the statement's version the round asks about
    endorse: int
    decline: int
    abstain: int
    pending: int
    title: str
    slug: str
    statement_state: str
    started_at: datetime  # when the round's row was written (wall clock, as Prefect's runs)

    @property
    def tally(self) -> dict[str, int]:
        return {
            "endorse": self.endorse,
            "decline": self.decline,
            "abstain": self.abstain,
            "pending": self.pending,
        }


def round_summary(connection: Connection, round_id: int) -> RoundSummary | None:
    """A round with its kept tally and its statement's title: one query, whatever its size."""
    query = (
        select(
            rounds.c.id,
            rounds.c.statement_id,
            groups.c.name,
            rounds.c.mode,
            rounds.c.rule,
            rounds.c.state,
            rounds.c.outcome,
            rounds.c.close_reason,
            rounds.c.deadline,
            rounds.c.version_number,
            rounds.c.tally_endorse,
            rounds.c.tally_decline,
            rounds.c.tally_abstain,
            rounds.c.tally_pending,
            statements.c.title,
            statements.c.slug,
            statements.c.state,
            rounds.c.created_at,
        )
        .join(groups, groups.c.id == rounds.c.group_id)
        .join(statements, statements.c.id == rounds.c.statement_id)
        .where(rounds.c.id == round_id)
    )
    row = connection.execute(query).first()
    return None if row is None else RoundSummary(*row)


def round_mail_counts(connection: Connection, round_id: int) -> dict[str, int]:
    """The round's mail by state (pending, sending, sent, failed): it reads every outbox row of
    the round, so pages ask for it apart (the round page loads it after itself)."""
    counts = {"pending": 0, "sending": 0, "sent": 0, "failed": 0}
    by_status = (
        select(outbox.c.status, func.count())
        .where(outbox.c.round_id == round_id)
        .group_by(outbox.c.status)
    )
    counts.update({str(status): int(n) for status, n in connection.execute(by_status)})
    return counts


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
