"""The sweep: everything that moves with time, once. Safe to run at any moment, every 5 minutes.

Deadlines and early closes, round reminders, action reminders (they wait for 08:00 secretariat
time), then the outbox; then the events of whatever changed, including the closes made by the
reply app or the IMAP poller since the last run.
"""

from __future__ import annotations

from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.utilities.annotations import quote

from accord.services.context import Context
from accord.services.delivery import BATCH, MailCounts
from accord.services.operations import open_round_ids, round_facts
from accord.services.results import plain
from accord.services.round_reminders import RoundSweep, sweep_rounds
from accord.services.sweep import SWEEP_PATIENCE_S, swept
from flows.artifacts import tally_table
from flows.events import announce_transitions
from flows.mail import deliver_outbox
from flows.reports import remind_actions_task
from flows.support import accord_context, blocking, label_run


@task(name="sweep-rounds", cache_policy=NO_CACHE)
async def sweep_rounds_task(ctx: Context) -> RoundSweep:
    """Close the rounds that are due and write due reminders (one transaction per round)."""
    return await blocking(sweep_rounds, ctx)


@flow(name="sweep")
async def sweep(batch: int = BATCH) -> dict[str, Any]:
    async with accord_context(actor="accord") as ctx:
        local = ctx.now().astimezone(ctx.settings.tz)
        await label_run(f"sweep/{local:%Y-%m-%dT%H:%M}", ["sweep"])
        watched = await blocking(open_round_ids, ctx)
        rounds = await sweep_rounds_task(quote(ctx))
        actions = await remind_actions_task(quote(ctx))
        await announce_transitions(ctx)
        mail = await deliver_outbox(
            ctx, batch=batch, progress_key="outbox-delivery", patience=SWEEP_PATIENCE_S
        )
        for round_id in watched:
            await tally_table(await blocking(round_facts, ctx, round_id), only_if_changed=True)
        return plain(swept(rounds, actions, MailCounts(**mail)))
