"""The reply app's courier: the mail an answer causes leaves seconds after the answer.

An answer writes its receipt to the outbox in its own transaction (and, if it closes the round,
the result). Once the member's page has been sent, the route wakes this courier, which delivers
the outbox's answer mail in a worker thread (the database and SMTP work are blocking: they must
not hold up the event loop). Woken, it first waits GATHER_S for the answers that follow, and
answers that come while it sends are left to its next run (they woke it), so a burst of answers
makes one batch a second or so, not one each: a delivery's own work (claiming, reading what the
mail shows, connecting to the server, marking) costs about ten times one receipt's. It claims
rows like every sender (leases), so it never sends what the sweep or another process is sending;
what cannot go now (the server is down) stays pending for the sweep, and what the sending budget
holds back is tried again when the budget allows.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime

from accord.services.context import Context
from accord.services.delivery import DeliveryReport, deliver

log = logging.getLogger(__name__)

# What answers cause: the member's receipt, the explanation of a reply by email that could not be
# read, and the secretariat's result of a round the answer closed.
ANSWER_MAIL = ("receipt", "explain", "result")
STOP_GRACE_S = 10.0
# Well under the few seconds in which a receipt must arrive (docs/reliability.md).
GATHER_S = 1.0


class AnswerCourier:
    """Delivers answer mail soon after `wake`; `start` and `stop` on the app's event loop."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._woken: asyncio.Event | None = None
        self._stop_asked: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._busy = False

    async def start(self) -> None:
        self._woken = asyncio.Event()
        self._stop_asked = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name="answer-courier")

    async def stop(self) -> None:
        """Finish the delivery under way and one for answers not yet covered (up to
        STOP_GRACE_S in all), then end."""
        if self._task is None or self._woken is None:
            return
        self._stopping = True
        if self._stop_asked is not None:
            self._stop_asked.set()  # no more gathering: deliver now
        if not self._busy and not self._woken.is_set():
            self._task.cancel()  # only waiting: nothing to finish
        self._woken.set()
        with contextlib.suppress(TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(self._task, STOP_GRACE_S)

    async def wake(self) -> None:
        """Ask for a delivery (an answer was recorded); returns at once."""
        if self._woken is not None:
            self._woken.set()

    async def _run(self) -> None:
        assert self._woken is not None and self._stop_asked is not None
        retry_in: float | None = None
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._woken.wait(), retry_in)
            self._busy = True
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop_asked.wait(), GATHER_S)
            self._woken.clear()
            report = await asyncio.to_thread(self._deliver)
            self._busy = False
            retry_in = _seconds_until(report.next_at) if report else None

    def _deliver(self) -> DeliveryReport | None:
        try:
            report = deliver(self.ctx, purposes=ANSWER_MAIL, keep_up=False)
        except Exception as error:  # the database or SMTP is away: the sweep sends it later
            log.warning("answer mail not delivered now: %s: %s", type(error).__name__, error)
            return None
        for error in report.errors[:3]:
            log.warning("answer mail not delivered now: %s", error)
        return report


def _seconds_until(moment: datetime | None) -> float | None:
    if moment is None:
        return None
    return max((moment - datetime.now(UTC)).total_seconds(), 0.0)
