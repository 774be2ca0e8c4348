"""Follow-up actions: proposed → assessed → in_progress → done (or dropped), with their guards."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from statemachines.machine import Lifecycle, require

if TYPE_CHECKING:
    from transitions import EventData  # imported when a machine is first built

PROPOSED, ASSESSED, IN_PROGRESS, DONE, DROPPED = (
    "proposed",
    "assessed",
    "in_progress",
    "done",
    "dropped",
)
STATES = (PROPOSED, ASSESSED, IN_PROGRESS, DONE, DROPPED)
TERMINAL = frozenset({DONE, DROPPED})
OUTCOMES = ("accepted", "under_consideration")


def _has_reason(event: EventData) -> bool:
    return bool(str(event.kwargs.get("reason") or "").strip())


def _known_outcome(event: EventData) -> bool:
    return event.kwargs.get("outcome") in OUTCOMES


def _accepted(event: EventData) -> bool:
    return getattr(event.model, "assessment", None) == "accepted"


def _record_assessment(event: EventData) -> None:
    event.model.assessment = event.kwargs["outcome"]


def _record_reason(event: EventData) -> None:
    event.model.drop_reason = str(event.kwargs["reason"]).strip()


ACTION_LIFECYCLE = Lifecycle(
    "action",
    STATES,
    [
        {
            "trigger": "assess",
            "source": [PROPOSED, ASSESSED],
            "dest": ASSESSED,
            "conditions": [
                require(_known_outcome, "assess needs --outcome accepted or under_consideration")
            ],
            "after": [_record_assessment],
        },
        {
            "trigger": "start",
            "source": ASSESSED,
            "dest": IN_PROGRESS,
            "conditions": [require(_accepted, "only an action assessed as accepted can start")],
        },
        {"trigger": "complete", "source": IN_PROGRESS, "dest": DONE},
        {"trigger": "reopen", "source": DONE, "dest": IN_PROGRESS},
        {
            "trigger": "drop",
            "source": [PROPOSED, ASSESSED, IN_PROGRESS],
            "dest": DROPPED,
            "conditions": [require(_has_reason, "drop needs a reason")],
            "after": [_record_reason],
        },
        {
            "trigger": "reject",
            "source": [PROPOSED, ASSESSED],
            "dest": DROPPED,
            "conditions": [require(_has_reason, "reject needs a reason")],
            "after": [_record_reason],
        },
    ],
)


class Action:
    """An agreed follow-up action. Overdue is computed from the clock, never stored."""

    def __init__(
        self,
        *,
        text: str,
        objective_id: int | None = None,
        meeting_id: int | None = None,
        position: int = 0,
        state: str = PROPOSED,
        timeframe_raw: str = "",
        **fields: Any,
    ) -> None:
        self.text = text
        self.objective_id = objective_id
        self.meeting_id = meeting_id
        self.position = position
        self.state = state
        self.timeframe_raw = timeframe_raw
        self.assessment: str | None = None
        self.drop_reason: str | None = None
        self.last_note: str | None = None
        self.due_on: date | None = None
        self.occurrence = 1
        for name, value in fields.items():
            setattr(self, name, value)

    def fire(self, trigger: str, **kwargs: Any) -> str:
        return ACTION_LIFECYCLE.fire(self, trigger, **kwargs)

    def is_overdue(self, today: date) -> bool:
        return is_overdue(self.state, self.due_on, today)


def is_overdue(state: str, due: date | None, today: date | datetime) -> bool:
    """The due date has passed and the action is not finished."""
    day = today.date() if isinstance(today, datetime) else today
    return due is not None and due < day and state not in TERMINAL


class Responsibility:
    """A body responsible for an action, as `lead` or `support`."""

    def __init__(self, *, body: Any, role: str, position: int = 0) -> None:
        self.body = body
        self.role = role
        self.position = position
