"""What a timeframe reads as: its window, due date, precision, flags and milestones."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

NEXT_MEETING = "next meeting"


@dataclass(frozen=True)
class Milestone:
    due: date | None
    text: str
    precision: str | None

    def to_dict(self) -> dict[str, str | None]:
        return {"due": _iso(self.due), "text": self.text, "precision": self.precision}


@dataclass(frozen=True)
class Timeframe:
    raw: str
    start: date | None
    end: date | None
    due: date | None
    precision: str | None
    tentative: bool = False
    ongoing: bool = False
    recurrence: str | None = None
    meeting: str | None = None
    milestones: tuple[Milestone, ...] = ()
    unparsed: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: dates as YYYY-MM-DD or None."""
        return {
            "raw": self.raw,
            "start": _iso(self.start),
            "end": _iso(self.end),
            "due": _iso(self.due),
            "precision": self.precision,
            "tentative": self.tentative,
            "ongoing": self.ongoing,
            "recurrence": self.recurrence,
            "meeting": self.meeting,
            "milestones": [milestone.to_dict() for milestone in self.milestones],
            "unparsed": self.unparsed,
        }


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None
