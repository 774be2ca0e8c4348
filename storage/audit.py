"""The decision record: an append-only, hash-chained audit log.

Each entry's hash is the SHA-256 of its canonical JSON (sorted keys, no spaces, UTF-8), which
includes its sequence number and the previous entry's hash; a one-row head keeps the last sequence
number and hash, so editing, deleting (even the last entry) or reordering is detected by `verify`.
Appends are serialised: PostgreSQL locks the head row, SQLite holds the write lock from BEGIN.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.plain import Reader, Write
from storage.tables import audit_head, audit_log

GENESIS = "0" * 64
CHANNELS = ("cli", "link", "email", "system", "web", "flow", "console")

# The append's three statements, run through the driver (`storage.plain.Reader`): every answer
# appends, and SQLAlchemy's statement machinery cost more than these statements (their columns
# are plain text and integers: nothing for SQLAlchemy to convert).
_HEAD = "SELECT seq, hash FROM audit_head WHERE id = 1"
_LOCK = " FOR UPDATE"  # PostgreSQL; SQLite's writer already holds the whole database
_INSERT_ENTRY = (
    "INSERT INTO audit_log (seq, recorded_at, actor, channel, entity_type, entity_id, action, "
    "payload, text_sha256, prev_hash, hash) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
)
_MOVE_HEAD = "UPDATE audit_head SET seq = %s, hash = %s WHERE id = 1"


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def entry_hash(entry: Mapping[str, Any]) -> str:
    """SHA-256 over the canonical JSON of every field but the hash itself."""
    body = {k: v for k, v in entry.items() if k != "hash"}
    body["payload"] = (
        json.loads(body["payload"]) if isinstance(body["payload"], str) else body["payload"]
    )
    return hashlib.sha256(canonical_json(body).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Entry:
    seq: int
    recorded_at: str
    actor: str
    channel: str
    entity_type: str
    entity_id: str
    action: str
    payload: str
    text_sha256: str | None
    prev_hash: str
    hash: str


def next_entry(
    seq: int,
    prev_hash: str,
    *,
    actor: str,
    channel: str,
    entity_type: str,
    entity_id: object,
    action: str,
    at: datetime,
    payload: Mapping[str, Any] | None = None,
    text_sha256: str | None = None,
) -> Entry:
    """The entry that follows the head (`seq`, `prev_hash`) of the record."""
    fields = {
        "seq": seq + 1,
        "recorded_at": at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor": actor,
        "channel": channel,
        "entity_type": entity_type,
        "entity_id": str(entity_id),
        "action": action,
        "payload": canonical_json(dict(payload or {})),
        "text_sha256": text_sha256,
        "prev_hash": prev_hash,
    }
    return Entry(**fields, hash=entry_hash(fields))


def appending(*entries: Entry) -> list[Write]:
    """The statements that append `entries` (each chained to the one before) and move the head
    to the last, in a transaction that holds the head (locked on PostgreSQL; SQLite's writer
    holds the whole database). The head moves once: PostgreSQL may send them as one statement."""
    inserts = [(_INSERT_ENTRY, tuple(vars(entry).values())) for entry in entries]
    return [*inserts, (_MOVE_HEAD, (entries[-1].seq, entries[-1].hash))]


@dataclass(frozen=True)
class Head:
    """The decision record's last entry: its number (entries so far) and hash."""

    seq: int
    hash: str


class AuditLog:
    """Appends to and reads the decision record inside a unit of work's session."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def append(
        self,
        *,
        actor: str,
        channel: str,
        entity_type: str,
        entity_id: object,
        action: str,
        at: datetime,
        payload: Mapping[str, Any] | None = None,
        text_sha256: str | None = None,
    ) -> Entry:
        self.session.flush()  # pending changes first, as before any query of the session
        reader = Reader.of_session(self.session)
        (seq, prev_hash), *_ = reader.rows(_HEAD + ("" if reader.is_sqlite else _LOCK))
        entry = next_entry(
            seq,
            prev_hash,
            actor=actor,
            channel=channel,
            entity_type=entity_type,
            entity_id=entity_id,
            action=action,
            at=at,
            payload=payload,
            text_sha256=text_sha256,
        )
        reader.write(appending(entry))
        return entry

    def head(self) -> Head:
        """The head as this transaction sees it (not locked: for a read, such as publishing)."""
        seq, hash_ = self.session.execute(select(audit_head.c.seq, audit_head.c.hash)).one()
        return Head(seq, hash_)

    def entries(self, entity_type: str | None = None, entity_id: object = None) -> list[Entry]:
        query = select(audit_log).order_by(audit_log.c.seq)
        if entity_type:
            query = query.where(audit_log.c.entity_type == entity_type)
        if entity_id is not None:
            query = query.where(audit_log.c.entity_id == str(entity_id))
        return [Entry(**row._mapping) for row in self.session.execute(query)]

    def _stream(self) -> Iterator[Entry]:
        result = self.session.execute(
            select(audit_log).order_by(audit_log.c.seq).execution_options(yield_per=2000)
        )
        for row in result:
            yield Entry(**row._mapping)

    def verify(self) -> Verification:
        """Recompute the chain; name the first entry that does not hold."""
        expected_seq, prev, count = 1, GENESIS, 0
        for entry in self._stream():
            count += 1
            problem = _problem(entry, expected_seq, prev)
            if problem:
                return Verification(count, False, {"seq": entry.seq, "reason": problem})
            expected_seq, prev = entry.seq + 1, entry.hash
        head = self.session.execute(select(audit_head).where(audit_head.c.id == 1)).one()
        if (head.seq, head.hash) != (expected_seq - 1, prev):
            reason = f"the log ends at entry {expected_seq - 1} but its head says {head.seq}"
            return Verification(count, False, {"seq": expected_seq, "reason": reason})
        return Verification(count, True, None)


def _problem(entry: Entry, expected_seq: int, prev: str) -> str | None:
    if entry.seq != expected_seq:
        return f"expected entry {expected_seq}, found {entry.seq} (deleted or reordered)"
    if entry.prev_hash != prev:
        return "its previous-entry hash does not match the entry before it"
    if entry_hash(vars(entry)) != entry.hash:
        return "its content does not match its hash (edited)"
    return None


@dataclass(frozen=True)
class Verification:
    entries: int
    ok: bool
    first_bad: dict[str, Any] | None

    def as_dict(self) -> dict[str, Any]:
        return {"entries": self.entries, "ok": self.ok, "first_bad": self.first_bad}
