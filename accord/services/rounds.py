"""Rounds: circulate a statement to a group, record decisions, close by the rules, remind.

Per-recipient state lives in the `recipients` table (current decision) and `decisions` (the whole
history); a round row is locked while a decision is recorded, so the tally and the close that
follows it are decided by one writer at a time.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any, NamedTuple

from sqlalchemy import and_, bindparam, func, or_, select, update

from accord.services.context import Context
from accord.services.outbox import Mail, asking_message_ids, enqueue, inserting_new
from accord.services.statements import known_kinds
from accord.services.status import round_document
from statemachines import rounds as rules
from statemachines.errors import AccordError, GuardFailed, InvalidInput, NotFound
from statemachines.records import Group
from statemachines.reminders import ReminderSchedule
from statemachines.rounds import OPEN, Round
from statemachines.statements import (
    CIRCULATED,
    DRAFT,
    GroupPolicy,
    Statement,
    circulation_problem,
)
from storage import tables as t
from storage.audit import appending, next_entry
from storage.plain import Reader, Write
from storage.uow import UnitOfWork

POLITICAL_REASON = "political"


class RoundClosed(AccordError):
    """An answer to a round that is no longer open."""


class StaleText(AccordError):
    """An answer to a text version that has been superseded."""


def parse_deadline(text: str, secretariat_tz: Any) -> datetime:
    """ISO date-time; without an offset it is the secretariat's local time."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(f"bad deadline '{text}': use ISO 8601, e.g. 2026-12-18T18:00") from None
    return value if value.tzinfo else value.replace(tzinfo=secretariat_tz)


def start_round(
    ctx: Context,
    *,
    statement_id: int,
    group: str,
    rule: str,
    deadline: datetime,
    mode: str = "endorse",
) -> dict[str, Any]:
    """Circulate the statement's current text: one recipient row and one outbox row each."""
    parsed_rule = rules.parse_rule(rule)
    if mode not in rules.MODES:
        raise InvalidInput(f"unknown mode '{mode}': use endorse or consult")
    now = ctx.now()
    with ctx.uow() as uow:
        statement = uow.statements.get(statement_id)
        target = uow.groups.named(group)
        members = _deliverable_members(uow, target.id)
        _check_circulation(uow, statement, target, mode, deadline, now, len(members))
        current = statement.current
        if mode == "endorse":
            statement.fire(
                "circulate",
                group=_policy(target),
                deadline=deadline,
                now=now,
                recipients=len(members),
                known_kinds=known_kinds(uow),
            )
        rnd = Round(
            statement_id=statement.id,
            group_id=target.id,
            mode=mode,
            rule=str(parsed_rule),
            deadline=deadline,
            text_sha256=current.sha256,
            version_number=current.number,
        )
        rnd.ask(len(members))
        uow.rounds.add(rnd)
        uow.flush()
        _add_recipients(uow, rnd, members, now)
        purpose = "invitation" if mode == "endorse" else "consultation"
        enqueue(
            uow,
            [_ask(rnd, m, purpose) for m in members],
            settings=ctx.settings,
        )
        ctx.record(
            uow,
            entity_type="round",
            entity_id=rnd.id,
            action="start",
            at=now,
            text_sha256=current.sha256,
            payload={
                "statement": statement.id,
                "group": target.name,
                "mode": mode,
                "rule": rnd.rule,
                "deadline": deadline.isoformat(),
                "recipients": len(members),
                "version": current.number,
            },
        )
        uow.commit()
        return _round_dict(ctx, uow, rnd)


def _policy(group: Group) -> GroupPolicy:
    return GroupPolicy(
        group.name, bool(group.accepts_political), frozenset(group.refused_kinds or ())
    )


def _check_circulation(
    uow: UnitOfWork,
    statement: Statement,
    group: Group,
    mode: str,
    deadline: datetime,
    now: datetime,
    recipients: int,
) -> None:
    if any(r.state == OPEN for r in uow.rounds.for_statement(statement.id)):
        raise GuardFailed(f"statement {statement.id} already has an open round")
    if mode == "consult":
        if statement.state != DRAFT:
            raise GuardFailed(
                f"a consultation is for a draft; statement {statement.id} is '{statement.state}'"
            )
        problem = circulation_problem(
            kind=statement.kind,
            political=bool(statement.political),
            group=_policy(group),
            deadline=deadline,
            now=now,
            recipients=recipients,
            known_kinds=known_kinds(uow),
        )
        if problem:
            raise GuardFailed(f"cannot consult: {problem}")


def _deliverable_members(uow: UnitOfWork, group_id: int) -> list[Any]:
    """The group's members that can be mailed (`id`, `email`), in the members list's order.
    Rows, not mapped objects: a group of 10,000 is read in a fraction of the time."""
    query = (
        select(t.members.c.id, t.members.c.email)
        .join(t.memberships, t.memberships.c.member_id == t.members.c.id)
        .where(t.memberships.c.group_id == group_id, t.members.c.undeliverable.is_(False))
        .order_by(t.members.c.name, t.members.c.email)
    )
    return list(uow.session.execute(query))


def _add_recipients(
    uow: UnitOfWork, rnd: Round, members: Sequence[Any], asked_at: datetime
) -> None:
    rows = [
        {
            "round_id": rnd.id,
            "member_id": m.id,
            "reply_key": secrets.token_hex(16),
            "reminders_sent": 0,
            "asked_at": asked_at,
        }
        for m in members
    ]
    if rows:
        uow.session.execute(t.recipients.insert(), rows)


def _ask(rnd: Round, member: Any, purpose: str) -> Mail:
    return Mail(
        dedupe_key=f"{purpose}:{rnd.id}:{member.id}:v{rnd.version_number}",
        purpose=purpose,
        to_addr=member.email,
        round_id=rnd.id,
        member_id=member.id,
        statement_id=rnd.statement_id,
    )


# When a recipient was last asked; rows moved from a database before schema 0005 may lack it.
_ASKED_AT = func.coalesce(t.recipients.c.asked_at, t.rounds.c.created_at).label("asked_at")
_TALLY_COLUMNS = [t.rounds.c[f"tally_{key}"] for key in rules.TALLY_KEYS]

# The statements of an answer, built once: building a statement anew each time costs more than
# running it (SQLAlchemy derives its cache key from the new object). They run on the unit of
# work's connection, as Core: an answer touches no mapped object unless it closes the round.
_ANSWERING = (
    select(
        t.rounds.c.id,
        t.rounds.c.statement_id,
        t.rounds.c.mode,
        t.rounds.c.rule,
        t.rounds.c.deadline,
        t.rounds.c.state,
        t.rounds.c.outcome,
        t.rounds.c.text_sha256,
        *_TALLY_COLUMNS,
        t.recipients.c.id.label("recipient_id"),
        t.recipients.c.decision.label("answered"),
        t.members.c.email,
    )
    .select_from(t.rounds)
    .outerjoin(
        t.recipients,
        and_(
            t.recipients.c.round_id == t.rounds.c.id,
            t.recipients.c.member_id == bindparam("member_id"),
        ),
    )
    .outerjoin(t.members, t.members.c.id == t.recipients.c.member_id)
    .where(t.rounds.c.id == bindparam("round_id"))
    .with_for_update(of=t.rounds)
)
# What an answer writes, sent to the driver together (`Reader.write`: one round trip on
# PostgreSQL); SQLAlchemy's statement machinery cost more than these statements.
_SET_DECISION = (
    "UPDATE recipients SET decision = %s, decision_sha256 = %s, comment = %s, decided_at = %s "
    "WHERE id = %s"
)
_ADD_DECISION = (
    "INSERT INTO decisions (id, round_id, member_id, decision, comment, channel, text_sha256, "
    "recorded_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
)
_MOVE_TALLY = (
    "UPDATE rounds SET "
    + "".join(f"tally_{key} = %s, " for key in rules.TALLY_KEYS)
    + "flagged_political = flagged_political OR %s, version = version + 1, updated_at = %s "
    "WHERE id = %s"
)
# The decision record's head, locked, and the id the new decision gets (SQLite's writer holds the
# whole database, so the next id is the highest plus one, as SQLite itself would choose).
ANSWER_HEAD_COLUMNS = {
    "sqlite": "audit_head.seq, audit_head.hash, (SELECT COALESCE(MAX(id), 0) + 1 FROM decisions)",
    "postgresql": (
        "audit_head.seq, audit_head.hash, nextval(pg_get_serial_sequence('decisions', 'id'))"
    ),
}
_ANSWER_HEAD = {
    "sqlite": f"SELECT {ANSWER_HEAD_COLUMNS['sqlite']} FROM audit_head WHERE id = 1",
    "postgresql": (
        f"SELECT {ANSWER_HEAD_COLUMNS['postgresql']} FROM audit_head WHERE id = 1 FOR UPDATE"
    ),
}


class AnswerHead(NamedTuple):
    """Where an answer's writes go: the decision record's head and the new decision's id."""

    seq: int
    hash: str
    decision_id: int


@dataclass(frozen=True)
class AnswerPlan:
    """An answer's writes, the answer as recorded, and whether it closes the round."""

    writes: list[Write]
    recorded: dict[str, Any]
    closes: bool
    at: datetime


def answering(uow: UnitOfWork, round_id: int, member_id: int) -> Any:
    """The round's row, locked, with the recipient's current answer and address (None when the
    member is not a recipient); NotFound for a round that does not exist."""
    params = {"round_id": round_id, "member_id": member_id}
    row = uow.connection.execute(_ANSWERING, params).first()
    if row is None:
        raise NotFound(f"no round with id {round_id}")
    return row


def record_decision(
    ctx: Context,
    *,
    round_id: int,
    member_id: int,
    decision: str,
    comment: str | None,
    channel: str,
    text_sha256: str | None = None,
    actor: str | None = None,
) -> dict[str, Any]:
    """Record one member's answer (replacing their earlier one), confirm it, close if due."""
    with ctx.uow() as uow:
        row = answering(uow, round_id, member_id)
        check_answer(row, decision)
        if text_sha256 is not None and text_sha256 != row.text_sha256:
            raise StaleText("this link is for an earlier version of the text; use the newest mail")
        if row.recipient_id is None:
            raise NotFound(f"member {member_id} is not a recipient of round {round_id}")
        recorded = write_answer(
            ctx, uow, row, member_id, decision, comment, channel=channel, actor=actor
        )
        uow.commit()
        return recorded


def check_answer(row: Any, decision: str) -> None:
    """Refuse a decision the round's mode does not offer, or any answer to a closed round."""
    if decision not in rules.DECISIONS[row.mode]:
        allowed = ", ".join(rules.DECISIONS[row.mode])
        raise InvalidInput(f"unknown decision '{decision}' (use {allowed})")
    if row.state != OPEN:
        raise RoundClosed(f"round {row.id} is closed; answers are no longer recorded")


def write_answer(
    ctx: Context,
    uow: UnitOfWork,
    row: Any,
    member_id: int,
    decision: str,
    comment: str | None,
    *,
    channel: str,
    actor: str | None = None,
    head: AnswerHead | None = None,
) -> dict[str, Any]:
    """Write a checked answer (`row` from `answering`, `head` read in the same transaction, or
    read here); close the round if due. Returns the answer as recorded."""
    reader = Reader.of_connection(uow.connection)
    if head is None:
        dialect = "sqlite" if reader.is_sqlite else "postgresql"
        head = AnswerHead(*reader.rows(_ANSWER_HEAD[dialect])[0])
    plan = plan_answer(ctx, row, head, member_id, decision, comment, channel=channel, actor=actor)
    reader.write(plan.writes)
    if not plan.closes:
        return plan.recorded
    rnd = _locked_round(uow, row.id)
    _close_if_due(ctx, uow, rnd, plan.at)
    return {**plan.recorded, "round_state": rnd.state, "outcome": rnd.outcome}


def plan_answer(
    ctx: Context,
    row: Any,
    head: AnswerHead,
    member_id: int,
    decision: str,
    comment: str | None,
    *,
    channel: str,
    actor: str | None = None,
) -> AnswerPlan:
    """What recording a checked answer writes: the recipient's current decision, the history,
    the round's tally, the decision record and the receipt; and whether the round then closes
    (which the caller does, on the mapped round)."""
    comment = clean_comment(comment)
    now = ctx.now()
    counts = rules.Tally.kept_by(row).after_answer(row.answered, decision)
    political = bool(
        decision == rules.DECLINE and comment and comment.lower().startswith(POLITICAL_REASON)
    )
    entry = next_entry(
        head.seq,
        head.hash,
        actor=actor or row.email,
        channel=channel,
        entity_type="round",
        entity_id=row.id,
        action=f"decision.{decision}",
        at=now,
        text_sha256=row.text_sha256,
        payload={
            "member": row.email,
            "decision": decision,
            "comment": comment,
            "previous": row.answered,
        },
    )
    receipt = Mail(
        dedupe_key=f"receipt:{head.decision_id}",
        purpose="receipt",
        to_addr=row.email,
        round_id=row.id,
        member_id=member_id,
        statement_id=row.statement_id,
        data={"decision_id": head.decision_id},
    )
    writes = [
        (_SET_DECISION, (decision, row.text_sha256, comment, now, row.recipient_id)),
        (
            _ADD_DECISION,
            (head.decision_id, row.id, member_id, decision, comment, channel, row.text_sha256, now),
        ),
        (_MOVE_TALLY, (*counts.as_dict().values(), political, datetime.now(UTC), row.id)),
        *appending(entry),
        inserting_new(receipt, settings=ctx.settings),
    ]
    closes = rules.close_reason(rules.parse_rule(row.rule), counts, row.deadline, now, row.mode)
    recorded = {
        "round_id": row.id,
        "member": row.email,
        "decision": decision,
        "comment": comment,
        "recorded_at": now.isoformat(),
        "channel": channel,
        "text_sha256": row.text_sha256,
        "round_state": row.state,
        "outcome": row.outcome,
    }
    return AnswerPlan(writes, recorded, bool(closes), now)


def clean_comment(comment: str | None) -> str | None:
    """A member's free text: printable characters, newlines and tabs; at most 5,000."""
    kept = "".join(ch for ch in (comment or "") if ch.isprintable() or ch in "\n\t")
    return kept.strip()[:5000] or None


def _locked_round(uow: UnitOfWork, round_id: int) -> Round:
    rnd = uow.session.scalars(_round_for_update(), {"round_id": round_id}).first()
    if rnd is None:
        raise NotFound(f"no round with id {round_id}")
    return rnd


@cache
def _round_for_update() -> Any:
    """Built on first use: the domain classes are mapped when the first database is opened."""
    return (
        select(Round)
        .where(t.rounds.c.id == bindparam("round_id"))
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def _close_if_due(ctx: Context, uow: UnitOfWork, rnd: Round, now: datetime) -> None:
    counts = rnd.counts
    reason = rules.close_reason(rules.parse_rule(rnd.rule), counts, rnd.deadline, now, rnd.mode)
    if reason:
        _close(ctx, uow, rnd, reason, now)


def _close(ctx: Context, uow: UnitOfWork, rnd: Round, reason: str, now: datetime) -> None:
    """Close with the outcome as the rules give it; the statement follows; tell the secretariat."""
    counts = rnd.counts
    result = rules.outcome(rules.parse_rule(rnd.rule), counts, rnd.mode)
    if reason == "withdrawn":
        result = rules.NOT_ENDORSED if rnd.mode == "endorse" else rules.CONSULTED
    rnd.fire("close", outcome=result, reason=reason, at=now)
    statement = uow.statements.get(rnd.statement_id)
    if rnd.mode == "endorse" and statement.state == CIRCULATED:
        statement.fire("close", outcome=result)
        if result == rules.ENDORSED:
            statement.endorsed_version = rnd.version_number
    uow.audit.append(
        actor=ctx.actor if reason == "closed_by_secretariat" else "accord",
        channel=ctx.channel if reason == "closed_by_secretariat" else "system",
        entity_type="round",
        entity_id=rnd.id,
        action="close",
        at=now,
        text_sha256=rnd.text_sha256,
        payload={
            "outcome": result,
            "reason": reason,
            "tally": counts.as_dict(),
            "statement_state": statement.state,
        },
    )
    enqueue(
        uow,
        [
            Mail(
                dedupe_key=f"result:{rnd.id}",
                purpose="result",
                to_addr=ctx.settings.mail_from,
                round_id=rnd.id,
                statement_id=rnd.statement_id,
            )
        ],
        settings=ctx.settings,
    )


def close_round(ctx: Context, round_id: int) -> dict[str, Any]:
    """Close now; the outcome is computed as at the deadline (silence is not consent)."""
    now = ctx.now()
    with ctx.uow() as uow:
        rnd = _locked_round(uow, round_id)
        _close(ctx, uow, rnd, "closed_by_secretariat", now)
        uow.commit()
        return _round_dict(ctx, uow, rnd)


def round_status(ctx: Context, round_id: int) -> dict[str, Any]:
    with ctx.uow(readonly=True) as uow:
        return _round_dict(ctx, uow, uow.rounds.get(round_id))


def _round_dict(ctx: Context, uow: UnitOfWork, rnd: Round) -> dict[str, Any]:
    """The round's document as `accord rounds status` prints it (written or flushed state)."""
    uow.flush()
    return round_document(Reader.of_session(uow.session), rnd.id, ctx.settings)


def member_by_email(ctx: Context, email: str) -> int:
    with ctx.uow(readonly=True) as uow:
        member = uow.members.by_email(email.strip())
        if member is None:
            raise NotFound(f"no member with email {email}")
        return int(member.id)


def reminder_schedule(ctx: Context) -> ReminderSchedule:
    settings = ctx.settings
    return ReminderSchedule.of(
        settings.reminder_days, settings.max_reminders, settings.reminder_min_gap_hours
    )


def due_reminders(
    uow: UnitOfWork, rnd: Round, now: datetime, schedule: ReminderSchedule
) -> list[tuple[int, str, int]]:
    """(member id, email, reminder number) of silent recipients whose next reminder is due."""
    query = (
        select(
            t.recipients.c.member_id,
            t.members.c.email,
            t.recipients.c.reminders_sent,
            _ASKED_AT,
            t.recipients.c.last_reminded_at,
        )
        .join(t.members)
        .join(t.rounds, t.rounds.c.id == t.recipients.c.round_id)
        .where(
            t.recipients.c.round_id == rnd.id,
            t.recipients.c.decision.is_(None),
            t.members.c.undeliverable.is_(False),
        )
    )
    return [
        (r.member_id, r.email, r.reminders_sent + 1)
        for r in uow.session.execute(query)
        if schedule.due(rnd.deadline, r.asked_at, r.last_reminded_at, now)
    ]


def remind(ctx: Context, uow: UnitOfWork, rnd: Round, now: datetime) -> int:
    """Write the reminders now due, threaded to each member's invitation."""
    due = due_reminders(uow, rnd, now, reminder_schedule(ctx))
    threads = asking_message_ids(uow, rnd.id) if due else {}
    mails = [
        Mail(
            dedupe_key=f"reminder:{rnd.id}:{member_id}:v{rnd.version_number}:{n}",
            purpose="reminder",
            to_addr=email,
            round_id=rnd.id,
            member_id=member_id,
            statement_id=rnd.statement_id,
            data={"reminder_number": n},
            thread_id=threads.get(member_id),
        )
        for member_id, email, n in due
    ]
    enqueue(uow, mails, settings=ctx.settings)
    for member_id, _email, n in due:
        uow.session.execute(
            update(t.recipients)
            .where(t.recipients.c.round_id == rnd.id, t.recipients.c.member_id == member_id)
            .values(reminders_sent=n, last_reminded_at=now)
        )
    return len(due)


def sweep_rounds(ctx: Context) -> dict[str, int]:
    """Close what is due and write due reminders, one round per transaction. The rounds with
    nothing due (most of them, most of the time) are told apart by reading the open rounds (their
    tallies included) and the reminders already sent, and get no transaction."""
    now = ctx.now()
    with ctx.uow(readonly=True) as uow:
        open_ids, due_ids = _rounds_to_move(ctx, uow, now)
    closed = reminded = 0
    for round_id in due_ids:
        with ctx.uow() as uow:
            rnd = _locked_round(uow, round_id)
            if rnd.state != OPEN:
                continue
            before = rnd.state
            _close_if_due(ctx, uow, rnd, now)
            if rnd.state == before:
                reminded += remind(ctx, uow, rnd, now)
            else:
                closed += 1
            uow.commit()
    return {"open_rounds": len(open_ids), "closed": closed, "reminders": reminded}


def _rounds_to_move(ctx: Context, uow: UnitOfWork, now: datetime) -> tuple[list[int], list[int]]:
    """The open rounds' ids, and those of the rounds that are due to close or have a reminder
    due (what `_close_if_due` and `due_reminders` would find, read for all rounds at once)."""
    open_rounds = list(uow.session.execute(_OPEN_ROUNDS))
    if not open_rounds:
        return [], []
    # When each round's silent recipients were asked and last reminded (few distinct pairs)
    silent: dict[int, set[tuple[datetime, datetime | None]]] = {}
    for round_id, asked_at, reminded_at in uow.session.execute(_OPEN_SILENT):
        silent.setdefault(round_id, set()).add((asked_at, reminded_at))
    schedule = reminder_schedule(ctx)
    due = []
    for rnd in open_rounds:
        tally = rules.Tally.kept_by(rnd)
        rule = rules.parse_rule(rnd.rule)
        if rules.close_reason(rule, tally, rnd.deadline, now, rnd.mode):
            due.append(rnd.id)
            continue
        if any(
            schedule.due(rnd.deadline, asked, reminded, now)
            for asked, reminded in silent.get(rnd.id, ())
        ):
            due.append(rnd.id)
    return [rnd.id for rnd in open_rounds], due


_OPEN_ROUNDS = (
    select(
        t.rounds.c.id,
        t.rounds.c.rule,
        t.rounds.c.mode,
        t.rounds.c.deadline,
        *_TALLY_COLUMNS,
    )
    .where(t.rounds.c.state == OPEN)
    .order_by(t.rounds.c.id)
)
_OPEN_SILENT = (
    select(t.recipients.c.round_id, _ASKED_AT, t.recipients.c.last_reminded_at)
    .distinct()
    .join(t.rounds, t.rounds.c.id == t.recipients.c.round_id)
    .join(t.members, t.members.c.id == t.recipients.c.member_id)
    .where(
        t.rounds.c.state == OPEN,
        t.recipients.c.decision.is_(None),
        t.members.c.undeliverable.is_(False),
    )
)


def recount_tallies(uow: UnitOfWork) -> None:
    """Count every round's tally afresh from its recipients' answers, as `rules.tally` counts
    (for rows written without the tally: an export made before schema 0004)."""
    answered = {
        "endorse": (rules.ENDORSE, rules.SUPPORT),
        "decline": (rules.DECLINE, rules.CONCERNS),
        "abstain": (rules.ABSTAIN,),
    }
    of_round = t.recipients.c.round_id == t.rounds.c.id
    known = t.recipients.c.decision.in_([d for ds in answered.values() for d in ds])

    def counted(*where: Any) -> Any:
        return select(func.count()).where(of_round, *where).scalar_subquery()

    values = {
        f"tally_{key}": counted(t.recipients.c.decision.in_(decisions))
        for key, decisions in answered.items()
    }
    values["tally_pending"] = counted(or_(t.recipients.c.decision.is_(None), ~known))
    kept = {"updated_at": t.rounds.c.updated_at}  # a count, not a change of the round
    uow.session.execute(update(t.rounds).values(**values, **kept))


def count_recipients(uow: UnitOfWork, round_id: int) -> int:
    return int(
        uow.session.scalar(
            select(func.count())
            .select_from(t.recipients)
            .where(t.recipients.c.round_id == round_id)
        )
        or 0
    )


def revise_statement(ctx: Context, statement_id: int, body: str) -> dict[str, Any]:
    """A new text version. In an open round, earlier answers become stale and every recipient
    is asked again with the difference; links to the old text stop working."""
    from accord.services.statements import statement_dict

    now = ctx.now()
    with ctx.uow() as uow:
        statement = uow.statements.get(statement_id)
        previous = statement.current
        statement.fire("revise")
        version = statement.add_version(body, at=now)
        if version.sha256 == previous.sha256:
            raise InvalidInput("the new text is the same as the current version")
        asked = 0
        for rnd in uow.rounds.for_statement(statement.id):
            if rnd.state == OPEN and rnd.mode == "endorse":
                asked += _reask(ctx, uow, rnd, version.number, version.sha256, previous.sha256)
        ctx.record(
            uow,
            entity_type="statement",
            entity_id=statement.id,
            action="revise",
            at=now,
            text_sha256=version.sha256,
            payload={"version": version.number, "previous": previous.sha256, "reasked": asked},
        )
        uow.commit()
        result = statement_dict(statement, known_kinds(uow))
        result["reasked"] = asked
        return result


def _reask(
    ctx: Context, uow: UnitOfWork, rnd: Round, number: int, sha: str, previous_sha: str
) -> int:
    rnd.text_sha256, rnd.version_number = sha, number
    rnd.ask(rnd.counts.recipients)
    uow.session.execute(
        update(t.recipients)
        .where(t.recipients.c.round_id == rnd.id)
        .values(
            decision=None,
            decision_sha256=None,
            comment=None,
            decided_at=None,
            reminders_sent=0,
            asked_at=ctx.now(),
        )
    )
    query = (
        select(t.recipients.c.member_id, t.members.c.email)
        .join(t.members)
        .where(t.recipients.c.round_id == rnd.id, t.members.c.undeliverable.is_(False))
    )
    mails = [
        Mail(
            dedupe_key=f"revision:{rnd.id}:{member_id}:v{number}",
            purpose="revision",
            to_addr=email,
            round_id=rnd.id,
            member_id=member_id,
            statement_id=rnd.statement_id,
            data={"previous_sha256": previous_sha},
        )
        for member_id, email in uow.session.execute(query)
    ]
    return enqueue(uow, mails, settings=ctx.settings)


def withdraw_statement(ctx: Context, statement_id: int, reason: str) -> dict[str, Any]:
    """Withdraw with a reason: open rounds close, those who had endorsed are told."""
    from accord.services.statements import statement_dict

    now = ctx.now()
    with ctx.uow() as uow:
        statement = uow.statements.get(statement_id)
        endorsers = _endorsers_of(uow, statement.id)
        statement.fire("withdraw", reason=reason)
        for rnd in uow.rounds.for_statement(statement.id):
            if rnd.state == OPEN:
                _close(ctx, uow, rnd, "withdrawn", now)
        enqueue(
            uow,
            [
                Mail(
                    dedupe_key=f"withdrawal:{statement.id}:{member_id}",
                    purpose="withdrawal",
                    to_addr=email,
                    member_id=member_id,
                    statement_id=statement.id,
                    data={"reason": statement.withdraw_reason},
                )
                for member_id, email in endorsers
            ],
            settings=ctx.settings,
        )
        ctx.record(
            uow,
            entity_type="statement",
            entity_id=statement.id,
            action="withdraw",
            at=now,
            payload={"reason": statement.withdraw_reason, "notified": len(endorsers)},
        )
        uow.commit()
        result = statement_dict(statement, known_kinds(uow))
        result["notified"] = len(endorsers)
        return result


def _endorsers_of(uow: UnitOfWork, statement_id: int) -> list[tuple[int, str]]:
    query = (
        select(t.members.c.id, t.members.c.email)
        .distinct()
        .join(t.recipients, t.recipients.c.member_id == t.members.c.id)
        .join(t.rounds, t.rounds.c.id == t.recipients.c.round_id)
        .where(t.rounds.c.statement_id == statement_id, t.recipients.c.decision == rules.ENDORSE)
    )
    return [(r.id, r.email) for r in uow.session.execute(query)]
