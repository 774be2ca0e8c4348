"""One SMTP budget for every sender (ACCORD_SMTP_MAX_PER_MINUTE, ACCORD_SMTP_MAX_PER_DAY).

The budget is one row of `smtp_budget`, locked by the transaction that claims outbox rows (a
row lock on PostgreSQL; SQLite's writers already hold its write lock from BEGIN), so the grant
and the lease are written together and two senders on two workers never both spend the same
minute. A grant's messages must start before its minute ends (`Allowance.start_before`); what
did not start is handed back (`refund`). When the server throttles (421, 450, 451, 452), `pause`
holds every sender off for a minute. The rules themselves are statemachines.pacing.

Time here is the wall clock, as for outbox leases (not ACCORD_NOW).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, text, update

from statemachines.pacing import Allowance, Limits, Spent, after_grant, allowance
from storage import tables as t
from storage.uow import UnitOfWork

ROW = 1
_ENSURE = text(
    "INSERT INTO smtp_budget (id, minute_window, minute_sent, day_window, day_sent)"
    " VALUES (1, 0, 0, 0, 0) ON CONFLICT (id) DO NOTHING"
)
_SPENT = select(
    t.smtp_budget.c.minute_window,
    t.smtp_budget.c.minute_sent,
    t.smtp_budget.c.day_window,
    t.smtp_budget.c.day_sent,
    t.smtp_budget.c.paused_until,
).where(t.smtp_budget.c.id == ROW)


def grant(uow: UnitOfWork, limits: Limits, wanted: int, now: datetime) -> Allowance:
    """What this sender may claim now, in the claiming transaction. Unlimited, only a pause is
    read (no lock: nothing is spent); limited, the budget row is locked until the claim commits
    and `spend` records what was claimed."""
    return allowance(limits, _read(uow, lock=limits.limited), now, wanted)


def spend(uow: UnitOfWork, limits: Limits, granted: Allowance, count: int) -> None:
    """Record `count` claimed messages of `granted` (same transaction as `grant`)."""
    if not limits.limited or not count:
        return
    spent = after_grant(_read(uow, lock=False), granted, count)
    uow.session.execute(
        update(t.smtp_budget)
        .where(t.smtp_budget.c.id == ROW)
        .values(
            minute_window=spent.minute_window,
            minute_sent=spent.minute_sent,
            day_window=spent.day_window,
            day_sent=spent.day_sent,
        )
    )


def refund(uow: UnitOfWork, limits: Limits, granted: Allowance, count: int) -> None:
    """Give back `count` messages of `granted` that never started (atomic decrements)."""
    if not limits.limited or not count:
        return
    budget = t.smtp_budget.c
    for window, sent, number in (
        (budget.minute_window, budget.minute_sent, granted.minute_window),
        (budget.day_window, budget.day_sent, granted.day_window),
    ):
        uow.session.execute(
            update(t.smtp_budget)
            .where(budget.id == ROW, window == number, sent >= count)
            .values({sent: sent - count})
        )


def pause(uow: UnitOfWork, limits: Limits, now: datetime) -> None:
    """Hold every sender off for a minute after the server throttled."""
    uow.session.execute(_ENSURE)
    uow.session.execute(
        update(t.smtp_budget)
        .where(t.smtp_budget.c.id == ROW)
        .values(paused_until=now + limits.pause)
    )


def _read(uow: UnitOfWork, *, lock: bool) -> Spent:
    query = _SPENT
    if lock:
        uow.session.execute(_ENSURE)
        if uow.session.bind.dialect.name == "postgresql":  # type: ignore[union-attr]
            query = query.with_for_update()
    row = uow.session.execute(query).first()
    if row is None:
        return Spent()
    return Spent(*row)
