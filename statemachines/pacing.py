"""The SMTP sending budget: how many messages may go now, and when the next may. Pure rules.

Windows are fixed and counted from the epoch: a minute is `minute_seconds` long (60; tests
shorten it) and a day is 1,440 minutes. A grant belongs to the window it was made in, and its
messages must start before the window ends (less a guard), so no window of the provider's clock
gets more than the limit. A throttling answer from the server pauses every sender for a minute.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

MINUTES_A_DAY = 1440
# The end of a window no message may start in: the time a message takes to reach the server.
GUARD_SHARE, GUARD_MAX_SECONDS = 0.05, 1.0
# SMTP answers that mean "too fast, come back later" (RFC 5321 4xx; 421 closes the connection).
THROTTLING = frozenset({421, 450, 451, 452})


@dataclass(frozen=True)
class Limits:
    per_minute: int | None
    per_day: int | None
    minute_seconds: float = 60.0

    @property
    def limited(self) -> bool:
        return self.per_minute is not None or self.per_day is not None

    @property
    def pause(self) -> timedelta:
        """How long every sender holds off after the server throttled."""
        return timedelta(seconds=self.minute_seconds)

    def minute_of(self, now: datetime) -> int:
        return math.floor(now.timestamp() / self.minute_seconds)

    def day_of(self, now: datetime) -> int:
        return math.floor(now.timestamp() / (self.minute_seconds * MINUTES_A_DAY))

    def minute_start(self, window: int) -> datetime:
        return datetime.fromtimestamp(window * self.minute_seconds, UTC)

    def day_start(self, window: int) -> datetime:
        return datetime.fromtimestamp(window * self.minute_seconds * MINUTES_A_DAY, UTC)

    @property
    def guard(self) -> timedelta:
        return timedelta(seconds=min(self.minute_seconds * GUARD_SHARE, GUARD_MAX_SECONDS))


@dataclass(frozen=True)
class Spent:
    """What the shared budget row holds."""

    minute_window: int = 0
    minute_sent: int = 0
    day_window: int = 0
    day_sent: int = 0
    paused_until: datetime | None = None


@dataclass(frozen=True)
class Allowance:
    """How many messages may be claimed now, until when they may start, and (when fewer than
    wanted) when more may go."""

    count: int
    minute_window: int
    day_window: int
    start_before: datetime | None = None
    next_at: datetime | None = None

    @property
    def limited(self) -> bool:
        return self.start_before is not None


def allowance(limits: Limits, spent: Spent, now: datetime, wanted: int) -> Allowance:
    """What may go now, out of `wanted`."""
    minute, day = limits.minute_of(now), limits.day_of(now)
    if spent.paused_until is not None and spent.paused_until > now:
        return Allowance(0, minute, day, now, spent.paused_until)
    if not limits.limited:
        return Allowance(wanted, minute, day)
    start_before = limits.minute_start(minute + 1) - limits.guard
    if now >= start_before:
        return Allowance(0, minute, day, start_before, limits.minute_start(minute + 1))
    left, next_at = wanted, None
    if limits.per_minute is not None:
        used = spent.minute_sent if spent.minute_window == minute else 0
        left = min(left, max(limits.per_minute - used, 0))
        if left < wanted:
            next_at = limits.minute_start(minute + 1)
    if limits.per_day is not None:
        used = spent.day_sent if spent.day_window == day else 0
        if limits.per_day - used < left:
            left = max(limits.per_day - used, 0)
            next_at = limits.day_start(day + 1)
    return Allowance(left, minute, day, start_before, next_at)


def after_grant(spent: Spent, granted: Allowance, count: int) -> Spent:
    """The budget row once `count` messages of `granted` were claimed."""
    minute_used = spent.minute_sent if spent.minute_window == granted.minute_window else 0
    day_used = spent.day_sent if spent.day_window == granted.day_window else 0
    return Spent(
        granted.minute_window,
        minute_used + count,
        granted.day_window,
        day_used + count,
        spent.paused_until,
    )


def next_batch_at(limits: Limits, spent: Spent, now: datetime) -> datetime | None:
    """When a sender may next send (None: now)."""
    return allowance(limits, spent, now, 1).next_at
