"""What a reply mail refers to, read from the database: the (round, member) it answers, whether
it was read before, whether it is our own mail, and which text version its thread answers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from accord.config import Settings
from accord.inbound.parse import Inbound
from storage import tables as t
from storage.uow import UnitOfWork

_VERSION = re.compile(r":v(\d+)(?::|$)")


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


def seen(uow: UnitOfWork, message_key: str) -> bool:
    query = select(t.inbound_messages.c.message_key).where(
        t.inbound_messages.c.message_key == message_key
    )
    return uow.session.execute(query).first() is not None


def outbox_row(uow: UnitOfWork, message_id: str | None) -> Any:
    if message_id is None:
        return None
    return uow.session.execute(select(t.outbox).where(t.outbox.c.message_id == message_id)).first()


def is_own(settings: Settings, uow: UnitOfWork, inbound: Inbound) -> bool:
    if inbound.sender and inbound.sender == settings.mail_from.strip().lower():
        return True
    return outbox_row(uow, inbound.message_id) is not None


def find_target(uow: UnitOfWork, inbound: Inbound) -> ReplyTarget | None:
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
        return ReplyTarget(**row._mapping) if row else None
    for sent in answered(uow, inbound):
        row = uow.session.execute(
            query.where(
                t.recipients.c.round_id == sent.round_id,
                t.recipients.c.member_id == sent.member_id,
            )
        ).first()
        if row:
            return ReplyTarget(**row._mapping)
    return None


def answered(uow: UnitOfWork, inbound: Inbound, target: ReplyTarget | None = None) -> list[Any]:
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


def answered_text(uow: UnitOfWork, inbound: Inbound, target: ReplyTarget) -> str | None:
    """The SHA-256 of the text version the mail answers, when its thread says (else None: the
    current text). Asking mails carry their version in their outbox key (`...:v2`)."""
    for sent in answered(uow, inbound, target):
        version = _VERSION.search(sent.dedupe_key)
        if version:
            return uow.session.scalar(
                select(t.statement_versions.c.sha256).where(
                    t.statement_versions.c.statement_id == target.statement_id,
                    t.statement_versions.c.number == int(version.group(1)),
                )
            )
    return None
