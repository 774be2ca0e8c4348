"""Poll the IMAP mailbox for members' replies by email.

Scheduled every minute, it does nothing unless ACCORD_IMAP_HOST is set. Replies are recorded by
the service (each Message-ID once), so a retried or overlapping poll records nothing twice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.tasks import exponential_backoff
from prefect.utilities.annotations import quote

from accord.services.context import Context
from accord.services.results import plain
from flows.events import announce_transitions
from flows.mail import deliver_outbox
from flows.support import accord_context, blocking, label_run

if TYPE_CHECKING:
    from accord.services.reply_polling import PollResult


@task(
    name="read-mailbox",
    retries=3,
    retry_delay_seconds=exponential_backoff(backoff_factor=5),
    retry_jitter_factor=0.5,
    cache_policy=NO_CACHE,
)
async def read_mailbox_task(ctx: Context) -> PollResult:
    """Fetch new messages, record the decisions they carry, write receipts and explanations
    (sent by the flow's delivery batches, not here)."""
    from accord.services.reply_polling import poll_mailbox

    return await blocking(poll_mailbox, ctx, deliver_mail=False)


@flow(name="poll-replies")
async def poll_replies() -> dict[str, Any]:
    async with accord_context(actor="accord") as ctx:
        if not ctx.settings.imap_configured:
            get_run_logger().info("ACCORD_IMAP_HOST is not set: no mailbox to poll")
            return {"polled": False}
        local = ctx.now().astimezone(ctx.settings.tz)
        await label_run(f"poll/{local:%Y-%m-%dT%H:%M}", ["replies"])
        result = await read_mailbox_task(quote(ctx))
        await announce_transitions(ctx)
        mail = await deliver_outbox(ctx)
        return {"polled": True, **plain(result), "mail": mail}
