"""Reading what a flow run left in the Prefect API: the run, its task runs, logs, artifacts."""

from __future__ import annotations

import asyncio
import time
from typing import Any
from uuid import UUID


def run(coro: Any) -> Any:
    return asyncio.run(coro)


async def _flow_run(run_id: UUID) -> Any:
    from prefect import get_client

    async with get_client() as client:
        return await client.read_flow_run(run_id)


async def _task_runs(run_id: UUID) -> list[Any]:
    from prefect import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    async with get_client() as client:
        return await client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run_id])), limit=200
        )


async def _artifacts(run_id: UUID) -> list[Any]:
    from prefect import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    async with get_client() as client:
        return await client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run_id]))
        )


async def _logs(run_id: UUID) -> list[Any]:
    from prefect import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId

    async with get_client() as client:
        return await client.read_logs(
            log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run_id])), limit=200
        )


def flow_run(run_id: UUID) -> Any:
    return run(_flow_run(run_id))


def task_runs(run_id: UUID, expected: int, timeout: float = 60.0) -> list[Any]:
    """The run's task runs once `expected` of them are recorded in a final state: the server
    records them from events, a little after the flow finished."""
    deadline = time.monotonic() + timeout
    while True:
        found = run(_task_runs(run_id))
        if len(found) >= expected and all(r.state and r.state.is_final() for r in found):
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"{len(found)} task runs recorded, {expected} expected")
        time.sleep(0.2)


def artifacts(run_id: UUID) -> dict[str, Any]:
    """The run's artifacts by key (the latest of each)."""
    found = sorted(run(_artifacts(run_id)), key=lambda a: a.created)
    return {a.key: a for a in found if a.key}


def logs(run_id: UUID) -> list[str]:
    from prefect.logging.handlers import APILogHandler

    APILogHandler().flush()  # logs are shipped in batches
    return [entry.message for entry in run(_logs(run_id))]


def everything_said(run_id: UUID) -> str:
    """Parameters, name, tags, logs and artifacts of a run, as one text to search."""
    flow = flow_run(run_id)
    pieces = [flow.name, repr(flow.parameters), repr(flow.tags), *logs(run_id)]
    pieces += [f"{a.description} {a.data}" for a in artifacts(run_id).values()]
    return "\n".join(pieces)
