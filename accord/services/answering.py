"""Answering: one service for every way an answer arrives, over one `AnswerStore`.

A member's link (its page and its buttons, in the reply app), `accord replies record` and a
reply by mail all come to `record_answer`: in one transaction of the store, the round's row is
read locked, the answer is checked and planned here (`plan_answer`: the recipient, the history,
the tally, the decision record, the receipt, and the close when the answer closes the round), and
the store writes the plan. The reply app gives it the store `create_app` chose (asyncpg on
PostgreSQL, else a unit of work run in a worker thread); the CLI and the mail poller call
`record_decision`, the same service on a unit of work, inline.

A refused answer records nothing and raises: `BadLink`, `RoundClosed`, `StaleText`, `NotFound`,
`InvalidInput` (`CommentTooLong`), or `storage.answers.DatabaseBusy` (try again).
"""

from __future__ import annotations

from collections.abc import Coroutine
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, TypeVar

from accord.services.answer_pages import ReplyPage, page_document
from accord.services.context import Context
from accord.services.links import BadLink, LinkClaims, read_token
from accord.services.outbox import Mail, inserting_new
from statemachines import answers
from statemachines import rounds as rules
from statemachines.errors import AccordError, Conflict, InvalidInput, NotFound
from statemachines.statements import state_after_round
from storage.answers import (
    AnswerHead,
    AnswerStore,
    Closing,
    PageRow,
    SyncAnswerStore,
    adding_decision,
    closing_statement,
    moving_tally,
    setting_decision,
)
from storage.audit import Entry, appending, next_entry
from storage.plain import Write

T = TypeVar("T")


class RoundClosed(AccordError):
    """An answer to a round that is no longer open."""


class StaleText(AccordError):
    """An answer to a text version that has been superseded."""


class CommentTooLong(InvalidInput):
    """A comment over `rules.COMMENT_LIMIT` characters: refused, never cut."""


@dataclass(frozen=True)
class AnswerRequest:
    """An answer to record. `link`: it came by the member's link (refusals are then explained
    as the link's page explains them); `text_sha256`: the text a reply by mail answers."""

    round_id: int
    member_id: int
    decision: str
    comment: str | None
    channel: str
    actor: str | None = None
    text_sha256: str | None = None
    link: LinkClaims | None = None


@dataclass(frozen=True)
class Recorded:
    """An answer as recorded (`accord replies record --json`), and the round after it."""

    round_id: int
    member: str
    decision: str
    comment: str | None
    recorded_at: str
    channel: str
    text_sha256: str
    round_state: str
    outcome: str | None


@dataclass(frozen=True)
class Answered:
    """The round's row as the answer found it, the answer as recorded, and whether it repeated
    the answer already recorded (then nothing new was written)."""

    row: PageRow
    recorded: Recorded
    repeated: bool = False


@dataclass(frozen=True)
class LinkAnswer(ReplyPage):
    """The page as it was before the answer, the answer as recorded, and whether it repeated
    the last one."""

    recorded: Recorded
    repeated: bool


async def reply_page(ctx: Context, store: AnswerStore, token: str) -> ReplyPage:
    """Everything the confirmation page of a member's link shows; records nothing."""
    claims = _claims(ctx, token)
    row = await store.page(claims.round_id, claims.member_id)
    return page_document(ctx, _answerable(claims, row))


async def answer_by_link(
    ctx: Context, store: AnswerStore, token: str, decision: str, comment: str | None
) -> LinkAnswer:
    """Record the button the member pressed on their page: the page (as it was before the
    answer), the answer as recorded (`recorded`) and whether it repeated the last (`repeated`).
    A link its page would refuse is refused the same way."""
    claims = _claims(ctx, token)
    request = AnswerRequest(
        claims.round_id, claims.member_id, decision, comment, channel="link", link=claims
    )
    answered = await record_answer(ctx, store, request)
    page = page_document(ctx, answered.row)
    return LinkAnswer(**vars(page), recorded=answered.recorded, repeated=answered.repeated)


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
) -> Recorded:
    """`record_answer` on the context's unit of work, run inline (the CLI, the mail poller):
    the answer as recorded."""
    store = SyncAnswerStore(ctx.db, begin=ctx.uow)
    request = AnswerRequest(
        round_id, member_id, decision, comment, channel, actor=actor, text_sha256=text_sha256
    )
    return finished(record_answer(ctx, store, request)).recorded


async def record_answer(ctx: Context, store: AnswerStore, request: AnswerRequest) -> Answered:
    """Record one member's answer (replacing their earlier one) with its receipt, and close the
    round if it is due; an answer identical to the one recorded is recorded once."""

    def plan(row: PageRow | None, head: AnswerHead | None) -> tuple[list[Write], Answered]:
        checked = _checked(request, row)
        if head is None:  # the head is read with the row: never without it
            raise Conflict("the decision record has no head")
        return plan_answer(ctx, request, checked, head)

    return await store.answer(request.round_id, request.member_id, plan)


def finished(coroutine: Coroutine[Any, Any, T]) -> T:
    """The result of a coroutine that never waits: the service on a store that runs inline,
    called by code that has no event loop of its own to give it (or must not block one)."""
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    coroutine.close()
    raise RuntimeError("a coroutine meant to run inline waited for something")


def _claims(ctx: Context, token: str) -> LinkClaims:
    return read_token(ctx.settings.resolve_secret_key(), token, ctx.now())


def _answerable(claims: LinkClaims, row: PageRow | None) -> PageRow:
    """The page's row of a genuine link to an open round, as it was sent; else the refusal the
    page shows."""
    if row is None:  # a genuine link to a round or member that no longer exists
        raise BadLink("this link is not valid")
    if claims.text_sha256 != row.text_sha256:
        raise StaleText(
            "the text has changed since this link was sent; please use the link in the newest mail"
        )
    if row.state != rules.OPEN:
        raise RoundClosed("this round is closed; answers are no longer recorded")
    if row.recipient_id is None or row.number is None:
        raise BadLink("this link is not valid")
    return row


def _checked(request: AnswerRequest, row: PageRow | None) -> PageRow:
    """The locked row of a round this answer may be recorded in; else the refusal."""
    if request.link is not None:
        row = _answerable(request.link, row)
    if row is None:
        raise NotFound(f"no round with id {request.round_id}")
    if request.decision not in rules.DECISIONS[row.mode]:
        allowed = ", ".join(rules.DECISIONS[row.mode])
        raise InvalidInput(
            "unknown decision '{decision}' (use {allowed})",
            decision=request.decision,
            allowed=allowed,
        )
    if row.state != rules.OPEN:
        raise RoundClosed("round {id} is closed; answers are no longer recorded", id=row.id)
    if request.text_sha256 is not None and request.text_sha256 != row.text_sha256:
        raise StaleText("this link is for an earlier version of the text; use the newest mail")
    if row.recipient_id is None:
        raise NotFound(
            "member {member} is not a recipient of round {id}", member=request.member_id, id=row.id
        )
    return row


def plan_answer(
    ctx: Context, request: AnswerRequest, row: PageRow, head: AnswerHead
) -> tuple[list[Write], Answered]:
    """What recording a checked answer writes (the recipient, the history, the tally, the
    decision record, the receipt; and the close, if it closes the round), and the answer as
    recorded. The same answer as the one recorded writes nothing."""
    comment = answers.clean_comment(request.comment)
    problem = answers.comment_problem(comment)
    if problem:
        raise CommentTooLong(problem)
    if row.answered == request.decision and row.comment == comment and row.decided_at:
        return [], Answered(row, _recorded(request, row, comment, row.decided_at), repeated=True)
    now = ctx.now()
    counts = rules.Tally.kept_by(row).after_answer(row.answered, request.decision)
    closing = _closing(row, counts, now)
    entry = _answer_entry(request, row, head, comment, now)
    assert row.recipient_id is not None  # _checked
    writes = [
        setting_decision(row.recipient_id, request.decision, row.text_sha256, comment, now),
        adding_decision(
            head.decision_id,
            row,
            request.member_id,
            request.decision,
            comment,
            request.channel,
            now,
        ),
        moving_tally(
            row.id, counts, answers.is_political_decline(request.decision, comment), closing
        ),
        *appending(entry, *([_close_entry(row, counts, closing, entry)] if closing else [])),
        inserting_new(_receipt(request, row, head), settings=ctx.settings),
    ]
    recorded = _recorded(request, row, comment, now)
    if closing is None:
        return writes, Answered(row, recorded)
    writes += [
        *_closing_statement(row, closing),
        inserting_new(_result_mail(ctx, row), settings=ctx.settings),
    ]
    closed = replace(recorded, round_state=rules.CLOSED, outcome=closing.outcome)
    return writes, Answered(row, closed)


def _closing(row: PageRow, counts: rules.Tally, now: datetime) -> Closing | None:
    """How the round closes once its tally is `counts`, if it must close now."""
    rule = rules.parse_rule(row.rule)
    reason = rules.close_reason(rule, counts, row.deadline, now, row.mode)
    if reason is None:
        return None
    return Closing(rules.close_outcome(rule, counts, row.mode, reason), reason, now)


def _answer_entry(
    request: AnswerRequest, row: PageRow, head: AnswerHead, comment: str | None, at: datetime
) -> Entry:
    """The decision record's entry of the answer, after its head."""
    return next_entry(
        head.seq,
        head.hash,
        actor=request.actor or row.email,
        channel=request.channel,
        entity_type="round",
        entity_id=row.id,
        action=f"decision.{request.decision}",
        at=at,
        text_sha256=row.text_sha256,
        payload={
            "member": row.email,
            "decision": request.decision,
            "comment": comment,
            "previous": row.answered,
        },
    )


def _receipt(request: AnswerRequest, row: PageRow, head: AnswerHead) -> Mail:
    """The member's copy of their answer (keyed by the new decision's id)."""
    return Mail(
        dedupe_key=f"receipt:{head.decision_id}",
        purpose="receipt",
        to_addr=row.email,
        round_id=row.id,
        member_id=request.member_id,
        statement_id=row.statement_id,
        data={"decision_id": head.decision_id},
    )


def _recorded(request: AnswerRequest, row: PageRow, comment: str | None, at: datetime) -> Recorded:
    return Recorded(
        round_id=row.id,
        member=row.email,
        decision=request.decision,
        comment=comment,
        recorded_at=at.isoformat(),
        channel=request.channel,
        text_sha256=row.text_sha256,
        round_state=row.state,
        outcome=row.outcome,
    )


def _closing_statement(row: PageRow, closing: Closing) -> list[Write]:
    """The statement's move when its round closes (none unless the lifecycle moves it)."""
    state = state_after_round(row.statement_state, row.mode, closing.outcome)
    if state == row.statement_state:
        return []
    endorsed = row.version_number if closing.outcome == rules.ENDORSED else None
    return [closing_statement(row.statement_id, state, endorsed)]


def _close_entry(row: PageRow, counts: rules.Tally, closing: Closing, after: Entry) -> Entry:
    """The decision record's entry of the close, chained after the answer's."""
    return next_entry(
        after.seq,
        after.hash,
        actor="accord",
        channel="system",
        entity_type="round",
        entity_id=row.id,
        action="close",
        at=closing.at,
        text_sha256=row.text_sha256,
        payload={
            "outcome": closing.outcome,
            "reason": closing.reason,
            "tally": counts.as_dict(),
            "statement_state": state_after_round(row.statement_state, row.mode, closing.outcome),
        },
    )


def _result_mail(ctx: Context, row: PageRow) -> Mail:
    """The secretariat's mail that the round closed (as every close sends it)."""
    return Mail(
        dedupe_key=f"result:{row.id}",
        purpose="result",
        to_addr=ctx.settings.mail_from,
        round_id=row.id,
        statement_id=row.statement_id,
    )
