"""Inbound mail: what a reply refers to (a recipient by reply key, our outbox rows by
Message-ID) and the memory of every mail read (`inbound_messages`, by Message-ID).

Remembering a mail a second time raises `AlreadyRemembered`: another poller read it first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from statemachines.errors import Conflict
from storage import tables as t


class AlreadyRemembered(Conflict):
    """This mail was remembered already (read before, or by another poller at the same time)."""


@dataclass(frozen=True)
class InboundMemo:
    """What is remembered of one mail read: its key and what became of it."""

    message_key: str
    received_at: datetime
    sender: str | None
    outcome: str
    round_id: int | None
    member_id: int | None
    detail: str | None


@dataclass(frozen=True)
class ReplyTarget:
    """The (round, member) a mail is about."""

    round_id: int
    member_id: int
    email: str
    statement_id: int
    mode: str

    def ids(self) -> dict[str, int]:
        return {"round_id": self.round_id, "member_id": self.member_id}


@dataclass(frozen=True)
class SentMail:
    """A row of our outbox that a mail answers or reports on."""

    id: int
    message_id: str
    dedupe_key: str
    purpose: str
    to_addr: str
    round_id: int | None
    member_id: int | None


_SENT_COLUMNS = (
    t.outbox.c.id,
    t.outbox.c.message_id,
    t.outbox.c.dedupe_key,
    t.outbox.c.purpose,
    t.outbox.c.to_addr,
    t.outbox.c.round_id,
    t.outbox.c.member_id,
)
_TARGET = (
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


class InboundRepository:
    """Reads and writes of inbound mail, in a unit of work's session."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def seen(self, message_key: str) -> bool:
        query = select(t.inbound_messages.c.message_key).where(
            t.inbound_messages.c.message_key == message_key
        )
        return self.session.execute(query).first() is not None

    def remember(self, memo: InboundMemo) -> None:
        """Remember the mail in this transaction; `AlreadyRemembered` if it is known."""
        try:
            self.session.execute(t.inbound_messages.insert().values(**vars(memo)))
        except IntegrityError as exc:
            raise AlreadyRemembered(f"mail {memo.message_key} was read before") from exc

    def target_by_key(self, reply_key: str) -> ReplyTarget | None:
        """The recipient whose reply key this is."""
        row = self.session.execute(_TARGET.where(t.recipients.c.reply_key == reply_key)).first()
        return ReplyTarget(*row) if row else None

    def target(self, round_id: int, member_id: int) -> ReplyTarget | None:
        """The member as a recipient of the round, if they are one."""
        query = _TARGET.where(
            t.recipients.c.round_id == round_id, t.recipients.c.member_id == member_id
        )
        row = self.session.execute(query).first()
        return ReplyTarget(*row) if row else None

    def sent(self, message_id: str) -> SentMail | None:
        """Our outbox row with this Message-ID."""
        query = select(*_SENT_COLUMNS).where(t.outbox.c.message_id == message_id)
        row = self.session.execute(query).first()
        return SentMail(*row) if row else None

    def answered(
        self, message_ids: Sequence[str], target: ReplyTarget | None = None
    ) -> list[SentMail]:
        """Our outbox rows about a round and member among these Message-IDs (only the target's
        when given), in no particular order."""
        query = select(*_SENT_COLUMNS).where(
            t.outbox.c.message_id.in_(message_ids),
            t.outbox.c.round_id.is_not(None),
            t.outbox.c.member_id.is_not(None),
        )
        if target is not None:
            query = query.where(
                t.outbox.c.round_id == target.round_id, t.outbox.c.member_id == target.member_id
            )
        return [SentMail(*row) for row in self.session.execute(query)]

    def version_sha256(self, statement_id: int, number: int) -> str | None:
        """The SHA-256 of a version of a statement's text."""
        return self.session.scalar(
            select(t.statement_versions.c.sha256).where(
                t.statement_versions.c.statement_id == statement_id,
                t.statement_versions.c.number == number,
            )
        )

    def bounced(self, member_id: int, outbox_id: int, error: str) -> None:
        """A hard bounce: the member gets no more mail, the outbox row is failed with `error`."""
        self.session.execute(
            update(t.members).where(t.members.c.id == member_id).values(undeliverable=True)
        )
        self.session.execute(
            update(t.outbox)
            .where(t.outbox.c.id == outbox_id)
            .values(status="failed", last_error=error)
        )
