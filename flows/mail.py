"""Delivering the outbox from a flow: one task run per batch of rows, not one per message.

Batches hold 500 rows, and a delivery is at most MAX_BATCHES of them: past 5,000 messages each
batch takes a tenth (claimed and sent 500 rows at a time, so its memory stays that of 500), and a
round of 10,000 or 50,000 recipients is the same 10 task runs. A batch whose messages could not
all go (server down, 4xx) fails its task run, which Prefect retries with exponential backoff;
what is still pending after the last retry stays in the outbox for the next sweep, and the flow
carries on (the database is the source of truth, the task run shows the failure).
"""

from __future__ import annotations

import math
import time
from collections import Counter
from uuid import UUID

from prefect import get_run_logger, task
from prefect.artifacts import acreate_progress_artifact, aupdate_progress_artifact
from prefect.cache_policies import NO_CACHE
from prefect.tasks import exponential_backoff
from prefect.utilities.annotations import quote

from accord.services.context import Context
from accord.services.delivery import BATCH, DeliveryReport, deliver
from accord.services.operations import pending_mail, unsent_mail
from accord.services.results import plain
from flows.support import blocking

RETRIES = 3
MAX_BATCHES = 10
BACKOFF_SECONDS = 10


class MailNotSent(Exception):
    """Some messages of a batch could not be sent now; they are back in the outbox."""


@task(
    name="deliver-batch",
    task_run_name="deliver-batch-{number}",
    retries=RETRIES,
    retry_delay_seconds=exponential_backoff(backoff_factor=BACKOFF_SECONDS),
    retry_jitter_factor=0.5,
    cache_policy=NO_CACHE,
)
async def deliver_batch(
    ctx: Context, size: int, number: int, patience: float = 0.0
) -> DeliveryReport:
    """Claim up to `size` outbox rows, send them over reused SMTP connections, mark them.
    `next_at` is set when the sending budget held some back (they wait in the outbox)."""
    report = await blocking(deliver, ctx, limit=size, batch=min(size, BATCH), patience=patience)
    if report.retry_later:
        for error in report.errors[:3]:
            get_run_logger().warning(error)
        raise MailNotSent(
            f"{report.retry_later} message(s) to retry, {report.sent} sent, {report.failed} failed"
        )
    return report


async def deliver_outbox(
    ctx: Context, *, batch: int = BATCH, progress_key: str | None = None, patience: float = 0.0
) -> dict[str, int]:
    """Send what is pending now, batch by batch; the number of batches is fixed at the start,
    so mail written meanwhile waits for the next run instead of keeping this one going.

    `retry_later` is what is still waiting in the outbox afterwards (pending, or claimed by a
    batch that failed and not yet released). Under a sending budget the batches wait for it up to
    `patience` seconds in all; what it still holds back waits for the next run."""
    waits_until = time.monotonic() + patience
    pending = await blocking(pending_mail, ctx)
    batches = min(math.ceil(pending / batch), MAX_BATCHES)
    size = math.ceil(pending / batches) if batches else batch
    totals: Counter[str] = Counter(sent=0, failed=0, retry_later=0)
    if not batches:
        return dict(totals)
    progress = await _progress(progress_key, pending)
    for number in range(1, batches + 1):
        left = max(waits_until - time.monotonic(), 0.0)
        state = await deliver_batch(quote(ctx), size, number, left, return_state=True)
        if state.is_failed():
            get_run_logger().warning(
                "delivery stopped at batch %d of %d; the outbox keeps the rest for the next sweep",
                number,
                batches,
            )
            break
        report: DeliveryReport = await state.aresult()
        totals.update(plain(report.counts))
        if progress:
            await aupdate_progress_artifact(progress, 100 * number / batches)
        if report.next_at is not None:
            get_run_logger().info("the sending budget holds the rest back for the next run")
            break
    totals["retry_later"] = await blocking(unsent_mail, ctx)
    get_run_logger().info("mail: %s", ", ".join(f"{k} {v}" for k, v in totals.items()))
    return dict(totals)


async def _progress(key: str | None, pending: int) -> UUID | None:
    if key is None:
        return None
    return await acreate_progress_artifact(
        0.0, key=key, description=f"Delivery of {pending} message(s)"
    )
