"""Task runs per round: the `circulate-round` flow to groups of 100 … 10,000 members, delivering
to an SMTP sink, under one `prefect_test_harness`; the task runs each round left, counted through
the Prefect API once the server has recorded them all.

Run: .venv/bin/python bench/prefect_task_runs.py [--sizes 100,1000,2000,5000,10000] [--batch 500]
Goals: a round is a bounded number of task runs, not one per member (issue 6), that stays
constant as the round grows (issue 8): 1 + min(ceil(recipients / batch), MAX_BATCHES) (11 from
5,000 recipients up, at 500 a batch); "recorded" is how long after the flow returned the server
had them all.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from _support import Sink, add_members, draft, fresh_store, machine

GROUP = "Bench"


async def task_runs(flow_run_id: UUID) -> list[Any]:
    from prefect import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    async with get_client() as client:
        return await client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])), limit=200
        )


def recorded(flow_run_id: UUID, expected: int, timeout: float = 120) -> tuple[int, float]:
    """(task runs in a final state, seconds it took the server to record `expected` of them)."""
    began = time.perf_counter()
    while True:
        found = asyncio.run(task_runs(flow_run_id))
        done = [r for r in found if r.state and r.state.is_final()]
        if len(done) >= expected or time.perf_counter() - began > timeout:
            return len(done), time.perf_counter() - began
        time.sleep(0.2)


def one_round(size: int, batch: int, sink: Sink) -> str:
    from flows.mail import MAX_BATCHES
    from flows.rounds import circulate_round

    with fresh_store() as store:
        add_members(store, size, GROUP)
        statement_id = draft(store)
        os.environ.update(store.env, ACCORD_SMTP_HOST="127.0.0.1", ACCORD_SMTP_PORT=str(sink.port))
        deadline = (datetime.now(UTC) + timedelta(days=7)).isoformat()
        before = sink.count()
        began = time.perf_counter()
        state = asyncio.run(
            circulate_round(
                statement_id=statement_id,
                group=GROUP,
                rule="majority",
                deadline=deadline,
                batch=batch,
                return_state=True,
            )
        )
        took = time.perf_counter() - began
        assert state.is_completed(), state.message
        expected = 1 + min(math.ceil(size / batch), MAX_BATCHES)
        count, lag = recorded(state.state_details.flow_run_id, expected)
        sent = sink.count() - before
    return (
        f"{size:>6} recipients: {count:>3} task runs (expected {expected:>3}), flow {took:6.1f} s, "
        f"{sent / took:6.0f} mail/s, all recorded {lag:4.1f} s later"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,2000,5000,10000")
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    from prefect.testing.utilities import prefect_test_harness

    print(machine())
    with prefect_test_harness(server_startup_timeout=120), Sink() as sink:
        for size in (int(s) for s in args.sizes.split(",")):
            print(one_round(size, args.batch, sink), flush=True)


if __name__ == "__main__":
    main()
