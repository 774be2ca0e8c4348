"""`accord sweep`: everything that moves with time, once. Safe to run again at any moment."""

from __future__ import annotations

from accord.services.context import Context
from accord.services.delivery import deliver
from accord.services.reminders import remind_actions
from accord.services.results import plain
from accord.services.round_reminders import sweep_rounds

# Under a sending budget (ACCORD_SMTP_MAX_PER_MINUTE/DAY) a sweep keeps sending as the budget
# allows for up to this long, less than the 5 minutes between scheduled sweeps; the rest waits.
SWEEP_PATIENCE_S = 240.0


def sweep(ctx: Context) -> dict[str, int]:
    rounds = sweep_rounds(ctx)
    actions = remind_actions(ctx)
    mail = deliver(ctx, patience=SWEEP_PATIENCE_S)
    return {
        **plain(rounds),
        **plain(actions),
        **{f"mail_{k}": v for k, v in mail.as_dict().items()},
    }
