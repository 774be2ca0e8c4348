"""When reminders are due: pure rules, clock passed in. Rounds (`ReminderSchedule`) and actions
(`stage_for`) are both reminded here; the services only write what these rules say is due.

Round reminders: when a silent member of an open round is reminded.

A round's reminder points fall `days` before its deadline (ACCORD_REMINDER_DAYS, earliest
first). For one member:

- a point at or before the moment the member was asked (their invitation, or the revision that
  asked again) is skipped, never sent late; at most `maximum` of the points left are kept;
- a reminder is due once a point has passed that no reminder has covered yet, and not within
  `min_gap` of the member's last request or reminder (it waits for the gap, if the deadline
  has not come by then);
- however many points have passed since the last reminder (a sweep that ran late), one reminder
  goes, and it covers them all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta


@dataclass(frozen=True)
class ReminderSchedule:
    """The settings that shape every round's reminders."""

    days: tuple[int, ...]
    maximum: int
    min_gap: timedelta

    @classmethod
    def of(cls, days: Sequence[int], maximum: int, min_gap_hours: float) -> ReminderSchedule:
        return cls(tuple(days), maximum, timedelta(hours=min_gap_hours))

    def points(self, deadline: datetime, asked_at: datetime) -> list[datetime]:
        """The member's reminder points, earliest first: those after `asked_at`, at most
        `maximum`."""
        every = sorted({deadline - timedelta(days=d) for d in self.days})
        return [p for p in every if p > asked_at][: max(self.maximum, 0)]

    def due(
        self,
        deadline: datetime,
        asked_at: datetime,
        last_reminded_at: datetime | None,
        now: datetime,
    ) -> bool:
        """Whether the member gets a reminder now."""
        if now >= deadline:
            return False
        reminded = last_reminded_at if last_reminded_at and last_reminded_at > asked_at else None
        points = self.points(deadline, asked_at)
        covered = sum(1 for p in points if reminded and p <= reminded)
        passed = sum(1 for p in points if p <= now)
        last_contact = reminded or asked_at
        return passed > covered and now >= last_contact + self.min_gap

    def next_at(
        self, deadline: datetime, asked_at: datetime, last_reminded_at: datetime | None
    ) -> datetime | None:
        """When the member's next reminder comes due (None: no more reminders)."""
        reminded = last_reminded_at if last_reminded_at and last_reminded_at > asked_at else None
        after = reminded or asked_at
        for point in self.points(deadline, asked_at):
            if reminded and point <= reminded:
                continue
            when = max(point, after + self.min_gap)
            return when if when < deadline else None
        return None


# Action reminders: a responsible body's contacts are reminded this many days before an action's
# due date, and once it is overdue.
STAGES = {"14-days": 14, "3-days": 3}


def stage_for(due: date, today: date) -> str | None:
    """`overdue`, `3-days`, `14-days`, or None when no action reminder is due yet."""
    days = (due - today).days
    if days < 0:
        return "overdue"
    for stage, before in sorted(STAGES.items(), key=lambda item: item[1]):
        if days <= before:
            return stage
    return None
