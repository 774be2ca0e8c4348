"""The outbox's SQL: rows written with the change that causes them, claimed with a lease, marked.

The rules around it (dedupe keys, Message-IDs, leases, the in-flight window) are told in
docs/architecture.md ("A delivery" and "Invariants"); `accord.services.outbox` and
`accord.services.delivery` use this repository. On PostgreSQL a claim skips rows another sender
has locked (`FOR UPDATE SKIP LOCKED`); SQLite's writers already hold its write lock from BEGIN.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, func, or_, select, update
from sqlalchemy.orm import Session

from storage import tables as t
from storage.plain import Write

_OUTBOX = t.outbox.c
# The statuses a round's delivery document counts, zero when it has no row in one.
DELIVERY_STATUSES = ("pending", "sending", "sent", "failed")
# The purposes that ask a member for an answer; reminders are threaded under the newest one.
ASKING = ("invitation", "consultation", "revision")


@dataclass(frozen=True)
class NewMail:
    """One row to write: the columns a sender reads, with its dedupe key and Message-ID."""

    dedupe_key: str
    purpose: str
    to_addr: str
    round_id: int | None
    member_id: int | None
    statement_id: int | None
    thread_id: str | None
    data: Mapping[str, Any]
    message_id: str

    def columns(self) -> dict[str, Any]:
        """The row's columns, a fresh one pending with no attempt yet."""
        return {
            "dedupe_key": self.dedupe_key,
            "purpose": self.purpose,
            "to_addr": self.to_addr,
            "round_id": self.round_id,
            "member_id": self.member_id,
            "statement_id": self.statement_id,
            "thread_id": self.thread_id,
            "data": dict(self.data),
            "message_id": self.message_id,
            "status": "pending",
            "attempts": 0,
        }


@dataclass(frozen=True)
class ClaimedMail:
    """A row leased to this sender: what composing and sending it needs."""

    id: int
    purpose: str
    to_addr: str
    round_id: int | None
    member_id: int | None
    statement_id: int | None
    thread_id: str | None
    data: Mapping[str, Any] | None
    message_id: str


_INSERT = t.outbox.insert()
# Built once (an expanding IN): a new statement per call costs more than running it.
_PRESENT = select(_OUTBOX.dedupe_key).where(
    _OUTBOX.dedupe_key.in_(bindparam("keys", expanding=True))
)
_CLAIMED = select(*(_OUTBOX[field.name] for field in fields(ClaimedMail)))


def claimable(now: datetime) -> ColumnElement[bool]:
    """Rows a sender may claim at `now`: pending, or claimed by a sender whose lease ran out (it
    died or hung)."""
    return or_(
        _OUTBOX.status == "pending",
        and_(_OUTBOX.status == "sending", _OUTBOX.claimed_until < now),
    )


def inserting(mail: NewMail) -> Write:
    """The INSERT of one row as plain SQL, for a transaction written through the driver (the
    answer's receipt, whose key names a decision of the same transaction: it cannot be present
    yet, so no lookup comes first)."""
    row = mail.columns()
    row["created_at"] = datetime.now(UTC)
    placeholders = ", ".join(["%s"] * len(row))
    return f"INSERT INTO outbox ({', '.join(row)}) VALUES ({placeholders})", tuple(row.values())


class OutboxRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # Writing

    def enqueue(self, mails: Sequence[NewMail]) -> int:
        """Insert the rows in one statement; keys already present are skipped (idempotent).
        How many were new."""
        if not mails:
            return 0
        present = self.present_keys([m.dedupe_key for m in mails])
        fresh = [m.columns() for m in mails if m.dedupe_key not in present]
        if fresh:
            self.session.execute(_INSERT, fresh)
        return len(fresh)

    def present_keys(self, keys: Sequence[str], chunk: int = 500) -> set[str]:
        """Which of these dedupe keys have a row (whatever became of it)."""
        present: set[str] = set()
        for start in range(0, len(keys), chunk):
            present.update(self.session.scalars(_PRESENT, {"keys": keys[start : start + chunk]}))
        return present

    # Claiming and marking (wall clock: leases are not ACCORD_NOW)

    def claimable_ids(
        self, now: datetime, *, after: int, limit: int, purposes: Sequence[str] | None
    ) -> list[int]:
        """Up to `limit` claimable ids above `after`, lowest first, locked for this transaction
        on PostgreSQL (rows another sender holds are skipped, not waited for)."""
        query = (
            select(_OUTBOX.id)
            .where(claimable(now), _OUTBOX.id > after)
            .order_by(_OUTBOX.id)
            .limit(limit)
        )
        if purposes is not None:
            query = query.where(_OUTBOX.purpose.in_(purposes))
        if _postgresql(self.session):
            query = query.with_for_update(skip_locked=True)
        return list(self.session.scalars(query))

    def lease(self, ids: Sequence[int], until: datetime) -> list[ClaimedMail]:
        """Claim these rows until `until` (one more attempt each) and read them, by id."""
        self.session.execute(
            update(t.outbox)
            .where(_OUTBOX.id.in_(ids))
            .values(status="sending", claimed_until=until, attempts=_OUTBOX.attempts + 1)
        )
        query = _CLAIMED.where(_OUTBOX.id.in_(ids)).order_by(_OUTBOX.id)
        return [ClaimedMail(*row) for row in self.session.execute(query)]

    def renew(self, ids: Iterable[int], until: datetime) -> None:
        """Extend the lease of these rows, those still being sent."""
        self.session.execute(
            update(t.outbox)
            .where(_OUTBOX.id.in_(ids), _OUTBOX.status == "sending")
            .values(claimed_until=until)
        )

    def mark_sent(self, ids: Iterable[int], now: datetime) -> None:
        self.session.execute(
            update(t.outbox)
            .where(_OUTBOX.id.in_(ids))
            .values(status="sent", sent_at=now, last_error=None, claimed_until=None)
        )

    def put_back(self, ids: Iterable[int]) -> None:
        """Release rows that never started: pending again, their attempt given back."""
        self.session.execute(
            update(t.outbox)
            .where(_OUTBOX.id.in_(ids))
            .values(status="pending", claimed_until=None, attempts=_OUTBOX.attempts - 1)
        )

    def settle(self, id_: int, *, failed: bool, error: str) -> None:
        """A row the server refused: failed for good, or pending to retry later."""
        self.session.execute(
            update(t.outbox)
            .where(_OUTBOX.id == id_)
            .values(status="failed" if failed else "pending", last_error=error, claimed_until=None)
        )

    # Reading

    def asking_message_ids(self, round_id: int) -> dict[int, str]:
        """Each member's latest request of a round, by member id."""
        query = (
            select(_OUTBOX.member_id, _OUTBOX.message_id)
            .where(_OUTBOX.round_id == round_id, _OUTBOX.purpose.in_(ASKING))
            .order_by(_OUTBOX.id)
        )
        return {member_id: message_id for member_id, message_id in self.session.execute(query)}

    def delivery_counts(self, round_id: int) -> dict[str, int]:
        """The round's rows by status."""
        query = (
            select(_OUTBOX.status, func.count())
            .where(_OUTBOX.round_id == round_id)
            .group_by(_OUTBOX.status)
        )
        counts = dict.fromkeys(DELIVERY_STATUSES, 0)
        counts.update((status, int(number)) for status, number in self.session.execute(query))
        return counts

    def claimable_count(self, now: datetime) -> int:
        query = select(func.count()).select_from(t.outbox).where(claimable(now))
        return int(self.session.scalar(query) or 0)

    def unsent_count(self) -> int:
        """Rows not sent yet, claimed or not."""
        query = select(func.count()).where(_OUTBOX.status.in_(("pending", "sending")))
        return int(self.session.scalar(query) or 0)


def _postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"
