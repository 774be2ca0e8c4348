"""The sending budget's rules (statemachines.pacing), as pure functions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from statemachines.pacing import Limits, Spent, after_grant, allowance, next_batch_at

MINUTE_LIMITS = Limits(per_minute=30, per_day=None)
START = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)  # the start of a minute (and of no day)


def test_unlimited_grants_everything_and_stops_nothing() -> None:
    granted = allowance(Limits(None, None), Spent(), START, 500)
    assert (granted.count, granted.start_before, granted.next_at) == (500, None, None)


def test_a_minute_grants_its_limit_once_then_says_when_the_next_one_starts() -> None:
    now = START + timedelta(seconds=10)
    first = allowance(MINUTE_LIMITS, Spent(), now, 500)
    assert first.count == 30 and first.next_at == START + timedelta(minutes=1)
    assert first.start_before == START + timedelta(seconds=59)  # less the guard (1 s)
    spent = after_grant(Spent(), first, 30)
    assert allowance(MINUTE_LIMITS, spent, now, 500).count == 0
    assert next_batch_at(MINUTE_LIMITS, spent, now) == START + timedelta(minutes=1)
    later = allowance(MINUTE_LIMITS, spent, START + timedelta(minutes=1, seconds=1), 500)
    assert later.count == 30  # a new minute starts from nothing
    assert next_batch_at(MINUTE_LIMITS, Spent(), now) is None


def test_the_day_limit_wins_when_it_is_lower_and_points_to_the_next_day() -> None:
    limits = Limits(per_minute=30, per_day=100)
    day = limits.day_of(START)
    spent = Spent(0, 0, day, 90)
    granted = allowance(limits, spent, START + timedelta(seconds=5), 500)
    assert granted.count == 10 and granted.next_at == limits.day_start(day + 1)
    assert allowance(limits, Spent(0, 0, day, 100), START, 5).count == 0


def test_no_grant_at_the_end_of_a_minute_nor_while_paused() -> None:
    late = START + timedelta(seconds=59, milliseconds=500)
    assert allowance(MINUTE_LIMITS, Spent(), late, 5).count == 0
    paused = Spent(paused_until=START + timedelta(seconds=30))
    held = allowance(Limits(None, None), paused, START, 5)
    assert (held.count, held.next_at) == (0, START + timedelta(seconds=30))
    assert allowance(Limits(None, None), paused, START + timedelta(seconds=31), 5).count == 5
