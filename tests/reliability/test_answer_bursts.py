"""Bursts of answers that close their round mid-burst, against the reply app served by uvicorn
(in a thread: starting `accord web` would take longer than a burst) over real HTTP, on SQLite and
on PostgreSQL (issue 16, point 1).

The answer that closes a round once fell back, on PostgreSQL, to a blocking path on the event
loop while an asynchronous transaction held the round's lock: the app froze for good. Here every
request must answer within 5 s (200, or 410 once the round is closed), the round ends with the
exact tally of what was recorded, and every 200 is in the tally, the decision record and the
outbox. A lock held too long gets 503 and records nothing (point 3).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import psycopg
import pytest
from sqlalchemy import select

from accord.services.context import Context
from storage import tables as t
from storage.plain import postgresql_uri
from tests.links import member_token
from tests.reliability.conftest import DEADLINE, bulk_round
from tests.servers import serving

MEMBERS = 300
CLIENTS = 32
ANSWER_WITHIN = 5.0  # seconds, each request


def _links(ctx: Context, rnd: dict[str, Any]) -> dict[int, str]:
    """Each recipient's link path, by member id, in member order."""
    with ctx.uow(readonly=True) as uow:
        query = select(t.recipients.c.member_id).where(t.recipients.c.round_id == rnd["id"])
        member_ids = sorted(uow.session.scalars(query))
    token = {"round_id": rnd["id"], "text_sha256": rnd["text_sha256"], "deadline": DEADLINE}
    return {m: f"/r/{member_token(ctx, member_id=m, **token)}" for m in member_ids}


@pytest.fixture
def web(ctx: Context) -> Iterator[str]:
    """The reply app on the test database; yields its base URL."""
    with serving(ctx.settings) as base:
        yield base


def _burst(base: str, links: dict[int, str], decide: Callable[[int], str]) -> dict[int, int]:
    """Every member's answer `decide(index)` posted by CLIENTS clients at once; each member's
    status. A request that takes longer than ANSWER_WITHIN fails the test (httpx times out)."""
    limits = httpx.Limits(max_connections=CLIENTS)
    with httpx.Client(base_url=base, timeout=ANSWER_WITHIN, limits=limits) as http:

        def post(item: tuple[int, tuple[int, str]]) -> tuple[int, int]:
            index, (member_id, path) = item
            form = {"decision": decide(index), "comment": f"#{member_id}"}
            return member_id, http.post(path, data=form).status_code

        with ThreadPoolExecutor(CLIENTS) as pool:
            statuses = dict(pool.map(post, enumerate(links.items())))
        assert http.get("/healthz").status_code == 200
    return statuses


def _assert_recorded_exactly(
    ctx: Context, rnd: dict[str, Any], statuses: dict[int, int], outcome: str
) -> None:
    """The round closed with `outcome`; its tally is what was recorded; each 200 is recorded
    once, in the decision record and with a receipt; each other answer got 410."""
    assert set(Counter(statuses.values())) <= {200, 410}, Counter(statuses.values())
    answered = {m for m, status in statuses.items() if status == 200}
    with ctx.uow(readonly=True) as uow:
        row = uow.session.execute(select(t.rounds).where(t.rounds.c.id == rnd["id"])).one()
        recipients = uow.session.execute(
            select(t.recipients.c.member_id, t.recipients.c.decision).where(
                t.recipients.c.round_id == rnd["id"]
            )
        ).all()
        decided = [d.member_id for d in uow.session.execute(select(t.decisions.c.member_id))]
        entries = uow.audit.entries("round", rnd["id"])
        receipts = uow.session.scalars(
            select(t.outbox.c.member_id).where(t.outbox.c.purpose == "receipt")
        ).all()
        verified = uow.audit.verify()
    assert (row.state, row.outcome) == ("closed", outcome)
    current = Counter(d or "pending" for _, d in recipients)
    tally = {k: getattr(row, f"tally_{k}") for k in ("endorse", "decline", "abstain", "pending")}
    assert tally == {k: current[k] for k in tally}
    assert {m for m, d in recipients if d} == answered
    assert sorted(decided) == sorted(answered)  # once each
    voted = [e for e in entries if e.action.startswith("decision.")]
    assert len(voted) == len(answered)
    assert [e.action for e in entries if e.action == "close"] == ["close"]
    assert entries[-1].action == "close"  # chained after the answer that closed the round
    assert sorted(receipts) == sorted(answered)
    assert verified.ok


def test_declines_that_make_a_majority_impossible_close_the_round_without_a_freeze(
    ctx: Context, web: str
) -> None:
    rnd = bulk_round(ctx, MEMBERS, rule="majority")
    statuses = _burst(web, _links(ctx, rnd), lambda _i: "decline")
    assert Counter(statuses.values())[200] == MEMBERS // 2  # the 150th decline closes it
    _assert_recorded_exactly(ctx, rnd, statuses, "not_endorsed")


def test_a_mixed_burst_closes_the_round_in_its_middle(ctx: Context, web: str) -> None:
    rnd = bulk_round(ctx, MEMBERS, rule="majority")
    choices = ("endorse", "decline", "abstain")  # 150 non-endorsements close it at about 3/4
    statuses = _burst(web, _links(ctx, rnd), lambda i: choices[i % 3])
    assert 0 < Counter(statuses.values())[410] < MEMBERS // 2
    _assert_recorded_exactly(ctx, rnd, statuses, "not_endorsed")


def test_one_decline_in_a_burst_of_endorsements_closes_a_unanimous_round(
    ctx: Context, web: str
) -> None:
    rnd = bulk_round(ctx, MEMBERS, rule="unanimous")
    links = _links(ctx, rnd)
    decliner = list(links)[MEMBERS // 2]
    statuses = _burst(web, links, lambda i: "decline" if i == MEMBERS // 2 else "endorse")
    assert statuses[decliner] == 200
    _assert_recorded_exactly(ctx, rnd, statuses, "not_endorsed")


# --- a lock held too long -------------------------------------------------------------------


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
@pytest.mark.parametrize("driver", ["asyncpg", "psycopg"])
def test_a_lock_held_too_long_gets_503_and_records_nothing(ctx: Context, driver: str) -> None:
    """The round's row locked by another session: the answer gives up after the lock timeout
    (503, try again) while the app goes on serving; released, the same answer is recorded. On a
    URL asyncpg does not open (a query string), the app's SQLAlchemy sessions have the limits."""
    rnd = bulk_round(ctx, 3, rule="majority")
    path = next(iter(_links(ctx, rnd).values()))
    url = ctx.settings.db_url + ("?application_name=accord-web" if driver == "psycopg" else "")
    settings = ctx.settings.model_copy(update={"database_url": url})
    uri = postgresql_uri(ctx.settings.db_url)
    with serving(settings) as base, httpx.Client(base_url=base) as http:
        with psycopg.connect(uri) as holder:
            holder.execute("SELECT 1 FROM rounds WHERE id = %s FOR UPDATE", (rnd["id"],))
            began = time.monotonic()
            refused = http.post(path, data={"decision": "endorse"}, timeout=ANSWER_WITHIN)
            waited = time.monotonic() - began
            assert http.get("/healthz", timeout=ANSWER_WITHIN).status_code == 200
            assert http.get(path, timeout=ANSWER_WITHIN).status_code == 200  # no lock to read
        assert refused.status_code == 503, refused.text
        assert "try again" in refused.text and "nothing was recorded" in refused.text
        assert 1.5 < waited < ANSWER_WITHIN
        with ctx.uow(readonly=True) as uow:
            assert uow.session.scalars(select(t.decisions.c.id)).all() == []
            assert uow.session.scalars(select(t.recipients.c.decision)).all() == [None] * 3
            outbox = uow.session.scalars(select(t.outbox.c.purpose)).all()
        assert "receipt" not in outbox
        assert (
            http.post(path, data={"decision": "endorse"}, timeout=ANSWER_WITHIN).status_code == 200
        )
