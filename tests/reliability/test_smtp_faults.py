"""SMTP faults at the level of the outbox: `deliver` (what `accord sweep` and `rounds start` run)
against aiosmtpd servers that misbehave on purpose. Every row ends `sent` (the server kept it
once) or `failed` with the server's reason; nothing is kept twice.

The sender-level behaviour (retries, backoff, timeouts) is proven in
tests/integration/test_smtp.py, whose misbehaving servers are reused here.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from accord.services.context import Context
from accord.services.delivery import MailCounts, deliver
from tests.cli import run
from tests.integration.test_smtp import DropsDuringData, Recorder, RefusesOneAddress, Slow
from tests.reliability.conftest import SQLITE_ONLY, bulk_round, figure, outbox, with_smtp
from tests.servers import free_port, smtp_server

GONE = "member00003@example.org"


class FourXXEveryFifth(Recorder):
    """test_smtp's FourXXEveryThird, less often: fewer back-to-back refusals of one message,
    whose backoff (0.5 s, 1 s, 2 s) would only make the test slow."""

    async def answer(self, server: Any, call: int) -> str:
        return "451 4.3.0 Try again later" if call % 5 == 0 else "250 OK"


class DropsAfterKeeping(Recorder):
    """Keeps the first `times` messages, then hangs up instead of saying so: the one case no
    client can settle (smtp.py), so those messages arrive twice, with the same Message-ID."""

    def __init__(self, times: int) -> None:
        super().__init__()
        self.times = times

    async def answer(self, server: Any, call: int) -> str:
        if call <= self.times:
            server.transport.abort()
        return "250 OK"


def assert_sent_once_or_failed(ctx: Context, server: Recorder) -> list[Any]:
    rows = outbox(ctx)
    for row in rows:
        kept = server.kept[row.message_id]
        if row.status == "sent":
            assert kept == 1 and row.last_error is None, row
        else:
            assert (row.status, kept) == ("failed", 0) and row.last_error, row
    return rows


FAULTS: dict[str, tuple[Callable[[], Recorder], int]] = {
    "4xx every fifth message": (FourXXEveryFifth, 20),
    "5xx for one address": (lambda: RefusesOneAddress(GONE), 10),
    "connection dropped during DATA": (lambda: DropsDuringData(times=3), 12),
    "slow server, 0.3 s a message": (lambda: Slow(0.3), 8),
}


@SQLITE_ONLY
@pytest.mark.parametrize("fault", FAULTS)
def test_every_row_ends_sent_once_or_failed_with_the_reason(ctx: Context, fault: str) -> None:
    make, members = FAULTS[fault]
    server = make()
    bulk_round(ctx, members)
    with smtp_server(server) as port:
        began = time.monotonic()
        first = deliver(with_smtp(ctx, port))
        seconds = time.monotonic() - began
        again = deliver(with_smtp(ctx, port))  # the next sweep: nothing left, nothing resent
    rows = assert_sent_once_or_failed(ctx, server)
    assert first.sent + first.failed == members and first.retry_later == 0
    assert again.counts == MailCounts(sent=0, failed=0, retry_later=0)
    failed = [r for r in rows if r.status == "failed"]
    if isinstance(server, RefusesOneAddress):
        assert [r.to_addr for r in failed] == [GONE]
        assert "550 5.1.1 No such user here" in failed[0].last_error
        assert server.refusals == 1  # a 5xx is final: never asked again
    else:
        assert failed == []
    figure(
        "smtp-fault",
        fault=fault,
        messages=members,
        sent=first.sent,
        failed=first.failed,
        data_commands=server.data_calls,
        seconds=round(seconds, 2),
    )


@SQLITE_ONLY
def test_a_server_down_at_first_gets_everything_on_the_next_sweep(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    bulk_round(ctx, 10)
    port = free_port()  # nothing listens there yet
    began = time.monotonic()
    down = deliver(with_smtp(ctx, port))
    seconds = time.monotonic() - began
    assert (down.sent, down.failed, down.retry_later) == (0, 0, 10)
    rows = outbox(ctx)
    assert {r.status for r in rows} == {"pending"}  # back in the outbox, not failed
    assert all(r.last_error.startswith("cannot connect") for r in rows)

    server = Recorder()
    monkeypatch.setenv("ACCORD_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("ACCORD_SMTP_PORT", str(port))
    with smtp_server(server, port):
        swept = run("sweep", "--json")
    assert swept.code == 0, swept.stderr
    rows = assert_sent_once_or_failed(ctx, server)
    assert {r.status for r in rows} == {"sent"} and {r.attempts for r in rows} == {2}
    figure("smtp-down-at-first", messages=10, seconds_to_give_up=round(seconds, 2))


@SQLITE_ONLY
def test_a_connection_lost_after_the_server_kept_the_message_is_the_only_duplicate(
    ctx: Context,
) -> None:
    server = DropsAfterKeeping(times=2)
    bulk_round(ctx, 10)
    with smtp_server(server) as port:
        report = deliver(with_smtp(ctx, port))
    assert report.sent == 10
    rows = outbox(ctx)
    assert {r.status for r in rows} == {"sent"}
    kept = sorted(server.kept[r.message_id] for r in rows)
    assert kept == [1] * 8 + [2] * 2  # the two hung-up answers, each resent once: same id
    figure("smtp-lost-answer", messages=10, hung_up=2, duplicates_same_message_id=2)


@SQLITE_ONLY
def test_a_row_that_cannot_be_composed_fails_alone(ctx: Context, sink: tuple[Any, int]) -> None:
    """A broken row (here a receipt of a decision that is gone) is marked failed with its reason;
    the rest of its batch goes out at once instead of waiting for the lease to end."""
    from accord.services.outbox import Mail, enqueue

    server, port = sink
    bulk_round(ctx, 5)
    with ctx.uow() as uow:
        broken = Mail("receipt:broken", "receipt", "x@example.org", data={"decision_id": 999_999})
        enqueue(uow, [broken], settings=ctx.settings)
        uow.commit()
    report = deliver(with_smtp(ctx, port))
    assert (report.sent, report.failed, report.retry_later) == (5, 1, 0)
    rows = {r.dedupe_key: r for r in outbox(ctx)}
    assert rows["receipt:broken"].status == "failed"
    assert rows["receipt:broken"].last_error.startswith("cannot compose: ")
    assert sorted(r.status for r in rows.values()) == ["failed"] + ["sent"] * 5
    assert len(server.received) == 5
