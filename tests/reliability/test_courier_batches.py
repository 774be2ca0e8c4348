"""The answer courier's deliveries (accord.services.courier): a delivery without `keep_up` sends
what was pending when it began and leaves mail enqueued meanwhile to the next call (the courier
is woken for it), so a burst of answers makes a few full batches instead of a stream of small
ones; the default delivery still sends what arrives while it sends."""

from __future__ import annotations

from typing import Any

import pytest

from accord.services.context import Context
from accord.services.delivery import deliver
from accord.services.outbox import Mail, enqueue
from tests.integration.test_smtp import Recorder
from tests.reliability.conftest import SQLITE_ONLY, bulk_round, outbox, with_smtp
from tests.servers import smtp_server


class EnqueuesWhileSending(Recorder):
    """Accepts everything; while the first message is being sent, a new mail is enqueued."""

    def __init__(self, ctx: Context) -> None:
        super().__init__()
        self.ctx = ctx

    async def answer(self, server: Any, call: int) -> str:
        if call == 1:
            with self.ctx.uow() as uow:
                late = Mail("explain:late", "explain", "late@example.org", data={"reason": "x"})
                enqueue(uow, [late], settings=self.ctx.settings)
                uow.commit()
        return "250 OK"


@SQLITE_ONLY
@pytest.mark.parametrize("keep_up", [False, True])
def test_mail_enqueued_while_sending_waits_for_the_next_call_without_keep_up(
    ctx: Context, keep_up: bool
) -> None:
    bulk_round(ctx, 3)
    with smtp_server(EnqueuesWhileSending(ctx)) as port:
        first = deliver(with_smtp(ctx, port), keep_up=keep_up)
        late = next(r for r in outbox(ctx) if r.dedupe_key == "explain:late")
        if keep_up:
            assert late.status != "pending" and first.sent + first.failed == 4
            return
        assert (first.sent, late.status, late.attempts) == (3, "pending", 0)
        second = deliver(with_smtp(ctx, port), keep_up=False)
    assert second.sent + second.failed == 1
    assert {r.status for r in outbox(ctx)} <= {"sent", "failed"}
