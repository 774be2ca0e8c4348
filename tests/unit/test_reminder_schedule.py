"""The round reminder schedule (statemachines.reminders), as a pure rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from statemachines.reminders import ReminderSchedule

ASKED = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
HOUR, DAY = timedelta(hours=1), timedelta(days=1)
SCHEDULE = ReminderSchedule.of([3, 1], 3, 24)


def test_points_before_the_request_are_skipped_not_sent_late() -> None:
    deadline = ASKED + 30 * HOUR
    assert SCHEDULE.points(deadline, ASKED) == [deadline - DAY]
    assert not SCHEDULE.due(deadline, ASKED, None, ASKED + timedelta(minutes=5))
    assert SCHEDULE.points(ASKED + HOUR, ASKED) == []


def test_no_reminder_within_the_gap_of_the_request_or_the_last_reminder() -> None:
    deadline = ASKED + 30 * HOUR
    assert not SCHEDULE.due(deadline, ASKED, None, ASKED + 23 * HOUR)
    assert SCHEDULE.due(deadline, ASKED, None, ASKED + 24 * HOUR)
    assert SCHEDULE.next_at(deadline, ASKED, None) == ASKED + 24 * HOUR
    deadline = ASKED + 4 * DAY  # points at +1 day and +3 days
    reminded = ASKED + 2 * DAY + 12 * HOUR  # the first, sent late
    assert not SCHEDULE.due(deadline, ASKED, reminded, ASKED + 3 * DAY)  # 12 h after it
    assert SCHEDULE.next_at(deadline, ASKED, reminded) == reminded + DAY
    assert SCHEDULE.due(deadline, ASKED, reminded, reminded + DAY)


def test_a_late_sweep_sends_one_reminder_for_every_point_it_missed() -> None:
    deadline = ASKED + 14 * DAY
    late = deadline - 12 * HOUR  # both points (3 days and 1 day before) have passed
    assert SCHEDULE.due(deadline, ASKED, None, late)
    assert not SCHEDULE.due(deadline, ASKED, late, late + 6 * HOUR)
    assert SCHEDULE.next_at(deadline, ASKED, late) is None


def test_nothing_at_or_after_the_deadline_and_at_most_maximum() -> None:
    deadline = ASKED + 14 * DAY
    assert not SCHEDULE.due(deadline, ASKED, None, deadline)
    assert ReminderSchedule.of([7, 5, 3, 1], 2, 0).points(deadline, ASKED) == [
        deadline - 7 * DAY,
        deadline - 5 * DAY,
    ]
    assert ReminderSchedule.of([3, 1], 0, 24).points(deadline, ASKED) == []
