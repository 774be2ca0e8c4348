"""Rounds: circulate a statement to a group, close by the rules, show a round's state.

Per-recipient state lives in the `recipients` table (current decision) and `decisions` (the whole
history); a round row is locked while a decision is recorded or the round closes, so the tally
and the close that follows it are decided by one writer at a time. Answers are recorded by
`accord.services.answering`, reminders and the sweep by `accord.services.round_reminders`,
revision and withdrawal by `accord.services.statement_rounds`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from accord.services.context import Context
from accord.services.outbox import Mail, enqueue
from accord.services.statements import known_kinds
from accord.services.status import RoundDocument, round_document
from statemachines import rounds as rules
from statemachines.errors import GuardFailed, InvalidInput, NotFound
from statemachines.records import Group
from statemachines.rounds import OPEN, Round
from statemachines.statements import (
    CIRCULATED,
    DRAFT,
    GroupPolicy,
    Statement,
    circulation_problem,
)
from storage.recipients import Addressee
from storage.uow import UnitOfWork


def parse_deadline(text: str, secretariat_tz: Any) -> datetime:
    """ISO date-time; without an offset it is the secretariat's local time. A date alone is the
    end of that day (23:59:59) in the secretariat's time zone."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(
            "bad deadline '{text}': use ISO 8601, e.g. 2026-12-18T18:00", text=text
        ) from None
    if _DATE_ONLY.fullmatch(text.strip()):
        value = datetime.combine(value.date(), time(23, 59, 59))
    return value if value.tzinfo else value.replace(tzinfo=secretariat_tz)


_DATE_ONLY = re.compile(r"\d{4}-?\d{2}-?\d{2}")


ASK_CHUNK = 1_000  # members asked between two progress calls of start_round


def start_round(
    ctx: Context,
    *,
    statement_id: int,
    group: str,
    rule: str,
    deadline: datetime,
    mode: str = "endorse",
    progress: Callable[[int, int], None] | None = None,
) -> RoundDocument:
    """Circulate the statement's current text: one recipient row and one outbox row each,
    written ASK_CHUNK members at a time (`progress` is told after each: members done, all)."""
    now = ctx.now()
    with ctx.uow() as uow:
        checked = _circulation(uow, statement_id, group, rule, deadline, mode, now)
        statement, target, members = checked.statement, checked.group, checked.members
        current = statement.current
        rnd = Round(
            statement_id=statement.id,
            group_id=target.id,
            mode=mode,
            rule=str(checked.rule),
            deadline=deadline,
            text_sha256=current.sha256,
            version_number=current.number,
        )
        rnd.ask(len(members))
        uow.rounds.add(rnd)
        uow.flush()
        purpose = "invitation" if mode == "endorse" else "consultation"
        for start in range(0, len(members), ASK_CHUNK):
            chunk = members[start : start + ASK_CHUNK]
            uow.recipients.add(rnd.id, [m.id for m in chunk], now)
            enqueue(uow, [_ask(rnd, m, purpose) for m in chunk], settings=ctx.settings)
            if progress is not None:
                progress(start + len(chunk), len(members))
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
        return _round_document(ctx, uow, rnd)


def check_round_start(
    ctx: Context, *, statement_id: int, group: str, rule: str, deadline: datetime, mode: str
) -> None:
    """Refuse, with start_round's own reason, a round that cannot start; nothing is written.
    The console checks this before it queues the start as background work."""
    with ctx.uow(readonly=True) as uow:
        _circulation(uow, statement_id, group, rule, deadline, mode, ctx.now())


@dataclass(frozen=True)
class _Circulation:
    statement: Statement
    group: Group
    members: list[Addressee]
    rule: rules.Rule


def _circulation(
    uow: UnitOfWork,
    statement_id: int,
    group: str,
    rule: str,
    deadline: datetime,
    mode: str,
    now: datetime,
) -> _Circulation:
    """Every check of a round's start; in endorse mode the statement moves to circulated (in
    this unit of work only, until it commits)."""
    parsed_rule = rules.parse_rule(rule)
    if mode not in rules.MODES:
        raise InvalidInput("unknown mode '{mode}': use endorse or consult", mode=mode)
    statement = uow.statements.get(statement_id)
    target = uow.groups.named(group)
    members = uow.recipients.deliverable_members(target.id)
    _check_rule_can_be_met(parsed_rule, target, len(members))
    _check_circulation(uow, statement, target, mode, deadline, now, len(members))
    if mode == "endorse":
        statement.fire(
            "circulate",
            group=_policy(target),
            deadline=deadline,
            now=now,
            recipients=len(members),
            known_kinds=known_kinds(uow),
        )
    return _Circulation(statement, target, members, parsed_rule)


def _check_rule_can_be_met(rule: rules.Rule, group: Group, members: int) -> None:
    """Refuse a round that would close as impossible at the first sweep: even if every member
    who can be asked endorsed, the rule would not hold."""
    if members and not rules.can_still_be_met(rule, rules.Tally(pending=members)):
        raise GuardFailed(
            "rule {rule} can never be met: group '{group}' has {members} member(s) "
            "who can be asked",
            rule=str(rule),
            group=group.name,
            members=members,
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
        raise GuardFailed("statement {id} already has an open round", id=statement.id)
    if mode == "consult":
        if statement.state != DRAFT:
            raise GuardFailed(
                "a consultation is for a draft; statement {id} is '{state}'",
                id=statement.id,
                state=statement.state,
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
            raise GuardFailed("cannot consult: {problem}", problem=problem)


def _ask(rnd: Round, member: Addressee, purpose: str) -> Mail:
    return Mail(
        dedupe_key=f"{purpose}:{rnd.id}:{member.id}:v{rnd.version_number}",
        purpose=purpose,
        to_addr=member.email,
        round_id=rnd.id,
        member_id=member.id,
        statement_id=rnd.statement_id,
    )


def close_if_due(ctx: Context, uow: UnitOfWork, rnd: Round, now: datetime) -> None:
    counts = rnd.counts
    reason = rules.close_reason(rules.parse_rule(rnd.rule), counts, rnd.deadline, now, rnd.mode)
    if reason:
        close_with_reason(ctx, uow, rnd, reason, now)


def close_with_reason(
    ctx: Context, uow: UnitOfWork, rnd: Round, reason: str, now: datetime
) -> None:
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


def close_round(ctx: Context, round_id: int) -> RoundDocument:
    """Close now; the outcome is computed as at the deadline (silence is not consent)."""
    now = ctx.now()
    with ctx.uow() as uow:
        rnd = uow.recipients.locked_round(round_id)
        close_with_reason(ctx, uow, rnd, "closed_by_secretariat", now)
        uow.commit()
        return _round_document(ctx, uow, rnd)


def round_status(ctx: Context, round_id: int) -> RoundDocument:
    with ctx.uow(readonly=True) as uow:
        return _round_document(ctx, uow, uow.rounds.get(round_id))


def _round_document(ctx: Context, uow: UnitOfWork, rnd: Round) -> RoundDocument:
    """The round's document as `accord rounds status` prints it (written or flushed state)."""
    return round_document(uow.reader(), rnd.id, ctx.settings)


def recipient_by_email(ctx: Context, round_id: int, email: str) -> int:
    """The member id of a recipient of the round, found by the address the user typed."""
    member_id = member_by_email(ctx, email)
    with ctx.uow(readonly=True) as uow:
        uow.rounds.get(round_id)
        asked = uow.recipients.is_recipient(round_id, member_id)
    if not asked:
        raise NotFound("{email} is not a recipient of round {id}", email=email.strip(), id=round_id)
    return member_id


def member_by_email(ctx: Context, email: str) -> int:
    with ctx.uow(readonly=True) as uow:
        member = uow.members.by_email(email.strip())
        if member is None:
            raise NotFound("no member with email {email}", email=email)
        return int(member.id)
