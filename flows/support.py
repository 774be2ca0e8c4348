"""What every flow shares: the accord context, blocking services off the event loop, and the
run's name and tags.

Flows are `async def` (a sync flow costs about 1 s of engine overhead, an async one 0.12 s).
The services are plain blocking functions (SQLAlchemy, and `deliver` runs its own event loop), so
they run in a worker thread.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from typing import ParamSpec, TypeVar

from prefect.client.orchestration import get_client
from prefect.context import FlowRunContext

from accord.config import load_settings
from accord.services.context import Context

P = ParamSpec("P")
T = TypeVar("T")


@asynccontextmanager
async def accord_context(actor: str = "secretariat") -> AsyncIterator[Context]:
    """Settings from the environment of the process running the flow; never from parameters,
    so no secret ever becomes a flow-run parameter."""
    ctx = Context(load_settings(), actor=actor, channel="flow")
    try:
        yield ctx
    finally:
        if "db" in vars(ctx):
            ctx.db.dispose()


async def blocking(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    return await asyncio.to_thread(fn, *args, **kwargs)


def slug(text: str) -> str:
    """Tag-friendly: `Advisory Group` → `advisory-group`."""
    return "-".join("".join(c if c.isalnum() else " " for c in text.lower()).split())


async def label_run(name: str, tags: Iterable[str] = ()) -> None:
    """Name the current flow run after its work and add tags (kind, group). Done from inside the
    run, so runs started by a schedule, an automation or the CLI are all named alike."""
    run_context = FlowRunContext.get()
    if run_context is None or run_context.flow_run is None:
        return
    flow_run = run_context.flow_run
    merged = sorted({*flow_run.tags, *tags})
    async with get_client() as client:
        await client.update_flow_run(flow_run.id, name=name, tags=merged)


async def tag_run(tags: Iterable[str]) -> None:
    """Add tags to the current flow run once its work is known (`round:ID`: the console links
    to a round's runs by it); the tags it has are read from the server, `label_run`'s with them."""
    run_context = FlowRunContext.get()
    if run_context is None or run_context.flow_run is None:
        return
    async with get_client() as client:
        current = await client.read_flow_run(run_context.flow_run.id)
        merged = sorted({*current.tags, *tags})
        await client.update_flow_run(current.id, tags=merged)
