"""Replies by email: each mail is read once, what it says is recorded, then answered or not.

A mail concerns accord when it carries a reply key (To, Delivered-To, X-Original-To), answers a
mail of ours (In-Reply-To, References) or reports on one (a delivery status notification).
Anything else is *unrelated* and stays untouched, unread, in the mailbox.

Every mail that concerns accord is remembered in `inbound_messages` under its Message-ID (or the
hash of its bytes) in the same transaction as what it caused: a decision, an explanation, an
entry in the decision record. Reading the same mail twice therefore records nothing twice, and a
crash between the database and the mailbox only means the mail is seen again as a duplicate.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from accord.inbound.dsn import DeliveryReport
from accord.inbound.parse import (
    AUTO_REPLY,
    BOUNCE,
    FORWARD,
    Inbound,
    read_message,
)
from accord.services.answering import RoundClosed, StaleText, record_decision
from accord.services.context import Context
from accord.services.outbox import Mail, enqueue
from accord.services.reply_lookups import answered_text, find_target, is_own, outbox_row, seen
from storage.inbound import AlreadyRemembered, InboundMemo, ReplyTarget, SentMail
from storage.uow import UnitOfWork

# What became of a mail (ReplyOutcome.outcome; parse's AUTO_REPLY and BOUNCE are two more).
RECORDED = "recorded"  # a decision was recorded
REJECTED = "rejected"  # the sender does not own the key: in the decision record
UNREADABLE = "unreadable"  # no answer on the first line: explained
CLOSED = "closed"  # the round is closed: explained
STALE = "stale"  # it answers an earlier text: explained
FORWARDED = "forward"
OWN = "own"  # our own mail
UNDELIVERABLE = "undeliverable"  # a hard bounce: the member is marked
DELIVERY_REPORT = "delivery_report"  # any other delivery status notification
UNKNOWN_KEY = "unknown_key"
DUPLICATE = "duplicate"  # read before
UNRELATED = "unrelated"  # not for accord: left unread
ERROR = "error"  # processing failed: left unread, retried next poll
LATER = "later"  # over the poll's limit: left for the next poll
EXPLAINED = frozenset({UNREADABLE, CLOSED, STALE})
# The words of a reply (parse.WORDS) as the answers each kind of round takes.
ANSWERS: dict[str, dict[str, str]] = {
    "endorse": {"endorse": "endorse", "decline": "decline", "abstain": "abstain"},
    "consult": {
        "endorse": "support",
        "support": "support",
        "decline": "concerns",
        "concerns": "concerns",
        "abstain": "abstain",
    },
}
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReplyOutcome:
    """What became of one mail."""

    outcome: str
    message_key: str
    round_id: int | None = None
    member_id: int | None = None
    decision: str | None = None
    detail: str | None = None

    @property
    def processed(self) -> bool:
        """Whether the mailbox marks it done: unrelated mail stays unread, failures are retried."""
        return self.outcome not in (UNRELATED, ERROR)


Effect = Callable[[UnitOfWork], None]


def process_reply(ctx: Context, raw: bytes) -> ReplyOutcome:
    """Read one mail (RFC 5322 bytes) and do what it asks, once."""
    inbound = read_message(raw, reply_pattern=ctx.settings.reply_pattern)
    if inbound.report is not None:
        return _delivery_report(ctx, inbound, inbound.report)
    with ctx.uow(readonly=True) as uow:
        if seen(uow, inbound.message_key):
            return ReplyOutcome(DUPLICATE, inbound.message_key)
        target = find_target(uow, inbound)
        own = target is not None and is_own(ctx.settings, uow, inbound)
        answered = answered_text(uow, inbound, target) if target else None
    if target is None:
        return _settle(ctx, inbound, _nobody(inbound), None)
    verdict = _verdict(inbound, target, own)
    if verdict.outcome != RECORDED:
        return _settle(ctx, inbound, verdict, target)
    return _record(ctx, inbound, target, verdict, answered)


def _nobody(inbound: Inbound) -> ReplyOutcome:
    """A mail about no recipient: an unknown key is remembered, anything else is unrelated."""
    if inbound.reply_key:
        return ReplyOutcome(UNKNOWN_KEY, inbound.message_key, detail="no recipient has this key")
    return ReplyOutcome(UNRELATED, inbound.message_key)


def _verdict(inbound: Inbound, target: ReplyTarget, own: bool) -> ReplyOutcome:
    """RECORDED with the decision to record, or why the mail records none."""
    key, ids = inbound.message_key, target.ids()
    if own:
        return ReplyOutcome(OWN, key, **ids, detail="our own mail")
    if inbound.kind in (AUTO_REPLY, BOUNCE):
        return ReplyOutcome(inbound.kind, key, **ids, detail=inbound.reason)
    if inbound.sender != target.email.lower():
        return ReplyOutcome(REJECTED, key, **ids, detail="the sender does not own the reply key")
    if inbound.kind == FORWARD:
        return ReplyOutcome(FORWARDED, key, **ids, detail=inbound.reason)
    decision = ANSWERS.get(target.mode, {}).get(inbound.decision or "")
    if decision is None:
        detail = inbound.reason or f"'{inbound.decision}' is not an answer in this round"
        return ReplyOutcome(UNREADABLE, key, **ids, detail=detail)
    return ReplyOutcome(RECORDED, key, **ids, decision=decision, detail=decision)


def _record(
    ctx: Context,
    inbound: Inbound,
    target: ReplyTarget,
    outcome: ReplyOutcome,
    text_sha256: str | None,
) -> ReplyOutcome:
    """Record the decision; its transaction also remembers the mail (see _RememberingContext)."""
    memo = _memo(ctx, inbound, outcome)
    recording = _RememberingContext(ctx.settings, ctx.actor, "email", _db=ctx.db, memo=memo)
    try:
        record_decision(
            recording,
            round_id=target.round_id,
            member_id=target.member_id,
            decision=outcome.decision or "",
            comment=inbound.comment,
            channel="email",
            text_sha256=text_sha256,
        )
    except (RoundClosed, StaleText) as exc:
        name = CLOSED if isinstance(exc, RoundClosed) else STALE
        refused = replace(outcome, outcome=name, decision=None, detail=str(exc))
        return _settle(ctx, inbound, refused, target)
    except AlreadyRemembered:  # another poller remembered this mail first
        return ReplyOutcome(DUPLICATE, inbound.message_key)
    return outcome


def _settle(
    ctx: Context, inbound: Inbound, outcome: ReplyOutcome, target: ReplyTarget | None
) -> ReplyOutcome:
    """Remember a mail that records no decision, with what it still causes."""
    if outcome.outcome == UNRELATED:
        return outcome
    effects: list[Effect] = []
    if outcome.outcome == REJECTED and target is not None:
        effects.append(_log_rejection(ctx, inbound, target))
    if outcome.outcome in EXPLAINED and target is not None:
        effects.append(_explain(ctx, inbound, target, outcome.detail or ""))
    return _commit(ctx, inbound, outcome, effects)


def _commit(
    ctx: Context, inbound: Inbound, outcome: ReplyOutcome, effects: list[Effect]
) -> ReplyOutcome:
    try:
        with ctx.uow() as uow:
            uow.inbound.remember(_memo(ctx, inbound, outcome))
            for effect in effects:
                effect(uow)
            uow.commit()
    except AlreadyRemembered:  # another poller remembered this mail first
        return ReplyOutcome(DUPLICATE, inbound.message_key)
    return outcome


def _memo(ctx: Context, inbound: Inbound, outcome: ReplyOutcome) -> InboundMemo:
    return InboundMemo(
        message_key=inbound.message_key,
        received_at=ctx.now(),
        sender=(inbound.sender or "")[:320] or None,
        outcome=outcome.outcome,
        round_id=outcome.round_id,
        member_id=outcome.member_id,
        detail=(outcome.detail or "")[:2000] or None,
    )


def _log_rejection(ctx: Context, inbound: Inbound, target: ReplyTarget) -> Effect:
    def write(uow: UnitOfWork) -> None:
        uow.audit.append(
            actor=(inbound.sender or "unknown sender")[:320],
            channel="email",
            entity_type="round",
            entity_id=target.round_id,
            action="reply.rejected",
            at=ctx.now(),
            payload={
                "member": target.email,
                "sender": inbound.sender,
                "message_id": inbound.message_id,
                "reason": "the sender does not own the reply key",
            },
        )

    return write


def _explain(ctx: Context, inbound: Inbound, target: ReplyTarget, reason: str) -> Effect:
    """One polite explanation per address and day, threaded under the member's mail."""
    day = ctx.now().astimezone(ctx.settings.tz).date().isoformat()
    address = target.email.lower()
    dedupe_key = f"explain:{address}:{day}"
    if len(dedupe_key) > 200:  # the column's width; a very long address is hashed
        dedupe_key = f"explain:{hashlib.sha256(address.encode()).hexdigest()}:{day}"
    thread = inbound.message_id if inbound.message_id and len(inbound.message_id) <= 200 else None
    mail = Mail(
        dedupe_key=dedupe_key,
        purpose="explain",
        to_addr=target.email,
        statement_id=target.statement_id,
        thread_id=thread,
        data={"reason": reason},
        **target.ids(),
    )

    def write(uow: UnitOfWork) -> None:
        enqueue(uow, [mail], settings=ctx.settings)

    return write


def _delivery_report(ctx: Context, inbound: Inbound, report: DeliveryReport) -> ReplyOutcome:
    """A DSN about a mail of ours goes into the member's record; a hard bounce marks them."""
    with ctx.uow(readonly=True) as uow:
        if seen(uow, inbound.message_key):
            return ReplyOutcome(DUPLICATE, inbound.message_key)
        sent = outbox_row(uow, report.original_message_id)
    if sent is None or sent.member_id is None:
        return ReplyOutcome(UNRELATED, inbound.message_key)
    hard = next((s for s in report.recipients if s.hard), None)
    detail = f"{hard.status} {hard.diagnostic}".strip() if hard else "delivery report"
    outcome = ReplyOutcome(
        UNDELIVERABLE if hard else DELIVERY_REPORT,
        inbound.message_key,
        round_id=sent.round_id,
        member_id=sent.member_id,
        detail=detail,
    )
    return _commit(
        ctx, inbound, outcome, [_log_report(ctx, inbound, report, sent, hard is not None)]
    )


def _log_report(
    ctx: Context, inbound: Inbound, report: DeliveryReport, sent: SentMail, hard: bool
) -> Effect:
    def write(uow: UnitOfWork) -> None:
        uow.audit.append(
            actor=(inbound.sender or "mailer-daemon")[:320],  # the column's length
            channel="email",
            entity_type="member",
            entity_id=sent.member_id,
            action="mail.undeliverable" if hard else "mail.delivery_report",
            at=ctx.now(),
            payload={
                "to": sent.to_addr,
                "message_id": sent.message_id,
                "purpose": sent.purpose,
                "round": sent.round_id,
                "statuses": [vars(s) for s in report.recipients],
            },
        )
        if hard:
            _mark_undeliverable(uow, sent, report)

    return write


def _mark_undeliverable(uow: UnitOfWork, sent: SentMail, report: DeliveryReport) -> None:
    """The member gets no more mail; the bounced outbox row shows as failed in round status."""
    assert sent.member_id is not None  # a report about no member is unrelated
    failures = "; ".join(f"{s.status} {s.diagnostic}".strip() for s in report.recipients if s.hard)
    uow.inbound.bounced(sent.member_id, sent.id, f"bounced: {failures}"[:2000])


@dataclass
class _RememberingContext(Context):
    """The context `record_decision` is given: its one transaction also remembers the mail, so
    the decision and the mark that its mail was read are committed together or not at all."""

    memo: InboundMemo | None = field(default=None)

    def uow(self, *, readonly: bool = False) -> UnitOfWork:
        if readonly or self.memo is None:
            return super().uow(readonly=readonly)
        return self.db.remembering(self.memo)
