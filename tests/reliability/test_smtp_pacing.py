"""The sending budget (ACCORD_SMTP_MAX_PER_MINUTE) against an aiosmtpd server that answers
`421 too many` past N messages a minute, as providers do. The budget's minute is shortened to
one second (ACCORD_SMTP_BUDGET_MINUTE_SECONDS, test-only) and the server counts on the same
windows; the code path is the one `rounds start`, the sweep and the workers run."""

from __future__ import annotations

import json
import math
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from accord.config import load_settings
from accord.services.context import Context
from accord.services.delivery import deliver
from storage.uow import Database
from tests.cli import run
from tests.integration.test_smtp import Recorder
from tests.reliability.conftest import SQLITE_ONLY, bulk_round, figure, outbox
from tests.servers import smtp_server

LIMIT, MINUTE = 40, 1.0


class ThrottlesPastLimit(Recorder):
    """Accepts `limit` messages per window of `seconds` (windows counted from the epoch), and
    answers 421 to any more in that window."""

    def __init__(self, limit: int, seconds: float) -> None:
        super().__init__()
        self.limit, self.seconds = limit, seconds
        self.per_window: Counter[int] = Counter()
        self.refused = 0
        self.counting = threading.Lock()

    async def answer(self, server: Any, call: int) -> str:
        window = math.floor(time.time() / self.seconds)
        with self.counting:
            if self.per_window[window] >= self.limit:
                self.refused += 1
                return "421 4.7.0 Too many messages, slow down"
            self.per_window[window] += 1
        return "250 OK"


def sender(ctx: Context, port: int, **settings: Any) -> Context:
    """A sender of its own (its own engine, as a worker on another machine) to 127.0.0.1:port."""
    changed = ctx.settings.model_copy(
        update={"smtp_host": "127.0.0.1", "smtp_port": port, **settings}
    )
    return Context(changed, _db=Database(changed.db_url))


def assert_each_sent_once(ctx: Context, server: Recorder, members: int) -> None:
    rows = outbox(ctx)
    assert len(rows) == members and {r.status for r in rows} == {"sent"}
    assert all(server.kept[r.message_id] == 1 for r in rows)
    assert sum(server.kept.values()) == members


def test_a_round_of_200_gets_one_invitation_each_and_no_minute_over_the_limit(
    ctx: Context,
) -> None:
    server = ThrottlesPastLimit(LIMIT, MINUTE)
    bulk_round(ctx, 200)
    budget = {"smtp_max_per_minute": LIMIT, "smtp_budget_minute_seconds": MINUTE}
    with smtp_server(server) as port:
        # What `rounds start` sends at once: what the budget allows, window by window, until a
        # claim finds it spent (one window's worth; more on a machine so loaded that sending
        # one takes longer than a window), then it says when the rest goes.
        first = deliver(sender(ctx, port, **budget))
        assert first.next_at is not None or first.sent == 200
        # Two workers sweep at the same moment, on one budget.
        workers = [sender(ctx, port, **budget) for _ in range(2)]
        reports: list[Any] = []
        threads = [
            threading.Thread(target=lambda w=w: reports.append(deliver(w, patience=30)))
            for w in workers
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        for worker in workers:
            worker.db.dispose()
    assert_each_sent_once(ctx, server, 200)
    assert max(server.per_window.values()) <= LIMIT
    assert first.sent + sum(r.sent for r in reports) == 200
    assert sum(r.failed for r in reports) == 0
    figure(
        "smtp-pacing",
        windows=len(server.per_window),
        busiest=max(server.per_window.values()),
        throttled=server.refused,
    )


@SQLITE_ONLY
def test_a_throttling_server_slows_every_sender_down_without_failing_or_doubling(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No budget configured: 421s are retried later (the row waits, paused senders hold off),
    never failed, never sent twice."""
    monkeypatch.setattr("accord.mail.smtp.BACKOFF_S", 0.5)  # the real retry timing, not tests'
    server = ThrottlesPastLimit(10, 2.0)
    bulk_round(ctx, 30)
    with smtp_server(server) as port:
        paced = sender(ctx, port, smtp_budget_minute_seconds=1.0)
        first = deliver(paced)
        assert first.failed == 0 and first.retry_later == 0
        assert {r.status for r in outbox(ctx)} <= {"sent", "pending"}
        rest = deliver(paced, patience=30)
        paced.db.dispose()
    assert server.refused > 0
    assert_each_sent_once(ctx, server, 30)
    assert first.sent + rest.sent == 30 and rest.failed == 0
    figure("smtp-throttled", throttled=server.refused, first_call=first.sent)


@SQLITE_ONLY
def test_rounds_status_shows_what_is_queued_and_when_the_next_batch_goes(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = Recorder()
    rnd = bulk_round(ctx, 5)
    with smtp_server(server) as port:
        for name, value in {"HOST": "127.0.0.1", "PORT": port, "MAX_PER_MINUTE": 2}.items():
            monkeypatch.setenv(f"ACCORD_SMTP_{name}", str(value))
        began = datetime.now(UTC)
        deliver(Context(load_settings(), _db=ctx.db))
    status = run("rounds", "status", str(rnd["id"]), "--json")
    queue = json.loads(status.stdout)["queue"]
    assert queue["waiting"] == 5 - sum(server.kept.values()) >= 3
    next_at = datetime.fromisoformat(queue["next_batch_at"])
    assert began < next_at <= began + timedelta(seconds=61) and next_at.second == 0
    plain = run("rounds", "status", str(rnd["id"]))
    local = next_at.astimezone(load_settings().tz)  # shown as the secretariat reads it
    said = f"mail: {queue['waiting']} still queued; next batch {local:%Y-%m-%d %H:%M} ("
    assert said in plain.stdout
