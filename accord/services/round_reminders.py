"""Reminders to a round's silent recipients, and the sweep that closes what is due and reminds.

When each reminder is due is a domain rule (`statemachines.reminders.ReminderSchedule`); here
it is read from the settings, applied to the recipients' rows, and the reminders written to the
outbox, threaded to each member's invitation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from accord.services.context import Context
from accord.services.outbox import Mail, asking_message_ids, enqueue
from accord.services.rounds import close_if_due
from statemachines import rounds as rules
from statemachines.reminders import ReminderSchedule
from statemachines.rounds import OPEN, Round
from storage.uow import UnitOfWork


def reminder_schedule(ctx: Context) -> ReminderSchedule:
    settings = ctx.settings
    return ReminderSchedule.of(
        settings.reminder_days, settings.max_reminders, settings.reminder_min_gap_hours
    )


def due_reminders(
    uow: UnitOfWork, rnd: Round, now: datetime, schedule: ReminderSchedule
) -> list[tuple[int, str, int]]:
    """(member id, email, reminder number) of silent recipients whose next reminder is due."""
    return [
        (r.member_id, r.email, r.reminders_sent + 1)
        for r in uow.recipients.silent(rnd.id)
        if schedule.due(rnd.deadline, r.asked_at, r.last_reminded_at, now)
    ]


def remind(ctx: Context, uow: UnitOfWork, rnd: Round, now: datetime) -> int:
    """Write the reminders now due, threaded to each member's invitation."""
    due = due_reminders(uow, rnd, now, reminder_schedule(ctx))
    threads = asking_message_ids(uow, rnd.id) if due else {}
    mails = [
        Mail(
            dedupe_key=f"reminder:{rnd.id}:{member_id}:v{rnd.version_number}:{n}",
            purpose="reminder",
            to_addr=email,
            round_id=rnd.id,
            member_id=member_id,
            statement_id=rnd.statement_id,
            data={"reminder_number": n},
            thread_id=threads.get(member_id),
        )
        for member_id, email, n in due
    ]
    enqueue(uow, mails, settings=ctx.settings)
    uow.recipients.reminded(rnd.id, [(member_id, n) for member_id, _email, n in due], now)
    return len(due)


@dataclass(frozen=True)
class RoundSweep:
    """What a sweep of the rounds did (the first keys of `accord sweep --json`)."""

    open_rounds: int
    closed: int
    reminders: int


def sweep_rounds(ctx: Context) -> RoundSweep:
    """Close what is due and write due reminders, one round per transaction. The rounds with
    nothing due (most of them, most of the time) are told apart by reading the open rounds (their
    tallies included) and the reminders already sent, and get no transaction."""
    now = ctx.now()
    with ctx.uow(readonly=True) as uow:
        open_ids, due_ids = _rounds_to_move(ctx, uow, now)
    closed = reminded = 0
    for round_id in due_ids:
        with ctx.uow() as uow:
            rnd = uow.recipients.locked_round(round_id)
            if rnd.state != OPEN:
                continue
            before = rnd.state
            close_if_due(ctx, uow, rnd, now)
            if rnd.state == before:
                reminded += remind(ctx, uow, rnd, now)
            else:
                closed += 1
            uow.commit()
    return RoundSweep(open_rounds=len(open_ids), closed=closed, reminders=reminded)


def _rounds_to_move(ctx: Context, uow: UnitOfWork, now: datetime) -> tuple[list[int], list[int]]:
    """The open rounds' ids, and those of the rounds that are due to close or have a reminder
    due (what `close_if_due` and `due_reminders` would find, read for all rounds at once)."""
    open_rounds = uow.recipients.open_rounds()
    schedule = reminder_schedule(ctx)
    due = []
    for rnd in open_rounds:
        tally = rules.Tally.kept_by(rnd)
        rule = rules.parse_rule(rnd.rule)
        if rules.close_reason(rule, tally, rnd.deadline, now, rnd.mode):
            due.append(rnd.id)
            continue
        if any(schedule.due(rnd.deadline, asked, reminded, now) for asked, reminded in rnd.silent):
            due.append(rnd.id)
    return [rnd.id for rnd in open_rounds], due
