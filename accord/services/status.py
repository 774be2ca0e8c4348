"""A round's document: tally, recipients and delivery (`accord rounds status`, and what the
commands that move a round return).

`round_document` is the one place that reads it, from a `storage.plain.Reader`: inside a unit of
work (`accord.services.rounds`), or, for `accord rounds status`, from a connection opened by the
database driver alone (`round_status`). The secretariat runs that command often and it only
reads, so it skips what importing SQLAlchemy, the ORM mapping and the services would cost at
start-up (bench/cli_startup.py measures it; bench/RESULTS.md has the figures).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from accord.config import Settings
from accord.services.ready import check_ready, no_database, require_schema, safe_url
from statemachines import rounds as rules
from statemachines.errors import NotFound
from statemachines.pacing import Spent, next_batch_at
from storage import plain
from storage.plain import Reader, utc

_ROUND = """
SELECT rounds.id, rounds.statement_id, groups.name, rounds.mode, rounds.state, rounds.outcome,
       rounds.close_reason, rounds.rule, rounds.deadline, rounds.version_number,
       rounds.text_sha256, rounds.flagged_political
FROM rounds LEFT OUTER JOIN groups ON groups.id = rounds.group_id
WHERE rounds.id = %s
"""
_RECIPIENTS = """
SELECT members.email, members.name, members.undeliverable, recipients.decision,
       recipients.comment, recipients.decided_at, recipients.reminders_sent
FROM recipients JOIN members ON members.id = recipients.member_id
WHERE recipients.round_id = %s
ORDER BY members.name
"""
_DELIVERY = "SELECT status, count(*) FROM outbox WHERE round_id = %s GROUP BY status"
_ASKING = """
SELECT members.email, outbox.status, outbox.last_error
FROM outbox JOIN members ON members.id = outbox.member_id
WHERE outbox.round_id = %s AND outbox.purpose IN ('invitation', 'consultation', 'revision')
ORDER BY outbox.id
"""
QUEUED, SENT, FAILED, BOUNCED = "queued", "sent", "failed", "bounced"
_BUDGET = (
    "SELECT minute_window, minute_sent, day_window, day_sent, paused_until"
    " FROM smtp_budget WHERE id = 1"
)


@dataclass(frozen=True)
class RecipientState:
    """A recipient in a round's document: their answer, reminders and the delivery of their
    newest request (None: never mailed, undeliverable when asked)."""

    email: str
    name: str
    decision: str | None
    comment: str | None
    decided_at: str | None
    reminders_sent: int
    undeliverable: bool
    delivery: str | None = None


@dataclass(frozen=True)
class Queue:
    """The round's mail still to go, and when the next batch may go (None: as soon as a sender
    runs), as an ISO moment."""

    waiting: int
    next_batch_at: str | None


@dataclass(frozen=True)
class RoundDocument:
    """A round as `accord rounds status --json` prints it (docs/architecture.md, JSON shapes)."""

    id: int
    statement_id: int
    group: str | None
    mode: str
    state: str
    outcome: str | None
    close_reason: str | None
    rule: str
    deadline: str
    version: int
    text_sha256: str
    flagged_political: bool
    tally: rules.Tally
    delivery: dict[str, int]
    queue: Queue
    recipients: tuple[RecipientState, ...]


def round_status(settings: Settings, round_id: int) -> RoundDocument:
    """`accord rounds status`: the round's document, read without SQLAlchemy where possible."""
    with _reading(settings.db_url) as reader:
        return round_document(reader, round_id, settings)


def queue(reader: Reader, settings: Settings, delivery: dict[str, int]) -> Queue:
    """The round's mail still to go, and when the next batch may (null: as soon as a sender
    runs), as the sending budget has it (ACCORD_SMTP_MAX_PER_MINUTE/DAY, or a pause after the
    server throttled)."""
    waiting = delivery["pending"] + delivery["sending"]
    found = reader.rows(_BUDGET)
    spent = Spent(*found[0][:4], utc(found[0][4])) if found else Spent()
    next_at = next_batch_at(settings.smtp_limits, spent, datetime.now(UTC)) if waiting else None
    return Queue(waiting, next_at.isoformat() if next_at else None)


def round_document(reader: Reader, round_id: int, settings: Settings) -> RoundDocument:
    found = reader.rows(_ROUND, round_id)
    if not found:
        raise NotFound(f"no round with id {round_id}")
    (
        id_,
        statement_id,
        group,
        mode,
        state,
        outcome,
        close_reason,
        rule,
        deadline,
        version,
        text_sha256,
        flagged_political,
    ) = found[0]
    recipients = []
    for email, name, undeliverable, decision, comment, decided_at, reminders in reader.rows(
        _RECIPIENTS, round_id
    ):
        decided = utc(decided_at)
        recipients.append(
            RecipientState(
                email=email,
                name=name,
                decision=decision,
                comment=comment,
                decided_at=decided.isoformat() if decided else None,
                reminders_sent=reminders,
                undeliverable=bool(undeliverable),
            )
        )
    counts = delivery(reader, round_id)
    return RoundDocument(
        id=id_,
        statement_id=statement_id,
        group=group,
        mode=mode,
        state=state,
        outcome=outcome,
        close_reason=close_reason,
        rule=rule,
        deadline=utc(deadline).isoformat(),  # type: ignore[union-attr]
        version=version,
        text_sha256=text_sha256,
        flagged_political=bool(flagged_political),
        tally=rules.tally(r.decision for r in recipients),
        delivery=counts,
        queue=queue(reader, settings, counts),
        recipients=with_invitation_delivery(recipients, invitation_delivery(reader, round_id)),
    )


def delivery(reader: Reader, round_id: int) -> dict[str, int]:
    """The round's outbox rows by status."""
    counts = {"pending": 0, "sending": 0, "sent": 0, "failed": 0}
    counts.update((status, int(number)) for status, number in reader.rows(_DELIVERY, round_id))
    return counts


def invitation_delivery(reader: Reader, round_id: int) -> dict[str, str]:
    """Where each recipient's newest request (invitation, consultation or revision) stands, by
    email: queued (not left yet), sent, failed, or bounced (a delivery report came back)."""
    found: dict[str, str] = {}
    for email, status, last_error in reader.rows(_ASKING, round_id):
        if status == "sent":
            found[email] = SENT
        elif status == "failed":
            found[email] = BOUNCED if (last_error or "").startswith("bounced") else FAILED
        else:
            found[email] = QUEUED
    return found


def with_invitation_delivery(
    recipients: list[RecipientState], delivered: dict[str, str]
) -> tuple[RecipientState, ...]:
    """Each recipient with `delivery`: None for one never mailed (undeliverable when asked)."""
    return tuple(replace(r, delivery=delivered.get(r.email)) for r in recipients)


@contextmanager
def _reading(url: str) -> Iterator[Reader]:
    """A read-only connection to a ready database: from the driver alone for the URLs
    storage.plain opens (a plain SQLite file, PostgreSQL through psycopg), else SQLAlchemy's."""
    path = plain.sqlite_path(url)
    if path is not None and not path.exists():
        raise no_database(path)
    if plain.handles(url):
        with plain.connect(url) as reader:
            require_schema(reader.revision(), lambda: reader.where)
            yield reader
        return
    from storage.db import make_engine

    engine = make_engine(url)
    try:
        check_ready(url, lambda: engine)
        connection = engine.connect().execution_options(readonly=True)
        with connection, connection.begin():
            yield Reader(connection.connection.dbapi_connection, safe_url(engine.url))
    finally:
        engine.dispose()
