"""The outbox's and the SMTP budget's repositories on their own (SQLite and PostgreSQL): what
`deliver` relies on, one step at a time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from accord.services.context import Context
from accord.services.outbox import Mail, enqueue, is_queued
from statemachines.pacing import Spent


def _mails(count: int) -> list[Mail]:
    return [Mail(f"test:{n}", "test", f"m{n}@example.org", data={"n": n}) for n in range(count)]


def test_enqueue_is_idempotent_and_counts_by_status(ctx: Context) -> None:
    with ctx.uow() as uow:
        assert enqueue(uow, _mails(3), settings=ctx.settings) == 3
        assert enqueue(uow, _mails(4), settings=ctx.settings) == 1
        uow.commit()
    with ctx.uow(readonly=True) as uow:
        assert is_queued(uow, "test:3") and not is_queued(uow, "test:4")
        assert uow.outbox.unsent_count() == 4
        assert uow.outbox.claimable_count(datetime.now(UTC)) == 4


def test_a_leased_row_is_claimable_again_only_when_its_lease_ends(ctx: Context) -> None:
    now = datetime.now(UTC)
    with ctx.uow() as uow:
        enqueue(uow, _mails(3), settings=ctx.settings)
        ids = uow.outbox.claimable_ids(now, after=0, limit=2, purposes=None)
        claimed = uow.outbox.lease(ids, now + timedelta(seconds=30))
        uow.commit()
    assert [m.id for m in claimed] == ids and claimed[0].data == {"n": 0}
    with ctx.uow() as uow:
        assert len(uow.outbox.claimable_ids(now, after=0, limit=10, purposes=None)) == 1
        later = now + timedelta(seconds=31)
        assert uow.outbox.claimable_ids(later, after=0, limit=10, purposes=None)[:2] == ids
        assert uow.outbox.claimable_ids(now, after=0, limit=10, purposes=["other"]) == []
        uow.outbox.mark_sent(ids[:1], now)
        uow.outbox.put_back(ids[1:])
        uow.commit()
    with ctx.uow(readonly=True) as uow:
        assert uow.outbox.claimable_count(now) == 2  # the one put back and the one never claimed
        assert uow.outbox.unsent_count() == 2


def test_the_budget_row_is_made_when_locked_and_gives_back_only_its_window(ctx: Context) -> None:
    with ctx.uow() as uow:
        assert uow.budget.spent(lock=False) == Spent()  # no row yet: nothing spent
        uow.budget.spent(lock=True)
        uow.budget.record(Spent(minute_window=7, minute_sent=5, day_window=3, day_sent=5))
        uow.budget.give_back(2, minute_window=7, day_window=2)  # the day moved on: kept
        uow.commit()
    with ctx.uow(readonly=True) as uow:
        assert uow.budget.spent(lock=False) == Spent(7, 3, 3, 5)
