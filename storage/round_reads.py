"""Reads of the console's round page, each one statement whatever the round's size: the
round's summary with its kept tally, one page of its recipients chosen by answer and by mail
state, and its mail counted by state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select

from storage.tables import (
    decisions,
    groups,
    members,
    outbox,
    recipients,
    rounds,
    statements,
)


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
