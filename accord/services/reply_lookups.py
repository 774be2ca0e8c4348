"""What a reply mail refers to, read from the database: the (round, member) it answers, whether
it was read before, whether it is our own mail, and which text version its thread answers."""

from __future__ import annotations

import re

from accord.config import Settings
from accord.inbound.parse import Inbound
from storage.inbound import ReplyTarget, SentMail
from storage.uow import UnitOfWork

_VERSION = re.compile(r":v(\d+)(?::|$)")


def seen(uow: UnitOfWork, message_key: str) -> bool:
    return uow.inbound.seen(message_key)


def outbox_row(uow: UnitOfWork, message_id: str | None) -> SentMail | None:
    if message_id is None:
        return None
    return uow.inbound.sent(message_id)


def is_own(settings: Settings, uow: UnitOfWork, inbound: Inbound) -> bool:
    if inbound.sender and inbound.sender == settings.mail_from.strip().lower():
        return True
    return outbox_row(uow, inbound.message_id) is not None


def find_target(uow: UnitOfWork, inbound: Inbound) -> ReplyTarget | None:
    """By reply key, or else by the nearest mail of ours the message answers."""
    if inbound.reply_key:
        return uow.inbound.target_by_key(inbound.reply_key)
    for sent in answered(uow, inbound):
        assert sent.round_id is not None and sent.member_id is not None  # `answered`
        target = uow.inbound.target(sent.round_id, sent.member_id)
        if target:
            return target
    return None


def answered(
    uow: UnitOfWork, inbound: Inbound, target: ReplyTarget | None = None
) -> list[SentMail]:
    """Our outbox rows the mail answers (about one round and member), nearest first."""
    if not inbound.references:
        return []
    rows = {row.message_id: row for row in uow.inbound.answered(inbound.references, target)}
    return [rows[m] for m in inbound.references if m in rows]


def answered_text(uow: UnitOfWork, inbound: Inbound, target: ReplyTarget) -> str | None:
    """The SHA-256 of the text version the mail answers, when its thread says (else None: the
    current text). Asking mails carry their version in their outbox key (`...:v2`)."""
    for sent in answered(uow, inbound, target):
        version = _VERSION.search(sent.dedupe_key)
        if version:
            return uow.inbound.version_sha256(target.statement_id, int(version.group(1)))
    return None
