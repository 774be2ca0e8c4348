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
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, or_, select

from accord.config import Settings
from accord.services.status import delivery
from storage import tables as t
from storage.plain import Reader, Write
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
    rows = [_row(m, secret, settings) for m in mails]
    if not rows:
        return 0
    present = _present_keys(uow, [r["dedupe_key"] for r in rows])
    fresh = [r for r in rows if r["dedupe_key"] not in present]
    if fresh:
        uow.session.execute(_INSERT, fresh)
    return len(fresh)


def inserting_new(mail: Mail, *, settings: Settings) -> Write:
    """The INSERT of one row whose key names something written in the same transaction (a
    receipt for a new decision id), so it cannot be present yet: no lookup first."""
    row = _row(mail, settings.resolve_secret_key().encode(), settings)
    row["created_at"] = datetime.now(UTC)
    placeholders = ", ".join(["%s"] * len(row))
    return f"INSERT INTO outbox ({', '.join(row)}) VALUES ({placeholders})", tuple(row.values())


def _row(mail: Mail, secret: bytes, settings: Settings) -> dict[str, Any]:
    return {
        "dedupe_key": mail.dedupe_key,
        "purpose": mail.purpose,
        "to_addr": mail.to_addr,
        "round_id": mail.round_id,
        "member_id": mail.member_id,
        "statement_id": mail.statement_id,
        "thread_id": mail.thread_id,
        "data": dict(mail.data or {}),
        "message_id": _keyed_message_id(secret, settings, mail.dedupe_key),
        "status": "pending",
        "attempts": 0,
    }


_INSERT = t.outbox.insert()
# Built once (an expanding IN): a new statement per call costs more than running it.
_PRESENT = select(t.outbox.c.dedupe_key).where(
    t.outbox.c.dedupe_key.in_(bindparam("keys", expanding=True))
)


def _present_keys(uow: UnitOfWork, keys: list[str], chunk: int = 500) -> set[str]:
    present: set[str] = set()
    for start in range(0, len(keys), chunk):
        present.update(uow.session.scalars(_PRESENT, {"keys": keys[start : start + chunk]}))
    return present


def claimable(now: datetime) -> ColumnElement[bool]:
    """Outbox rows a sender may claim at `now`: pending, or claimed by a sender whose lease ran
    out (it died or hung)."""
    return or_(
        t.outbox.c.status == "pending",
        and_(t.outbox.c.status == "sending", t.outbox.c.claimed_until < now),
    )


def is_queued(uow: UnitOfWork, dedupe_key: str) -> bool:
    """Whether a mail with this key was ever enqueued (whatever became of it)."""
    return bool(_present_keys(uow, [dedupe_key]))


def asking_message_ids(uow: UnitOfWork, round_id: int) -> dict[int, str]:
    """Each member's latest request of a round (invitation, consultation or revision), to thread
    reminders under the mail the member actually has."""
    query = (
        select(t.outbox.c.member_id, t.outbox.c.message_id)
        .where(
            t.outbox.c.round_id == round_id,
            t.outbox.c.purpose.in_(("invitation", "consultation", "revision")),
        )
        .order_by(t.outbox.c.id)
    )
    return {member_id: message_id for member_id, message_id in uow.session.execute(query)}


def delivery_counts(uow: UnitOfWork, round_id: int) -> dict[str, int]:
    """The round's outbox rows by status (the `delivery` of its status document)."""
    return delivery(Reader.of_session(uow.session), round_id)
