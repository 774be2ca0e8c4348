"""Rounds: circulate a statement to a group, record decisions, close by the rules, remind.

Per-recipient state lives in the `recipients` table (current decision) and `decisions` (the whole
history); a round row is locked while a decision is recorded, so the tally and the close that
follows it are decided by one writer at a time.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from datetime import datetime, time
from functools import cache
from typing import Any

from sqlalchemy import bindparam, func, or_, select, update

from accord.services.answering import RoundClosed as RoundClosed
from accord.services.answering import StaleText as StaleText
from accord.services.answering import record_decision as record_decision
from accord.services.context import Context
from accord.services.outbox import Mail, asking_message_ids, enqueue
from accord.services.publish import withdraw_publication
from accord.services.statements import known_kinds
from accord.services.status import round_document
from statemachines import rounds as rules
from statemachines.errors import GuardFailed, InvalidInput, NotFound
from statemachines.records import Group
from statemachines.reminders import ReminderSchedule
from statemachines.rounds import OPEN, Round
from statemachines.statements import (
    CIRCULATED,
    DRAFT,
    PUBLISHED,
    GroupPolicy,
    Statement,
    circulation_problem,
)
from storage import tables as t
from storage.plain import Reader
from storage.uow import UnitOfWork


def parse_deadline(text: str, secretariat_tz: Any) -> datetime:
    """ISO date-time; without an offset it is the secretariat's local time. A date alone is the
    end of that day (23:59:59) in the secretariat's time zone."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(f"bad deadline '{text}': use ISO 8601, e.g. 2026-12-18T18:00") from None
    if _DATE_ONLY.fullmatch(text.strip()):
        value = datetime.combine(value.date(), time(23, 59, 59))
    return value if value.tzinfo else value.replace(tzinfo=secretariat_tz)


_DATE_ONLY = re.compile(r"\d{4}-?\d{2}-?\d{2}")


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
        _check_rule_can_be_met(parsed_rule, target, len(members))
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


def _check_rule_can_be_met(rule: rules.Rule, group: Group, members: int) -> None:
    """Refuse a round that would close as impossible at the first sweep: even if every member
    who can be asked endorsed, the rule would not hold."""
    if members and not rules.can_still_be_met(rule, rules.Tally(pending=members)):
        raise GuardFailed(
            f"rule {rule} can never be met: group '{group.name}' has {members} member(s) "
            "who can be asked"
        )


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
    result = rules.close_outcome(rules.parse_rule(rnd.rule), counts, rnd.mode, reason)
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


def recipient_by_email(ctx: Context, round_id: int, email: str) -> int:
    """The member id of a recipient of the round, found by the address the user typed."""
    member_id = member_by_email(ctx, email)
    with ctx.uow(readonly=True) as uow:
        uow.rounds.get(round_id)
        asked = uow.session.scalar(
            select(t.recipients.c.id).where(
                t.recipients.c.round_id == round_id, t.recipients.c.member_id == member_id
            )
        )
    if asked is None:
        raise NotFound(f"{email.strip()} is not a recipient of round {round_id}")
    return member_id


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
        was_published = statement.state == PUBLISHED
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
        unpublished = _unpublished(ctx, statement, now, was_published)
        ctx.record(
            uow,
            entity_type="statement",
            entity_id=statement.id,
            action="withdraw",
            at=now,
            payload={
                "reason": statement.withdraw_reason,
                "notified": len(endorsers),
                **unpublished,
            },
        )
        uow.commit()
        result = statement_dict(statement, known_kinds(uow))
        result["notified"] = len(endorsers)
        result["page"] = unpublished["publication"]["page"] if unpublished else None
        return result


def _unpublished(
    ctx: Context, statement: Statement, now: datetime, was_published: bool
) -> dict[str, Any]:
    """A published statement's page, certificate and feed entry say it was withdrawn; what the
    decision record keeps of that change."""
    if not was_published:
        return {}
    change = withdraw_publication(
        ctx.settings.home / "site",
        statement.slug,
        at=now,
        reason=statement.withdraw_reason or "",
        public_url=ctx.settings.public_url,
    )
    return {"publication": change} if change else {}


def _endorsers_of(uow: UnitOfWork, statement_id: int) -> list[tuple[int, str]]:
    query = (
        select(t.members.c.id, t.members.c.email)
        .distinct()
        .join(t.recipients, t.recipients.c.member_id == t.members.c.id)
        .join(t.rounds, t.rounds.c.id == t.recipients.c.round_id)
        .where(t.rounds.c.statement_id == statement_id, t.recipients.c.decision == rules.ENDORSE)
    )
    return [(r.id, r.email) for r in uow.session.execute(query)]
