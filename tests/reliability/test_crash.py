"""Crash during fan-out: `accord rounds start` is SIGKILLed while its invitations go out, then
`accord sweep` finishes the job. Real processes, a real SMTP sink, the database of the test.

A row the dead sender had claimed stays claimed until its lease ends (ACCORD_OUTBOX_LEASE_SECONDS,
600 by default; 2 here so the test need not wait ten minutes). What the dead sender had handed to
the server but not yet marked sent is sent again with the same Message-ID: that is the in-flight
window of accord/services/delivery.py, and the test counts it.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from accord.services.context import Context
from accord.services.delivery import MARK_EVERY
from accord.services.statements import draft_statement
from storage import tables as t
from tests.cli import accord, spawn
from tests.conftest import FIXED_NOW
from tests.flows.bulk import add_members
from tests.reliability.conftest import SQLITE_ONLY, Sink, figure
from tests.servers import wait_until

MEMBERS = 1_500
KILL_AT = MEMBERS // 5  # about 20 %: counted at the sink
LEASE_SECONDS = 2
GROUP = "Network"
CONNECTIONS = 4  # send_all's connections, each with at most one message in flight


def outbox_by_status(ctx: Context) -> dict[str, int]:
    with ctx.uow(readonly=True) as uow:
        query = select(t.outbox.c.status, func.count()).group_by(t.outbox.c.status)
        return dict(uow.session.execute(query).all())


def latest_lease(ctx: Context) -> datetime | None:
    with ctx.uow(readonly=True) as uow:
        return uow.session.scalar(select(func.max(t.outbox.c.claimed_until)))


@SQLITE_ONLY  # PostgreSQL's claims (SKIP LOCKED) race in test_concurrency's sweeps
def test_a_sender_killed_at_20_percent_loses_no_one_and_sends_nothing_different(
    ctx: Context, accord_env: dict[str, str], sink: tuple[Sink, int]
) -> None:
    server, port = sink
    add_members(ctx, MEMBERS, GROUP)
    statement = draft_statement(ctx, title="Migrants Day", kind="awareness-day", body="We...\n")
    env = {
        **accord_env,
        "ACCORD_SMTP_HOST": "127.0.0.1",
        "ACCORD_SMTP_PORT": str(port),
        "ACCORD_OUTBOX_LEASE_SECONDS": str(LEASE_SECONDS),
    }
    deadline = (FIXED_NOW + timedelta(days=10)).isoformat()
    began = time.monotonic()
    start = spawn(
        "rounds", "start", str(statement.id), "--group", GROUP, "--rule", "majority",
        "--deadline", deadline, env=env,
    )  # fmt: skip
    try:
        wait_until(lambda: len(server.received) >= KILL_AT or start.poll() is not None, "20 %", 120)
    finally:
        start.kill()
        start.wait()
    assert start.returncode == -9, start.stderr.read() if start.stderr else ""
    at_kill = len(server.received)
    after_kill = outbox_by_status(ctx)
    assert sum(after_kill.values()) == MEMBERS  # every invitation was written before sending

    lease = latest_lease(ctx)
    wait_until(lambda: lease is None or datetime.now(UTC) > lease, "the lease to end", 30)
    swept = accord("sweep", "--json", env=env)
    assert swept.code == 0, swept.stderr
    elapsed = time.monotonic() - began

    received = server.ids_by_recipient()
    emails = {f"member{n:05d}@example.org" for n in range(MEMBERS)}
    assert set(received) == emails  # no member is missing, and no one else got mail
    assert all(len(set(ids)) == 1 for ids in received.values())  # never two different messages
    duplicates = sum(len(ids) - 1 for ids in received.values())
    assert duplicates <= MARK_EVERY + CONNECTIONS  # the in-flight window, nothing more
    assert outbox_by_status(ctx) == {"sent": MEMBERS}
    twice = Counter(server.kept.values())
    figure(
        "crash",
        database=ctx.db.engine.dialect.name,
        received_at_kill=at_kill,
        outbox_at_kill=after_kill,
        messages_received=len(server.received),
        members_reached=len(received),
        duplicates_same_message_id=duplicates,
        kept_counts=dict(twice),
        seconds=round(elapsed, 1),
    )
