"""Round reminders against the clock (ACCORD_NOW), through `sweep_rounds`, on SQLite and
PostgreSQL: a sweep every few hours across rounds of 1 hour, 30 hours, 3 days and 14 days, and a
sweep that comes late. The schedule itself is statemachines.reminders."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from accord.services.context import Context
from accord.services.results import plain
from accord.services.round_reminders import sweep_rounds
from storage import tables as t
from tests.conftest import FIXED_NOW
from tests.integration.test_rounds import at, draft, members, start  # noqa: F401  (fixture)

pytestmark = pytest.mark.usefixtures("members")

HOUR, DAY = timedelta(hours=1), timedelta(days=1)
SWEEP_EVERY = 3 * HOUR


def reminded_at(ctx: Context, length: timedelta) -> list[timedelta]:
    """Start a round of `length` now (FIXED_NOW), sweep 5 minutes later and then every
    SWEEP_EVERY until its deadline; when (after the start) each sweep wrote reminders."""
    start(ctx, draft(ctx), deadline=FIXED_NOW + length)
    moments = [FIXED_NOW + timedelta(minutes=5)]
    while moments[-1] + SWEEP_EVERY < FIXED_NOW + length:
        moments.append(moments[-1] + SWEEP_EVERY)
    return [m - FIXED_NOW for m in moments if plain(sweep_rounds(at(ctx, m)))["reminders"]]


def reminder_numbers(ctx: Context) -> list[int]:
    with ctx.uow(readonly=True) as uow:
        rows = uow.session.execute(select(t.outbox.c.data).where(t.outbox.c.purpose == "reminder"))
        return sorted({row.data["reminder_number"] for row in rows})


@pytest.mark.parametrize(
    ("length", "expected"),
    [
        # 1 hour: both points (3 days and 1 day before) fall before the round began.
        (HOUR, []),
        # 30 hours: the 1-day point (6 h in) waits out the 24 h gap after the invitation.
        (30 * HOUR, [24 * HOUR + timedelta(minutes=5)]),
        # 3 days: the 3-day point is the start itself (skipped); the 1-day point goes.
        (3 * DAY, [2 * DAY + timedelta(minutes=5)]),
        # 14 days: both points, on the first sweep after each.
        (14 * DAY, [11 * DAY + timedelta(minutes=5), 13 * DAY + timedelta(minutes=5)]),
    ],
    ids=["1h", "30h", "3d", "14d"],
)
def test_reminders_keep_away_from_the_invitation_and_from_each_other(
    ctx: Context, length: timedelta, expected: list[timedelta]
) -> None:
    assert reminded_at(ctx, length) == expected
    assert reminder_numbers(ctx) == list(range(1, len(expected) + 1))


def test_a_late_sweep_sends_one_reminder_for_all_the_points_it_missed(ctx: Context) -> None:
    deadline: datetime = FIXED_NOW + 14 * DAY
    rnd = start(ctx, draft(ctx), deadline=deadline)
    silent = len(rnd["recipients"])
    assert plain(sweep_rounds(at(ctx, FIXED_NOW + timedelta(minutes=5))))["reminders"] == 0
    # The workers were down from then until 12 hours before the deadline: both points passed.
    assert plain(sweep_rounds(at(ctx, deadline - 12 * HOUR)))["reminders"] == silent
    assert plain(sweep_rounds(at(ctx, deadline - 6 * HOUR)))["reminders"] == 0
    assert plain(sweep_rounds(at(ctx, deadline - HOUR)))["reminders"] == 0
    assert reminder_numbers(ctx) == [1]
