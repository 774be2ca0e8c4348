"""`accord sweep`: everything that moves with time, once. Safe to run again at any moment."""

from __future__ import annotations

from accord.services.context import Context
from accord.services.delivery import deliver
from accord.services.reminders import remind_actions
from accord.services.rounds import sweep_rounds


def sweep(ctx: Context) -> dict[str, int]:
    rounds = sweep_rounds(ctx)
    actions = remind_actions(ctx)
    mail = deliver(ctx)
    return {**rounds, **actions.as_dict(), **{f"mail_{k}": v for k, v in mail.as_dict().items()}}
