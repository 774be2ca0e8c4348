"""Follow-up actions: list and show them, and move them through their lifecycle.

Every move is fired on the domain object (`Action.fire`, which checks the transition and its
guards) and written to the decision record in the same unit of work, so a refused move changes
nothing and a recorded one is never missing from the record.
"""

from __future__ import annotations

import calendar
import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from dateutil.relativedelta import relativedelta
from dateutil.rrule import rrulestr

from accord.services.context import Context
from statemachines.actions import PROPOSED, STATES, Action, Responsibility
from statemachines.errors import InvalidInput, NotFound
from storage.uow import UnitOfWork


def today(ctx: Context) -> date:
    """The secretariat's date now: the day against which due dates are compared."""
    return ctx.now().astimezone(ctx.settings.tz).date()


@dataclass(frozen=True)
class ObjectiveRef:
    number: int
    title: str


@dataclass(frozen=True)
class ResponsibleBody:
    name: str
    role: str


@dataclass(frozen=True)
class MilestoneView:
    due: str | None
    text: str
    precision: str | None


@dataclass(frozen=True)
class TimeframeView:
    """An action's timeframe as read; dates as YYYY-MM-DD or None."""

    raw: str
    start: str | None
    end: str | None
    due: str | None
    precision: str | None
    tentative: bool
    ongoing: bool
    recurrence: str | None
    meeting: str | None
    unparsed: bool
    milestones: list[MilestoneView]


@dataclass(frozen=True)
class ActionView:
    """The contract's action shape (docs/architecture.md, "JSON shapes")."""

    id: int
    meeting_id: int
    objective: ObjectiveRef
    position: int
    text: str
    state: str
    assessment: str | None
    overdue: bool
    responsible: list[ResponsibleBody]
    timeframe: TimeframeView
    last_note: str | None
    drop_reason: str | None
    occurrence: int
    previous_id: int | None


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    actor: str
    channel: str
    action: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class ActionShown(ActionView):
    """An action with its history from the decision record, oldest first."""

    history: list[HistoryEntry]


@dataclass(frozen=True)
class ActionMoved(ActionView):
    """A moved action; a completed recurring one names the occurrence it opened."""

    next_occurrence: ActionView | None


def action_view(action: Action, on: date) -> ActionView:
    """The action as callers and JSON see it; `overdue` as of `on`."""
    return ActionView(**_fields(action, on))


def _fields(action: Action, on: date) -> dict[str, Any]:
    return {
        "id": action.id,
        "meeting_id": action.meeting_id,
        "objective": ObjectiveRef(action.objective.number, action.objective.title),
        "position": action.position,
        "text": action.text,
        "state": action.state,
        "assessment": action.assessment,
        "overdue": action.is_overdue(on),
        "responsible": [ResponsibleBody(r.body.name, r.role) for r in action.responsibilities],
        "timeframe": timeframe_view(action),
        "last_note": action.last_note,
        "drop_reason": action.drop_reason,
        "occurrence": action.occurrence,
        "previous_id": action.previous_id,
    }


def timeframe_view(action: Action) -> TimeframeView:
    return TimeframeView(
        raw=action.timeframe_raw,
        start=_iso(action.start_on),
        end=_iso(action.end_on),
        due=_iso(action.due_on),
        precision=action.precision,
        tentative=bool(action.tentative),
        ongoing=bool(action.ongoing),
        recurrence=action.recurrence,
        meeting=action.named_meeting,
        unparsed=bool(action.unparsed),
        milestones=[
            MilestoneView(m.get("due"), m.get("text", ""), m.get("precision"))
            for m in action.milestones
        ],
    )


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def list_actions(
    ctx: Context,
    *,
    state: str | None = None,
    overdue: bool = False,
    body: str | None = None,
    objective: int | None = None,
    meeting_id: int | None = None,
) -> list[ActionView]:
    if state is not None and state not in STATES:
        raise InvalidInput(
            "unknown state '{state}' (known: {known})", state=state, known=", ".join(STATES)
        )
    on = today(ctx)
    with ctx.uow(readonly=True) as uow:
        found = uow.actions.list(
            state=state,
            body=body_name(uow, body) if body else None,
            objective=objective,
            meeting_id=meeting_id,
            overdue_on=on if overdue else None,
        )
        return [action_view(action, on) for action in found]


def body_name(uow: UnitOfWork, name: str) -> str:
    """The canonical name of a body given by name or alias ("ICC Spanish network" is RECI)."""
    canonical = uow.meetings.aliases().get(" ".join(name.split()).lower())
    if canonical is None:
        raise NotFound("no body named '{name}'", name=name)
    return canonical


def show_action(ctx: Context, action_id: int) -> ActionShown:
    """The action, with its history from the decision record."""
    with ctx.uow(readonly=True) as uow:
        action = uow.actions.get(action_id)
        history = [
            HistoryEntry(
                entry.recorded_at,
                entry.actor,
                entry.channel,
                entry.action,
                json.loads(entry.payload),
            )
            for entry in uow.audit.entries("action", action_id)
        ]
        return ActionShown(**_fields(action, today(ctx)), history=history)


def move_action(
    ctx: Context,
    action_id: int,
    trigger: str,
    *,
    note: str | None = None,
    outcome: str | None = None,
    reason: str | None = None,
) -> ActionMoved:
    """Fire `trigger` (assess, start, complete, reopen, drop, reject) and record it.

    IllegalTransition or GuardFailed leave the unit of work uncommitted: nothing changes.
    Completing a recurring action opens its next occurrence, recorded too.
    """
    note = " ".join((note or "").split()) or None
    given = {key: value for key, value in (("outcome", outcome), ("reason", reason)) if value}
    with ctx.uow() as uow:
        action = uow.actions.get(action_id)
        before = action.state
        after = action.fire(trigger, **given)
        if note:
            action.last_note = note
        payload: dict[str, Any] = {"from": before, "to": after, "note": note}
        if outcome:
            payload["outcome"] = action.assessment
        if reason:
            payload["reason"] = action.drop_reason
        _record(ctx, uow, action, trigger, payload)
        opened = None
        if trigger == "complete" and action.recurrence:
            opened = _open_next_occurrence(ctx, uow, action)
        uow.commit()
        on = today(ctx)
        following = action_view(opened, on) if opened else None
        return ActionMoved(**_fields(action, on), next_occurrence=following)


def _record(
    ctx: Context, uow: UnitOfWork, action: Action, trigger: str, payload: dict[str, Any]
) -> None:
    ctx.record(
        uow,
        entity_type="action",
        entity_id=action.id,
        action=trigger,
        at=ctx.now(),
        payload=payload,
    )


def _open_next_occurrence(ctx: Context, uow: UnitOfWork, done: Action) -> Action | None:
    """The next occurrence of a recurring action: its window moved on by one RRULE step.

    Only once: an action reopened and completed again does not open a second one.
    """
    if uow.actions.next_occurrence(done) is not None:
        return None
    step = _step(done.recurrence, done.start_on) if done.start_on else relativedelta()
    following = Action(
        text=done.text,
        meeting_id=done.meeting_id,
        objective_id=done.objective_id,
        objective=done.objective,
        position=done.position,
        state=PROPOSED,
        timeframe_raw=done.timeframe_raw,
        start_on=_shift(done.start_on, step),
        end_on=_shift(done.end_on, step),
        due_on=_shift(done.due_on, step),
        precision=done.precision,
        tentative=done.tentative,
        ongoing=done.ongoing,
        recurrence=done.recurrence,
        named_meeting=None,
        unparsed=done.unparsed,
        milestones=[
            {**milestone, "due": _iso(_shift(_day(milestone["due"]), step))}
            for milestone in done.milestones
        ],
        occurrence=done.occurrence + 1,
        previous_id=done.id,
    )
    following.responsibilities = [
        Responsibility(body=r.body, role=r.role, position=r.position) for r in done.responsibilities
    ]
    uow.actions.add(following)
    uow.flush()
    payload = {
        "from": None,
        "to": PROPOSED,
        "previous_id": done.id,
        "occurrence": following.occurrence,
        "start": _iso(following.start_on),
        "due": _iso(following.due_on),
    }
    _record(ctx, uow, following, "open_occurrence", payload)
    return following


def _step(recurrence: str, start: date) -> relativedelta:
    """How far one repetition of the RRULE moves a window that starts on `start`."""
    first = datetime.combine(start, datetime.min.time())
    try:
        following = rrulestr(recurrence, dtstart=first).after(first)
    except (ValueError, TypeError):
        raise InvalidInput(f"cannot repeat the action: bad rule '{recurrence}'") from None
    if following is None:
        raise InvalidInput(f"the recurrence rule '{recurrence}' has no further occurrence")
    return relativedelta(following, first)


def _shift(day: date | None, step: relativedelta) -> date | None:
    """`day` moved by `step`; the last day of a month stays the last day of its month."""
    if day is None:
        return None
    moved: date = day + step
    if (day + timedelta(days=1)).day == 1:
        moved = moved.replace(day=calendar.monthrange(moved.year, moved.month)[1])
    return moved


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None
