"""A report imported again: what differs from what was imported, and, when asked, applied.

Rows are matched to the stored actions by their text, in order (a changed row between two
unchanged ones is the same action, changed). An action that has not started (proposed or
assessed) takes the change, with an entry in the decision record; one that has started keeps
its state and gets the change as a note, also recorded. New rows become new actions; an action
whose row is gone is listed and left as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any

from accord.reports.bodies import DEFAULT_CITIES
from accord.reports.parse import ActionRow, ParsedReport
from accord.services.context import Context
from accord.services.report_reading import ActionReader, Bodies
from statemachines.actions import ASSESSED, PROPOSED, Action, Responsibility
from statemachines.records import Meeting, Objective
from storage.uow import UnitOfWork

NOT_STARTED = frozenset({PROPOSED, ASSESSED})


@dataclass(frozen=True)
class _Row:
    objective: int
    title: str
    row: ActionRow


@dataclass(frozen=True)
class Correction:
    """Where a corrected report differs, and how it was (or would be) applied."""

    uow: UnitOfWork
    ctx: Context
    meeting: Meeting
    reader: ActionReader
    source: str
    apply: bool


@dataclass(frozen=True)
class Difference:
    """One difference of a corrected report: `changes` maps a field (text, timeframe,
    responsible) to its [before, after]; `applied` says what `--update` did, if it ran."""

    kind: str  # changed, added or removed
    action_id: int | None
    position: int | None
    state: str | None
    changes: dict[str, list[Any]]
    applied: str | None


def compare_and_update(
    ctx: Context,
    uow: UnitOfWork,
    meeting: Meeting,
    parsed: ParsedReport,
    source: str,
    *,
    apply: bool,
) -> list[Difference]:
    """The differences between `parsed` and the meeting's stored actions, applied if `apply`
    (in `uow`; the caller commits)."""
    cities = {p.city for p in parsed.participants if p.city}
    reader = ActionReader(meeting, Bodies(uow), {*DEFAULT_CITIES, *cities})
    stored = [a for a in uow.actions.for_meeting(meeting) if a.occurrence == 1]
    reader.position = max((a.position for a in stored), default=0)
    rows = [_Row(o.number, o.title, row) for o in parsed.objectives for row in o.actions]
    work = Correction(uow, ctx, meeting, reader, source, apply)
    differences: list[Difference] = []
    matcher = SequenceMatcher(None, [a.text for a in stored], [r.row.text for r in rows], False)
    for _, first, last, new_first, new_last in matcher.get_opcodes():
        pairs = list(zip(range(first, last), range(new_first, new_last), strict=False))
        for old, new in pairs:
            differences += _changed(work, stored[old], rows[new].row)
        differences += [_removed(stored[old]) for old in range(first + len(pairs), last)]
        differences += [_added(work, rows[new]) for new in range(new_first + len(pairs), new_last)]
    if apply and differences:
        meeting.source_name = source
        ctx.record(
            uow,
            entity_type="meeting",
            entity_id=meeting.id,
            action="update",
            at=ctx.now(),
            payload={"source_name": source, "differences": len(differences)},
        )
    return differences


def _bodies(pairs: list[tuple[Any, str]]) -> list[str]:
    return [f"{body.name} ({role})" for body, role in pairs]


def _changed(work: Correction, action: Action, row: ActionRow) -> list[Difference]:
    before = {
        "text": action.text,
        "timeframe": action.timeframe_raw,
        "responsible": [f"{r.body.name} ({r.role})" for r in action.responsibilities],
    }
    responsible = work.reader.responsible(row)
    after = {"text": row.text, "timeframe": row.timeframe, "responsible": _bodies(responsible)}
    changes = {name: [before[name], after[name]] for name in before if before[name] != after[name]}
    if not changes:
        return []
    started = action.state not in NOT_STARTED
    if work.apply:
        if started:
            _note(work, action, changes)
        else:
            _correct(work, action, row, responsible, changes)
    applied = ("noted" if started else "updated") if work.apply else None
    return [_difference("changed", action.id, action.position, changes, applied, action.state)]


def _correct(
    work: Correction,
    action: Action,
    row: ActionRow,
    responsible: list[tuple[Any, str]],
    changes: dict[str, Any],
) -> None:
    action.text = row.text
    for name, value in work.reader.timeframe_fields(row).items():
        setattr(action, name, value)
    action.responsibilities = [
        Responsibility(body=body, role=role, position=position)
        for position, (body, role) in enumerate(responsible, 1)
    ]
    work.ctx.record(
        work.uow,
        entity_type="action",
        entity_id=action.id,
        action="correct",
        at=work.ctx.now(),
        payload={"source_name": work.source, "changes": changes},
    )


def _note(work: Correction, action: Action, changes: dict[str, Any]) -> None:
    """A started action keeps its state; the correction is its latest note."""
    said = "; ".join(
        f"{name} now '{_text(new)}' (was '{_text(old)}')" for name, (old, new) in changes.items()
    )
    action.last_note = f"The corrected report {work.source} says: {said}"
    work.ctx.record(
        work.uow,
        entity_type="action",
        entity_id=action.id,
        action="note",
        at=work.ctx.now(),
        payload={"source_name": work.source, "changes": changes, "note": action.last_note},
    )


def _text(value: Any) -> str:
    return ", ".join(value) if isinstance(value, list) else str(value)


def _removed(action: Action) -> Difference:
    changes = {"text": [action.text, None]}
    return _difference("removed", action.id, action.position, changes, None, action.state)


def _added(work: Correction, row: _Row) -> Difference:
    changes = {"text": [None, row.row.text], "timeframe": [None, row.row.timeframe]}
    if not work.apply:
        return _difference("added", None, None, changes, None, None)
    objective = _objective(work, row)
    new = work.reader.action(objective, row.row)
    work.uow.flush()  # ids for the bodies and the objective
    work.uow.actions.insert_many([new])
    position = new.fields["position"]
    return _difference("added", None, position, changes, "added", new.fields["state"])


def _objective(work: Correction, row: _Row) -> Objective:
    known = {o.number: o for o in work.uow.meetings.objectives(work.meeting)}
    if row.objective not in known:
        known[row.objective] = Objective(
            meeting_id=work.meeting.id, number=row.objective, title=row.title
        )
        work.uow.meetings.add(known[row.objective])
        work.uow.flush()
    return known[row.objective]


def _difference(
    kind: str,
    action_id: int | None,
    position: int | None,
    changes: dict[str, Any],
    applied: str | None,
    state: str | None,
) -> Difference:
    return Difference(kind, action_id, position, state, changes, applied)
