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

import asyncio
import hashlib
import logging
import re
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import Engine, select, update
from sqlalchemy.exc import IntegrityError

from accord.config import Settings
from accord.inbound.dsn import DeliveryReport
from accord.inbound.imap import Mailbox, MailboxSettings
from accord.inbound.parse import (
    AUTO_REPLY,
    BOUNCE,
    FORWARD,
    REPORT,
    Inbound,
    raw_key,
    read_message,
)
from accord.services.answering import RoundClosed, StaleText, record_decision
from accord.services.context import Context
from accord.services.outbox import Mail, enqueue
from statemachines.errors import InvalidInput
from storage import tables as t
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
_VERSION = re.compile(r":v(\d+)(?::|$)")
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


@dataclass(frozen=True)
class _Target:
    """The (round, member) a mail is about."""

    round_id: int
    member_id: int
    email: str
    statement_id: int
    mode: str

    def ids(self) -> dict[str, int]:
        return {"round_id": self.round_id, "member_id": self.member_id}


Effect = Callable[[UnitOfWork], None]


def process_reply(ctx: Context, raw: bytes) -> ReplyOutcome:
    """Read one mail (RFC 5322 bytes) and do what it asks, once."""
    inbound = read_message(raw, reply_pattern=ctx.settings.reply_pattern)
    if inbound.report is not None:
        return _delivery_report(ctx, inbound, inbound.report)
    with ctx.uow(readonly=True) as uow:
        if _seen(uow, inbound.message_key):
            return ReplyOutcome(DUPLICATE, inbound.message_key)
        target = _target(uow, inbound)
        own = target is not None and _is_own(ctx.settings, uow, inbound)
        answered = _answered_text(uow, inbound, target) if target else None
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


def _verdict(inbound: Inbound, target: _Target, own: bool) -> ReplyOutcome:
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
    target: _Target,
    outcome: ReplyOutcome,
    text_sha256: str | None,
) -> ReplyOutcome:
    """Record the decision; its transaction also remembers the mail (see _RememberingContext)."""
    row = _memo(ctx, inbound, outcome)
    recording = _RememberingContext(ctx.settings, ctx.actor, "email", _db=ctx.db, row=row)
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
    except IntegrityError:  # another poller remembered this mail first
        return ReplyOutcome(DUPLICATE, inbound.message_key)
    return outcome


def _settle(
    ctx: Context, inbound: Inbound, outcome: ReplyOutcome, target: _Target | None
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
            uow.session.execute(t.inbound_messages.insert().values(**_memo(ctx, inbound, outcome)))
            for effect in effects:
                effect(uow)
            uow.commit()
    except IntegrityError:  # another poller remembered this mail first
        return ReplyOutcome(DUPLICATE, inbound.message_key)
    return outcome


def _memo(ctx: Context, inbound: Inbound, outcome: ReplyOutcome) -> dict[str, Any]:
    return {
        "message_key": inbound.message_key,
        "received_at": ctx.now(),
        "sender": (inbound.sender or "")[:320] or None,
        "outcome": outcome.outcome,
        "round_id": outcome.round_id,
        "member_id": outcome.member_id,
        "detail": (outcome.detail or "")[:2000] or None,
    }


def _log_rejection(ctx: Context, inbound: Inbound, target: _Target) -> Effect:
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


def _explain(ctx: Context, inbound: Inbound, target: _Target, reason: str) -> Effect:
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
        if _seen(uow, inbound.message_key):
            return ReplyOutcome(DUPLICATE, inbound.message_key)
        sent = _outbox_row(uow, report.original_message_id)
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
    ctx: Context, inbound: Inbound, report: DeliveryReport, sent: Any, hard: bool
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


def _mark_undeliverable(uow: UnitOfWork, sent: Any, report: DeliveryReport) -> None:
    """The member gets no more mail; the bounced outbox row shows as failed in round status."""
    uow.session.execute(
        update(t.members).where(t.members.c.id == sent.member_id).values(undeliverable=True)
    )
    failures = "; ".join(f"{s.status} {s.diagnostic}".strip() for s in report.recipients if s.hard)
    uow.session.execute(
        update(t.outbox)
        .where(t.outbox.c.id == sent.id)
        .values(status="failed", last_error=f"bounced: {failures}"[:2000])
    )


def _seen(uow: UnitOfWork, message_key: str) -> bool:
    query = select(t.inbound_messages.c.message_key).where(
        t.inbound_messages.c.message_key == message_key
    )
    return uow.session.execute(query).first() is not None


def _outbox_row(uow: UnitOfWork, message_id: str | None) -> Any:
    if message_id is None:
        return None
    return uow.session.execute(select(t.outbox).where(t.outbox.c.message_id == message_id)).first()


def _is_own(settings: Settings, uow: UnitOfWork, inbound: Inbound) -> bool:
    if inbound.sender and inbound.sender == settings.mail_from.strip().lower():
        return True
    return _outbox_row(uow, inbound.message_id) is not None


def _target(uow: UnitOfWork, inbound: Inbound) -> _Target | None:
    """By reply key, or else by the nearest mail of ours the message answers."""
    query = (
        select(
            t.recipients.c.round_id,
            t.recipients.c.member_id,
            t.members.c.email,
            t.rounds.c.statement_id,
            t.rounds.c.mode,
        )
        .join(t.members, t.members.c.id == t.recipients.c.member_id)
        .join(t.rounds, t.rounds.c.id == t.recipients.c.round_id)
    )
    if inbound.reply_key:
        row = uow.session.execute(
            query.where(t.recipients.c.reply_key == inbound.reply_key)
        ).first()
        return _Target(**row._mapping) if row else None
    for sent in _answered(uow, inbound):
        row = uow.session.execute(
            query.where(
                t.recipients.c.round_id == sent.round_id,
                t.recipients.c.member_id == sent.member_id,
            )
        ).first()
        if row:
            return _Target(**row._mapping)
    return None


def _answered(uow: UnitOfWork, inbound: Inbound, target: _Target | None = None) -> list[Any]:
    """Our outbox rows the mail answers (about one round and member), nearest first."""
    if not inbound.references:
        return []
    query = select(t.outbox).where(
        t.outbox.c.message_id.in_(inbound.references),
        t.outbox.c.round_id.is_not(None),
        t.outbox.c.member_id.is_not(None),
    )
    if target is not None:
        query = query.where(
            t.outbox.c.round_id == target.round_id, t.outbox.c.member_id == target.member_id
        )
    rows = {row.message_id: row for row in uow.session.execute(query)}
    return [rows[m] for m in inbound.references if m in rows]


def _answered_text(uow: UnitOfWork, inbound: Inbound, target: _Target) -> str | None:
    """The SHA-256 of the text version the mail answers, when its thread says (else None: the
    current text). Asking mails carry their version in their outbox key (`...:v2`)."""
    for sent in _answered(uow, inbound, target):
        version = _VERSION.search(sent.dedupe_key)
        if version:
            return uow.session.scalar(
                select(t.statement_versions.c.sha256).where(
                    t.statement_versions.c.statement_id == target.statement_id,
                    t.statement_versions.c.number == int(version.group(1)),
                )
            )
    return None


class _RememberingUnitOfWork(UnitOfWork):
    """A unit of work that writes the inbound row just before it commits."""

    def __init__(self, engine: Engine, row: Mapping[str, Any]) -> None:
        super().__init__(engine)
        self.row = row

    def commit(self) -> None:
        self.session.execute(t.inbound_messages.insert().values(**self.row))
        super().commit()


@dataclass
class _RememberingContext(Context):
    """The context `record_decision` is given: its one transaction also remembers the mail, so
    the decision and the mark that its mail was read are committed together or not at all."""

    row: Mapping[str, Any] = field(default_factory=dict)

    def uow(self, *, readonly: bool = False) -> UnitOfWork:
        if readonly:
            return super().uow(readonly=True)
        return _RememberingUnitOfWork(self.db.engine, self.row)


def mailbox_settings(settings: Settings) -> MailboxSettings:
    """The IMAP settings; a missing one is a one-line error."""
    if not settings.imap_host:
        raise InvalidInput("no mailbox to poll: ACCORD_IMAP_HOST is not set")
    if not settings.imap_username or settings.imap_password is None:
        raise InvalidInput("ACCORD_IMAP_USERNAME and ACCORD_IMAP_PASSWORD must be set to poll")
    return MailboxSettings(
        host=settings.imap_host,
        port=settings.imap_port,
        username=settings.imap_username,
        password=settings.imap_password.get_secret_value(),
        tls=settings.imap_tls,
        folder=settings.imap_folder,
    )


def poll_mailbox(ctx: Context, *, limit: int = 500, deliver_mail: bool = True) -> dict[str, Any]:
    """Read the new mail of the folder once, then send the receipts and explanations it caused.

    Counts per outcome (`later`: over `limit`, left for the next poll), `messages` in all, and
    `mail` (what delivery did). Delivery failing (SMTP down) loses nothing: the replies are
    recorded and their mail stays pending for `sweep`.
    """
    counts = asyncio.run(_read_folder(ctx, mailbox_settings(ctx.settings), limit))
    result: dict[str, Any] = {"messages": sum(counts.values()), **dict(sorted(counts.items()))}
    if deliver_mail:
        result["mail"] = _deliver(ctx)
    return result


async def _read_folder(ctx: Context, settings: MailboxSettings, limit: int) -> Counter[str]:
    """Screen new mail by its header, fetch and process what may concern accord, mark it done.

    Only headers are read of the rest, so a busy shared inbox costs little, and its unread mail
    never crowds replies out of the `limit` (what is over it waits for the next poll).
    """
    counts: Counter[str] = Counter()
    async with Mailbox(settings) as box:
        heads = await box.headers(await box.new_messages())
        wanted = [uid for uid, head in heads.items() if _may_concern(ctx, head)]
        counts.update({UNRELATED: len(heads) - len(wanted), LATER: len(wanted[limit:])})
        for uid in wanted[:limit]:
            raw = await box.fetch(uid)
            if raw is None:  # gone meanwhile (moved or deleted by someone else)
                continue
            outcome = _process_or_keep(ctx, raw)
            counts[outcome.outcome] += 1
            if outcome.processed:
                await box.mark_done(uid)
    return +counts


def _may_concern(ctx: Context, header: bytes) -> bool:
    """From a header alone: a reply key, a delivery report, or an answer to a mail of ours."""
    head = read_message(header, reply_pattern=ctx.settings.reply_pattern)
    if head.reply_key or head.kind == REPORT:
        return True
    with ctx.uow(readonly=True) as uow:
        return bool(_answered(uow, head))


def _process_or_keep(ctx: Context, raw: bytes) -> ReplyOutcome:
    """Process one mail; if that fails (database down, a bug), keep it unread for next time."""
    try:
        return process_reply(ctx, raw)
    except Exception as exc:  # one mail must not stop the others; it is retried next poll
        log.exception("could not process a reply; it stays unread")
        return ReplyOutcome(ERROR, raw_key(raw), detail=f"{type(exc).__name__}: {exc}"[:500])


def _deliver(ctx: Context) -> dict[str, Any]:
    from accord.services.delivery import deliver

    try:
        return deliver(ctx).as_dict()
    except Exception as exc:  # SMTP down: rows stay pending (or leased) for the next sweep
        log.warning("mail not delivered now: %s", exc)
        return {"sent": 0, "error": f"{type(exc).__name__}: {exc}"[:300]}
