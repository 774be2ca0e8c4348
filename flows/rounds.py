"""Flows that move a statement: circulate it to a group, publish it once endorsed."""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import acreate_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.utilities.annotations import quote

from accord.services.context import Context
from accord.services.delivery import BATCH
from accord.services.operations import publication, round_facts, statement_facts
from accord.services.publish import Published
from accord.services.publish import publish_statement as publish_service
from accord.services.results import plain
from accord.services.rounds import parse_deadline, start_round
from flows.artifacts import tally_table
from flows.events import announce_transitions
from flows.mail import deliver_outbox
from flows.support import accord_context, blocking, label_run, slug, tag_run


@task(name="start-round", cache_policy=NO_CACHE)
async def start_round_task(
    ctx: Context, statement_id: int, group: str, rule: str, deadline: str, mode: str
) -> int:
    """One transaction: the round, a recipient row and an outbox row per member."""
    when = parse_deadline(deadline, ctx.settings.tz)
    started = await blocking(
        start_round,
        ctx,
        statement_id=statement_id,
        group=group,
        rule=rule,
        deadline=when,
        mode=mode,
    )
    return started.id


@flow(name="circulate-round")
async def circulate_round(
    statement_id: int,
    group: str,
    rule: str,
    deadline: str,
    mode: str = "endorse",
    batch: int = BATCH,
) -> dict[str, Any]:
    """Circulate the statement's current text to the group, then deliver the invitations.

    `deadline` is ISO 8601; without an offset it is the secretariat's time."""
    async with accord_context() as ctx:
        statement = await blocking(statement_facts, ctx, statement_id)
        await label_run(
            f"circulate/{statement.slug}/v{statement.version}",
            [f"kind:{statement.kind}", f"group:{slug(group)}", f"mode:{mode}"],
        )
        round_id = await start_round_task(quote(ctx), statement_id, group, rule, deadline, mode)
        await tag_run([f"round:{round_id}"])
        await announce_transitions(ctx)
        mail = await deliver_outbox(ctx, batch=batch, progress_key=f"round-{round_id}-delivery")
        facts = await blocking(round_facts, ctx, round_id)
        await tally_table(facts)
        return {
            "id": facts.id,
            "statement_id": facts.statement_id,
            "group": facts.group,
            "state": facts.state,
            "recipients": sum(facts.tally.values()),
            "tally": facts.tally,
            "mail": mail,
        }


@task(name="publish", cache_policy=NO_CACHE)
async def publish_task(ctx: Context, statement_id: int) -> Published:
    """Write the page, certificate and feed; notify the group (outbox)."""
    return await blocking(publish_service, ctx, statement_id)


@flow(name="publish-statement")
async def publish_statement(statement_id: int) -> dict[str, Any]:
    """Publish an endorsed statement on behalf of those who endorsed it. Asked again (the
    automation and a person may both ask), it changes nothing and returns that publication."""
    async with accord_context() as ctx:
        statement = await blocking(statement_facts, ctx, statement_id)
        await label_run(f"publish/{statement.slug}", [f"kind:{statement.kind}"])
        earlier = await blocking(publication, ctx, statement_id)
        if earlier is not None:
            get_run_logger().info("statement %d is already published", statement_id)
            return {**plain(earlier), "already_published": True}
        result = await publish_task(quote(ctx), statement_id)
        await announce_transitions(ctx)
        mail = await deliver_outbox(
            ctx, progress_key=f"statement-{statement_id}-published-delivery"
        )
        await acreate_markdown_artifact(
            _published_markdown(statement.title, result),
            key=f"statement-{statement_id}-published",
            description=f"Publication of {statement.slug}",
        )
        return {**plain(result), "mail": mail}


def _published_markdown(title: str, result: Published) -> str:
    names = "\n".join(
        f"- {s.name}" + (f", {s.organisation}" if s.organisation else "")
        for s in result.signatories
    )
    return (
        f"# Published: {title}\n\n[{result.url}]({result.url})\n\n"
        f"Signed by {len(result.signatories)}:\n\n{names}\n"
    )
