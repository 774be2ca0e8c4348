"""Edit an action's timeframe text: read it again as the import reads it (relative to the day of
the action's meeting, "next meeting" being that meeting's next one) and store what it found.

One road for the CLI (`accord actions edit`) and the console's action page. Text that gives no
date (nor says ongoing, tentative or repeating) is refused and changes nothing; `preview` reads
without writing, so the console can show the due date it found before saving.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from accord.services.context import Context
from statemachines.actions import Action
from statemachines.errors import InvalidInput
from statemachines.timeframes import Timeframe, read_timeframe

MAX_TIMEFRAME = 500  # characters: a report's timeframe cell is a phrase, not a paragraph


@dataclass(frozen=True)
class TimeframeRead:
    """What the text reads as; dates as YYYY-MM-DD or None."""

    raw: str
    start: str | None
    due: str | None
    precision: str | None
    tentative: bool
    ongoing: bool
    recurrence: str | None


@dataclass(frozen=True)
class TimeframeEdit:
    id: int
    previous: TimeframeRead
    timeframe: TimeframeRead
    saved: bool  # False for a preview, or when the text is the same as before


def edit_timeframe(
    ctx: Context, action_id: int, text: str, *, preview: bool = False
) -> TimeframeEdit:
    """Read `text` as the action's timeframe and, unless `preview`, store it and record the change
    (actor and channel from `ctx`). InvalidInput, and nothing changed, if it cannot be read."""
    raw = " ".join(text.split())
    _check(raw)
    with ctx.uow() as uow:
        action = uow.actions.get(action_id)
        meeting = uow.meetings.get(action.meeting_id)
        read = read_timeframe(
            raw, reference=meeting.starts_on, next_meeting=meeting.next_meeting_on
        )
        if read.unparsed:
            raise InvalidInput(
                f"no date found in '{raw}': write e.g. 'by March 2027', 'Q2 2027', "
                "'before the next meeting' or 'ongoing'"
            )
        before = _stored(action)
        changed = raw != action.timeframe_raw
        if changed and not preview:
            _apply(action, read)
            ctx.record(
                uow,
                entity_type="action",
                entity_id=action.id,
                action="edit_timeframe",
                at=ctx.now(),
                payload={
                    "from": before.raw,
                    "to": raw,
                    "due_before": before.due,
                    "due": _iso(read.due),
                    "precision": read.precision,
                    "tentative": read.tentative,
                },
            )
            uow.commit()
        return TimeframeEdit(action_id, before, _found(read), changed and not preview)


def _check(raw: str) -> None:
    if not raw:
        raise InvalidInput("give the timeframe's text, e.g. 'by March 2027'")
    if len(raw) > MAX_TIMEFRAME:
        raise InvalidInput(f"a timeframe is at most {MAX_TIMEFRAME} characters")


def _apply(action: Action, read: Timeframe) -> None:
    action.timeframe_raw = read.raw
    action.start_on, action.end_on, action.due_on = read.start, read.end, read.due
    action.precision = read.precision
    action.tentative, action.ongoing = read.tentative, read.ongoing
    action.recurrence = read.recurrence
    action.named_meeting = read.meeting
    action.unparsed = read.unparsed
    action.milestones = [milestone.to_dict() for milestone in read.milestones]


def _found(read: Timeframe) -> TimeframeRead:
    return TimeframeRead(
        read.raw,
        _iso(read.start),
        _iso(read.due),
        read.precision,
        read.tentative,
        read.ongoing,
        read.recurrence,
    )


def _stored(action: Action) -> TimeframeRead:
    return TimeframeRead(
        action.timeframe_raw,
        _iso(action.start_on),
        _iso(action.due_on),
        action.precision,
        bool(action.tentative),
        bool(action.ongoing),
        action.recurrence,
    )


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None
