"""The SMTP budget's one row (`smtp_budget`, id 1): what senders were granted this minute and this
day, and a pause after the server throttled. `accord.services.pacing` grants from it in the
transaction that claims outbox rows; the rules are statemachines.pacing.

Locking it is a row lock on PostgreSQL (`FOR UPDATE`, held until the claim commits); SQLite's
writers already hold its write lock from BEGIN, so there a plain read is enough.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from statemachines.pacing import Spent
from storage import tables as t

ROW = 1
_BUDGET = t.smtp_budget.c
_ENSURE = text(
    "INSERT INTO smtp_budget (id, minute_window, minute_sent, day_window, day_sent)"
    " VALUES (1, 0, 0, 0, 0) ON CONFLICT (id) DO NOTHING"
)
_SPENT = select(
    _BUDGET.minute_window,
    _BUDGET.minute_sent,
    _BUDGET.day_window,
    _BUDGET.day_sent,
    _BUDGET.paused_until,
).where(_BUDGET.id == ROW)


class BudgetRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def spent(self, *, lock: bool) -> Spent:
        """What the row holds (nothing spent if there is no row yet); with `lock`, the row is
        made if missing and locked until the transaction ends."""
        query = _SPENT
        if lock:
            self.session.execute(_ENSURE)
            if self.session.get_bind().dialect.name == "postgresql":
                query = query.with_for_update()
        row = self.session.execute(query).first()
        if row is None:
            return Spent()
        return Spent(*row)

    def record(self, spent: Spent) -> None:
        """Write the minute's and the day's windows and counts (the pause is left as it is)."""
        self.session.execute(
            update(t.smtp_budget)
            .where(_BUDGET.id == ROW)
            .values(
                minute_window=spent.minute_window,
                minute_sent=spent.minute_sent,
                day_window=spent.day_window,
                day_sent=spent.day_sent,
            )
        )

    def give_back(self, count: int, *, minute_window: int, day_window: int) -> None:
        """Decrement each window's count by `count`, atomically, if it is still that window and
        holds that many."""
        for window, sent, number in (
            (_BUDGET.minute_window, _BUDGET.minute_sent, minute_window),
            (_BUDGET.day_window, _BUDGET.day_sent, day_window),
        ):
            self.session.execute(
                update(t.smtp_budget)
                .where(_BUDGET.id == ROW, window == number, sent >= count)
                .values({sent: sent - count})
            )

    def pause_until(self, moment: datetime) -> None:
        self.session.execute(_ENSURE)
        self.session.execute(
            update(t.smtp_budget).where(_BUDGET.id == ROW).values(paused_until=moment)
        )
