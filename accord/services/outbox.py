"""The outbox: mail is written as rows in the same transaction as the change that causes it.

Each row has a unique dedupe key (purpose, round, member, ...) and a Message-ID fixed when it is
written, so a retry or a crash never makes a second, different message; `deliver` claims rows,
renders and sends them, and marks them sent or failed.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from accord.config import Settings
from storage.outbox import NewMail, inserting
from storage.plain import Write
from storage.uow import UnitOfWork


@dataclass(frozen=True)
class Mail:
    """One message to write to the outbox."""

    dedupe_key: str
    purpose: str
    to_addr: str
    round_id: int | None = None
    member_id: int | None = None
    statement_id: int | None = None
    thread_id: str | None = None
    data: Mapping[str, Any] | None = None


def message_domain(mail_from: str) -> str:
    return mail_from.rpartition("@")[2] or "localhost"


def message_id_for(settings: Settings, dedupe_key: str) -> str:
    """A stable Message-ID no outsider can compute: an HMAC of the row's key under the secret
    key. Replies are matched by References too, so a guessable id would let a forged mail
    (with a spoofed From) pass for a member's answer."""
    return _keyed_message_id(settings.resolve_secret_key().encode(), settings, dedupe_key)


def _keyed_message_id(secret: bytes, settings: Settings, dedupe_key: str) -> str:
    from accord.mail.message import make_message_id

    keyed = hmac.new(secret, dedupe_key.encode(), hashlib.sha256).hexdigest()
    return make_message_id(keyed, message_domain(settings.mail_from))


def enqueue(uow: UnitOfWork, mails: Iterable[Mail], *, settings: Settings) -> int:
    """Insert the rows in one statement; keys already present are skipped (idempotent)."""
    secret = settings.resolve_secret_key().encode()  # read once, not once a row
    return uow.outbox.enqueue([_new_mail(m, secret, settings) for m in mails])


def inserting_new(mail: Mail, *, settings: Settings) -> Write:
    """The INSERT of one row whose key names something written in the same transaction (a
    receipt for a new decision id), so it cannot be present yet: no lookup first."""
    return inserting(_new_mail(mail, settings.resolve_secret_key().encode(), settings))


def _new_mail(mail: Mail, secret: bytes, settings: Settings) -> NewMail:
    return NewMail(
        dedupe_key=mail.dedupe_key,
        purpose=mail.purpose,
        to_addr=mail.to_addr,
        round_id=mail.round_id,
        member_id=mail.member_id,
        statement_id=mail.statement_id,
        thread_id=mail.thread_id,
        data=mail.data or {},
        message_id=_keyed_message_id(secret, settings, mail.dedupe_key),
    )


def is_queued(uow: UnitOfWork, dedupe_key: str) -> bool:
    """Whether a mail with this key was ever enqueued (whatever became of it)."""
    return bool(uow.outbox.present_keys([dedupe_key]))


def asking_message_ids(uow: UnitOfWork, round_id: int) -> dict[int, str]:
    """Each member's latest request of a round (invitation, consultation or revision), to thread
    reminders under the mail the member actually has."""
    return uow.outbox.asking_message_ids(round_id)


def delivery_counts(uow: UnitOfWork, round_id: int) -> dict[str, int]:
    """The round's outbox rows by status (the `delivery` of its status document)."""
    return uow.outbox.delivery_counts(round_id)
