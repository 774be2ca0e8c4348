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

from statemachines.pacing import Allowance, Limits, after_grant, allowance
from storage.uow import UnitOfWork


def grant(uow: UnitOfWork, limits: Limits, wanted: int, now: datetime) -> Allowance:
    """What this sender may claim now, in the claiming transaction. Unlimited, only a pause is
    read (no lock: nothing is spent); limited, the budget row is locked until the claim commits
    and `spend` records what was claimed."""
    return allowance(limits, uow.budget.spent(lock=limits.limited), now, wanted)


def spend(uow: UnitOfWork, limits: Limits, granted: Allowance, count: int) -> None:
    """Record `count` claimed messages of `granted` (same transaction as `grant`)."""
    if not limits.limited or not count:
        return
    uow.budget.record(after_grant(uow.budget.spent(lock=False), granted, count))


def refund(uow: UnitOfWork, limits: Limits, granted: Allowance, count: int) -> None:
    """Give back `count` messages of `granted` that never started (atomic decrements)."""
    if not limits.limited or not count:
        return
    uow.budget.give_back(count, minute_window=granted.minute_window, day_window=granted.day_window)


def pause(uow: UnitOfWork, limits: Limits, now: datetime) -> None:
    """Hold every sender off for a minute after the server throttled."""
    uow.budget.pause_until(now + limits.pause)
