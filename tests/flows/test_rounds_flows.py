"""The round flows under prefect_test_harness: names, tags, artifacts, events, batches, and
nothing secret in what the Prefect API keeps."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from accord.services.context import Context
from accord.services.groups import configure_group
from accord.services.members import import_members
from accord.services.statements import draft_statement, show_statement
from storage import tables as t
from tests.conftest import FIXED_NOW, FIXTURES
from tests.flows import api
from tests.flows.bulk import answer
from tests.flows.conftest import accord_events

TEXT = "On International Migrants Day, the members of the Advisory Group recall...\n"
DEADLINE = FIXED_NOW + timedelta(days=10)
GROUP = "Advisory Group"


def draft(ctx: Context) -> int:
    return draft_statement(
        ctx, title="International Migrants Day 2026", kind="awareness-day", body=TEXT
    ).id


def circulate(statement_id: int, **options: Any) -> Any:
    from flows.rounds import circulate_round

    state = asyncio.run(
        circulate_round(
            statement_id=statement_id,
            group=GROUP,
            rule="majority",
            deadline=DEADLINE.isoformat(),
            return_state=True,
            **options,
        )
    )
    assert state.is_completed(), state.message
    return state


def run_flow(flow: Any, **parameters: Any) -> Any:
    state = asyncio.run(flow(**parameters, return_state=True))
    assert state.is_completed(), state.message
    return state


@pytest.fixture
def statement(ctx: Context, flow_env: dict[str, str]) -> int:
    import_members(ctx, FIXTURES / "members.csv")
    return draft(ctx)


def test_circulate_round_is_named_tagged_delivered_and_reported(
    ctx, statement, smtp_sink, events
) -> None:
    state = circulate(statement)
    run_id = state.state_details.flow_run_id
    flow_run = api.flow_run(run_id)
    assert flow_run.name == "circulate/international-migrants-day-2026/v1"
    tags = {"kind:awareness-day", "group:advisory-group", "mode:endorse", "round:1"}
    assert tags <= set(flow_run.tags)
    assert sorted(r.name.rsplit("-", 1)[0] for r in api.task_runs(run_id, 2)) == [
        "deliver-batch",
        "start-round",
    ]
    assert len(smtp_sink.messages) == 7
    artifacts = api.artifacts(run_id)
    tally = {row["decision"]: row["members"] for row in json.loads(artifacts["round-1-tally"].data)}
    assert tally["pending"] == 7 and tally["mail sent"] == 7
    assert artifacts["round-1-delivery"].data == 100.0
    names = [e.event for e in accord_events(events)]
    assert names == [
        "accord.members.imported",
        "accord.statement.drafted",
        "accord.round.started",
        "accord.statement.circulated",
    ]
    started = events[2]
    assert started.resource.id == "accord.round.1"
    assert started.resource["accord.group"] == GROUP
    assert {"accord.statement.1", "accord.group.advisory-group"} <= {r.id for r in started.related}


def test_nothing_secret_reaches_the_prefect_api(ctx, statement, flow_env, monkeypatch) -> None:
    secret = "s3cret-key-that-must-not-leak-0123456789abcdef"
    monkeypatch.setenv("ACCORD_SECRET_KEY", secret)
    state = circulate(statement)
    said = api.everything_said(state.state_details.flow_run_id)
    with ctx.uow(readonly=True) as uow:
        keys = list(uow.session.scalars(select(t.recipients.c.reply_key)))
    assert len(keys) == 7
    for forbidden in [secret, "/r/", *keys]:
        assert forbidden not in said


def test_a_round_is_delivered_in_a_bounded_number_of_task_runs(ctx, flow_env, smtp_sink) -> None:
    """2,000 recipients in batches of 500: 4 delivery task runs, not 2,000 (bench/ goes to
    10,000)."""
    from tests.flows.bulk import add_members

    add_members(ctx, 2000, GROUP)
    statement_id = draft(ctx)
    state = circulate(statement_id, batch=500)
    runs = api.task_runs(state.state_details.flow_run_id, 5)
    assert len(runs) == 5 and all(r.state.is_completed() for r in runs)
    assert len(smtp_sink.messages) == 2000


def test_a_large_round_is_delivered_in_at_most_ten_batches(ctx, flow_env, smtp_sink) -> None:
    """2,000 recipients in batches of 100 would be 20 task runs: it is 10 of 200 (MAX_BATCHES),
    as 50,000 recipients in batches of 500 are."""
    from flows.mail import MAX_BATCHES
    from tests.flows.bulk import add_members

    add_members(ctx, 2000, GROUP)
    statement_id = draft(ctx)
    state = circulate(statement_id, batch=100)
    runs = api.task_runs(state.state_details.flow_run_id, MAX_BATCHES + 1)
    batches = [r for r in runs if r.name.startswith("deliver-batch")]
    assert len(runs) == MAX_BATCHES + 1 and len(batches) == MAX_BATCHES == 10
    assert all(r.state.is_completed() for r in runs)
    assert len(smtp_sink.messages) == 2000


def test_sweep_closes_at_the_deadline_and_announces_the_outcome(
    ctx, statement, flow_env, monkeypatch, events
) -> None:
    from flows.sweep import sweep

    configure_group(ctx, GROUP, auto_publish=True)
    circulate(statement)
    for email in ("barry.cusack", "gemma.pinyol", "gregory.jaquet", "vesna.haracic"):
        answer(ctx, 1, f"{email}@example.org", "endorse")
    monkeypatch.setenv("ACCORD_NOW", (DEADLINE + timedelta(minutes=1)).isoformat())
    state = run_flow(sweep)
    assert state.result()["closed"] == 1
    assert show_statement(ctx, statement).state == "endorsed"
    closing = {e.event: e for e in accord_events(events)}
    endorsed = closing["accord.statement.endorsed"]
    assert endorsed.resource.id == "accord.statement.1"
    assert endorsed.resource["accord.auto-publish"] == "true"
    assert endorsed.payload["statement_id"] == 1 and endorsed.payload["outcome"] == "endorsed"
    assert closing["accord.round.closed"].payload["reason"] == "deadline"
    artifacts = api.artifacts(state.state_details.flow_run_id)
    assert "round-1-tally" in artifacts


def test_publish_is_announced_and_safe_to_ask_twice(ctx, statement, flow_env, monkeypatch) -> None:
    from flows.rounds import publish_statement

    circulate(statement)
    for email in ("barry.cusack", "gemma.pinyol", "gregory.jaquet", "vesna.haracic"):
        answer(ctx, 1, f"{email}@example.org", "endorse")
    for email in ("ingrid.rasmussen", "joanna.marcinkowska", "silvia.carballo"):
        answer(ctx, 1, f"{email}@example.org", "abstain")
    first = run_flow(publish_statement, statement_id=statement)
    assert api.flow_run(first.state_details.flow_run_id).name == (
        "publish/international-migrants-day-2026"
    )
    assert len(first.result()["signatories"]) == 4
    again = run_flow(publish_statement, statement_id=statement)
    published = {k: v for k, v in first.result().items() if k != "mail"}
    assert again.result() == {**published, "already_published": True}


def test_mail_that_cannot_go_stays_in_the_outbox(ctx, statement, flow_env, monkeypatch) -> None:
    """The batch task fails after its retries; the flow completes and the sweep will retry."""
    from tests.flows.conftest import free_port

    monkeypatch.setenv("ACCORD_SMTP_PORT", str(free_port()))  # nobody listens there
    state = circulate(statement)
    assert state.result()["mail"]["retry_later"] == 7
    runs = api.task_runs(state.state_details.flow_run_id, 2)
    [batch] = [r for r in runs if r.name.startswith("deliver-batch")]
    assert batch.state.is_failed() and batch.run_count == 2
    with ctx.uow(readonly=True) as uow:
        pending = uow.session.scalar(
            select(func.count()).select_from(t.outbox).where(t.outbox.c.status == "pending")
        )
    assert pending == 7
