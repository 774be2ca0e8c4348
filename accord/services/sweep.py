"""`accord sweep`: everything that moves with time, once. Safe to run again at any moment."""

from __future__ import annotations

from dataclasses import dataclass

from accord.services.context import Context
from accord.services.delivery import MailCounts, deliver
from accord.services.reminders import ReminderResult, remind_actions
from accord.services.results import plain
from accord.services.round_reminders import RoundSweep, sweep_rounds

# Under a sending budget (ACCORD_SMTP_MAX_PER_MINUTE/DAY) a sweep keeps sending as the budget
# allows for up to this long, less than the 5 minutes between scheduled sweeps; the rest waits.
SWEEP_PATIENCE_S = 240.0


@dataclass(frozen=True)
class SweepResult:
    """What a sweep did (`accord sweep --json`, and the sweep flow's result): the rounds, the
    action reminders, then the mail."""

    open_rounds: int
    closed: int
    reminders: int
    action_reminders: int
    action_digests: int
    mail_sent: int
    mail_failed: int
    mail_retry_later: int


def sweep(ctx: Context) -> SweepResult:
    rounds = sweep_rounds(ctx)
    actions = remind_actions(ctx)
    mail = deliver(ctx, patience=SWEEP_PATIENCE_S)
    return swept(rounds, actions, mail.counts)


def swept(rounds: RoundSweep, actions: ReminderResult, mail: MailCounts) -> SweepResult:
    """A sweep's result from what its three parts returned (the flow delivers mail its own way)."""
    return SweepResult(
        **plain(rounds),
        **plain(actions),
        **{f"mail_{key}": number for key, number in plain(mail).items()},
    )
