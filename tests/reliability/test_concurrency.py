"""Concurrency on SQLite and on PostgreSQL: many members answering at once through the reply
app over real HTTP, and sweeps or publications racing each other.

On SQLite every writer takes the lock at BEGIN and waits for it (storage/db.py), so no request
fails with "database is locked"; on PostgreSQL the round row and the decision record's head are
locked while an answer is written.
"""

from __future__ import annotations

import json
import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from accord.services.context import Context
from accord.services.members import import_members
from accord.services.publish import publish_statement
from accord.services.results import plain
from accord.services.rounds import close_round, start_round
from accord.services.statements import draft_statement
from accord.services.sweep import sweep
from statemachines.errors import AccordError, Conflict
from storage import tables as t
from storage.uow import Database
from tests.conftest import FIXTURES
from tests.flows.bulk import answer
from tests.links import member_token
from tests.reliability.conftest import DEADLINE, Sink, bulk_round, figure
from tests.servers import web_process

ANSWERING = 300
CLIENTS = 32
CHOICES = ("endorse", "decline", "abstain")


def count(ctx: Context, table: Any, *where: Any) -> int:
    with ctx.uow(readonly=True) as uow:
        return int(uow.session.scalar(select(func.count()).select_from(table).where(*where)))


def at_once(workers: int, work: Callable[[int], Any]) -> list[Any]:
    """`work(i)` in `workers` threads released together; each result, or the error raised."""
    start = threading.Barrier(workers)

    def one(i: int) -> Any:
        start.wait()
        try:
            return work(i)
        except Exception as exc:
            return exc

    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(one, range(workers)))


def test_300_members_answering_twice_at_once_are_all_recorded_exactly(
    ctx: Context, accord_env: dict[str, str], tmp_path: Path
) -> None:
    """One more recipient stays silent and the rule is min:1, so the round stays open and every
    second answer is a change, as a member makes it."""
    rnd = bulk_round(ctx, ANSWERING + 1, rule="min:1")
    with ctx.uow(readonly=True) as uow:
        query = select(t.recipients.c.member_id).where(t.recipients.c.round_id == rnd["id"])
        member_ids = sorted(uow.session.scalars(query))[:ANSWERING]

    def link(member_id: int) -> str:
        token = member_token(
            ctx,
            round_id=rnd["id"],
            member_id=member_id,
            text_sha256=rnd["text_sha256"],
            deadline=DEADLINE,
        )
        return f"/r/{token}"

    answers = {m: (CHOICES[i % 3], CHOICES[(i + 1) % 3]) for i, m in enumerate(member_ids)}
    latencies: list[float] = []
    with web_process(accord_env, tmp_path / "web.log") as base:
        limits = httpx.Limits(max_connections=CLIENTS)
        with httpx.Client(base_url=base, timeout=120, limits=limits) as http:

            def answer_twice(member_id: int) -> list[int]:
                path, statuses = link(member_id), []
                for decision in answers[member_id]:
                    began = time.monotonic()
                    form = {"decision": decision, "comment": f"#{member_id}"}
                    statuses.append(http.post(path, data=form).status_code)
                    latencies.append(time.monotonic() - began)
                return statuses

            began = time.monotonic()
            with ThreadPoolExecutor(CLIENTS) as pool:
                statuses = Counter(s for pair in pool.map(answer_twice, member_ids) for s in pair)
            seconds = time.monotonic() - began

    assert statuses == {200: 2 * ANSWERING}
    expected = Counter(second for _, second in answers.values())
    with ctx.uow(readonly=True) as uow:
        tally = dict(Counter(uow.session.scalars(
            select(t.recipients.c.decision).where(t.recipients.c.round_id == rnd["id"])
        )))  # fmt: skip
        history = list(uow.session.execute(select(t.decisions).order_by(t.decisions.c.id)))
        verified = uow.audit.verify()
    assert tally == {**expected, None: 1}
    assert len(history) == 2 * ANSWERING
    by_member: dict[int, list[str]] = {}
    for row in history:
        by_member.setdefault(row.member_id, []).append(row.decision)
    assert by_member == {m: list(pair) for m, pair in answers.items()}  # in the order pressed
    assert verified.ok
    assert count(ctx, t.audit_log, t.audit_log.c.action.startswith("decision.")) == 2 * ANSWERING
    assert count(ctx, t.outbox, t.outbox.c.purpose == "receipt") == 2 * ANSWERING
    figure(
        "concurrent-answers",
        database=ctx.db.engine.dialect.name,
        requests=2 * ANSWERING,
        clients=CLIENTS,
        statuses=dict(statuses),
        seconds=round(seconds, 1),
        per_second=round(2 * ANSWERING / seconds),
        latency_ms_median=round(1000 * statistics.median(latencies)),
        latency_ms_p95=round(1000 * statistics.quantiles(latencies, n=20)[-1]),
        latency_ms_max=round(1000 * max(latencies)),
    )


ROUNDS = 4
SWEEPERS = 6


def test_sweeps_racing_close_and_notify_each_round_once(
    ctx: Context, sink: tuple[Sink, int]
) -> None:
    server, port = sink
    import_members(ctx, FIXTURES / "members.csv")
    for n in range(ROUNDS):
        statement = draft_statement(ctx, title=f"Statement {n}", kind="awareness-day", body="We\n")
        args = {"group": "Advisory Group", "rule": "majority", "deadline": DEADLINE}
        start_round(ctx, statement_id=statement.id, **args)
    late = ctx.settings.model_copy(
        update={"now": DEADLINE + timedelta(minutes=1), "smtp_host": "127.0.0.1", "smtp_port": port}
    )
    contexts = [
        Context(late, actor="accord", _db=Database(ctx.settings.db_url)) for _ in range(SWEEPERS)
    ]
    try:
        results = at_once(SWEEPERS, lambda i: sweep(contexts[i]))
    finally:
        for each in contexts:
            each.db.dispose()

    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(r.closed for r in results) == ROUNDS
    closes = count(ctx, t.audit_log, t.audit_log.c.action == "close")
    result_mail = count(ctx, t.outbox, t.outbox.c.purpose == "result")
    assert (closes, result_mail) == (ROUNDS, ROUNDS)
    with ctx.uow(readonly=True) as uow:
        rows = list(uow.session.execute(select(t.outbox.c.message_id, t.outbox.c.status)))
        assert uow.audit.verify().ok
    assert {status for _, status in rows} == {"sent"}
    assert sorted(server.kept[m] for m, _ in rows) == [1] * len(rows)  # 28 invitations, 4 results
    assert sum(server.kept.values()) == len(rows)
    figure(
        "racing-sweeps",
        database=ctx.db.engine.dialect.name,
        sweeps=SWEEPERS,
        rounds=ROUNDS,
        closes=closes,
        result_mails=result_mail,
        messages_kept=sum(server.kept.values()),
    )


def test_publications_racing_publish_once(ctx: Context) -> None:
    import_members(ctx, FIXTURES / "members.csv")
    statement = draft_statement(ctx, title="Migrants Day", kind="awareness-day", body="We\n")
    args = {"group": "Advisory Group", "rule": "majority", "deadline": DEADLINE}
    rnd = plain(start_round(ctx, statement_id=statement.id, **args))
    for email in ("barry.cusack@example.org", "gemma.pinyol@example.org",
                  "gregory.jaquet@example.org", "ingrid.rasmussen@example.org"):  # fmt: skip
        answer(ctx, rnd["id"], email, "endorse")
    close_round(ctx, rnd["id"])
    contexts = [Context(ctx.settings, _db=Database(ctx.settings.db_url)) for _ in range(4)]
    try:
        results = at_once(
            len(contexts), lambda i: plain(publish_statement(contexts[i], statement.id))
        )
    finally:
        for each in contexts:
            each.db.dispose()

    published = [r for r in results if not isinstance(r, Exception)]
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(published) == 1 and all(isinstance(r, AccordError) for r in refused), refused
    assert count(ctx, t.audit_log, t.audit_log.c.action == "publish") == 1
    assert count(ctx, t.outbox, t.outbox.c.purpose == "published") == 7
    certificate = published[0]["certificate"]
    with ctx.uow(readonly=True) as uow:
        head = uow.session.execute(select(t.audit_head.c.seq, t.audit_head.c.hash)).one()
        before_publication = uow.session.scalar(
            select(t.audit_log.c.prev_hash).where(t.audit_log.c.action == "publish")
        )
    written = json.loads(Path(certificate).read_text(encoding="utf-8"))
    assert written["decision_record"]["head_hash_before_publication"] == before_publication
    assert written["decision_record"]["entries"] == head.seq
    figure(
        "racing-publications",
        database=ctx.db.engine.dialect.name,
        publishers=len(contexts),
        published=len(published),
        refused=sorted({type(r).__name__ for r in refused}),
    )


def test_a_race_lost_in_an_autoflush_is_a_conflict(ctx: Context) -> None:
    """The deterministic form of the publication race: the loser's change is flushed by a query
    (autoflush), not by commit(); it must still be a Conflict, never a bare StaleDataError."""
    statement_id = draft_statement(ctx, title="T", kind="awareness-day", body="We\n").id
    first, second = ctx.uow(), ctx.uow()
    with pytest.raises(Conflict), first:
        mine = first.statements.get(statement_id)
        first.session.commit()  # end the read; keep the loaded statement
        with second:
            second.statements.get(statement_id).title = "changed by someone else"
            second.commit()
        mine.title = "changed by me"
        first.session.execute(select(t.audit_head))  # autoflush: 0 rows matched
    with ctx.uow(readonly=True) as uow:
        assert uow.statements.get(statement_id).title == "changed by someone else"
