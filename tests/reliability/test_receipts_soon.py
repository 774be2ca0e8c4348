"""A member's receipt leaves within seconds of the answer, with no sweep: by link through
`accord web` alone (its own process, real HTTP) and by email through `replies poll`; with the
SMTP server down the answer is still recorded and the receipt goes out on the next sweep."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from accord.services.context import Context
from storage import tables as t
from tests.cli import run
from tests.integration.test_smtp import Recorder
from tests.links import member_token
from tests.reliability.conftest import DEADLINE, SQLITE_ONLY, bulk_round
from tests.servers import free_port, smtp_server, wait_until, web_process

RECEIPT_WITHIN_S = 5.0


def outbox_rows(ctx: Context, purpose: str) -> list[Any]:
    with ctx.uow(readonly=True) as uow:
        query = select(t.outbox).where(t.outbox.c.purpose == purpose).order_by(t.outbox.c.id)
        return list(uow.session.execute(query))


def first_link(ctx: Context, rnd: dict[str, Any]) -> str:
    with ctx.uow(readonly=True) as uow:
        query = select(t.recipients.c.member_id).where(t.recipients.c.round_id == rnd["id"])
        member_id = min(uow.session.scalars(query))
    token = member_token(
        ctx,
        round_id=rnd["id"],
        member_id=member_id,
        text_sha256=rnd["text_sha256"],
        deadline=DEADLINE,
    )
    return f"/r/{token}"


def smtp_env(accord_env: dict[str, str], port: int) -> dict[str, str]:
    return {**accord_env, "ACCORD_SMTP_HOST": "127.0.0.1", "ACCORD_SMTP_PORT": str(port)}


def received(server: Recorder, ctx: Context) -> bool:
    return any(server.kept[r.message_id] for r in outbox_rows(ctx, "receipt"))


def test_a_receipt_by_link_is_sent_within_seconds_by_accord_web_alone(
    ctx: Context, accord_env: dict[str, str], tmp_path: Path
) -> None:
    rnd = bulk_round(ctx, 3)
    server = Recorder()
    with (
        smtp_server(server) as port,
        web_process(smtp_env(accord_env, port), tmp_path / "w") as base,
    ):
        page = httpx.post(base + first_link(ctx, rnd), data={"decision": "endorse"}, timeout=10)
        assert page.status_code == 200
        wait_until(lambda: received(server, ctx), "the receipt", RECEIPT_WITHIN_S)
    (receipt,) = outbox_rows(ctx, "receipt")
    assert receipt.status == "sent" and server.kept[receipt.message_id] == 1
    # The app sends what answers cause, nothing else: the invitations wait for their sender.
    assert {r.status for r in outbox_rows(ctx, "invitation")} == {"pending"}


@SQLITE_ONLY
def test_with_the_server_down_the_answer_is_recorded_and_the_sweep_sends_the_receipt(
    ctx: Context, accord_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rnd = bulk_round(ctx, 3)
    port = free_port()  # nothing listens there
    with web_process(smtp_env(accord_env, port), tmp_path / "w") as base:
        page = httpx.post(base + first_link(ctx, rnd), data={"decision": "decline"}, timeout=10)
        assert page.status_code == 200

        def tried() -> bool:
            rows = outbox_rows(ctx, "receipt")
            return bool(rows and rows[0].last_error and rows[0].status == "pending")

        wait_until(tried, "the courier's attempt", 15)
    with ctx.uow(readonly=True) as uow:
        assert list(uow.session.scalars(select(t.decisions.c.decision))) == ["decline"]
    server = Recorder()
    monkeypatch.setenv("ACCORD_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("ACCORD_SMTP_PORT", str(port))
    with smtp_server(server, port):
        swept = run("sweep", "--json")
    assert swept.code == 0, swept.stderr
    (receipt,) = outbox_rows(ctx, "receipt")
    assert receipt.status == "sent" and server.kept[receipt.message_id] == 1
