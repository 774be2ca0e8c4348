"""Reads of the console's actions board, in a few statements whatever the number of actions: the
matching actions counted by state (and overdue), one page of them by objective, the first few of
each state, and the meetings and objectives the filters offer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, Select, and_, case, func, select

from statemachines.actions import TERMINAL
from storage.tables import action_bodies, actions, bodies, meetings, objectives


@dataclass(frozen=True)
class BoardFilter:
    """Which actions the board shows; `None` (or False) leaves a filter out."""

    state: str | None = None
    overdue_on: date | None = None  # only the actions overdue on that day
    body: str | None = None  # a body's canonical name, any case
    meeting_id: int | None = None
    objective: int | None = None  # an objective's number


@dataclass(frozen=True)
class BoardRow:
    id: int
    objective: int
    objective_title: str
    text: str
    state: str
    due_on: date | None
    timeframe: str
    bodies: str  # the responsible bodies' names, joined by ", "


@dataclass(frozen=True)
class StateCount:
    state: str
    actions: int
    overdue: int  # of those, how many are overdue on the day counted


@dataclass(frozen=True)
class MeetingChoice:
    id: int
    body: str
    starts_on: date


@dataclass(frozen=True)
class ObjectiveChoice:
    number: int
    title: str


def _filtered(query: Select[Any], wanted: BoardFilter) -> Select[Any]:
    if wanted.state:
        query = query.where(actions.c.state == wanted.state)
    if wanted.meeting_id:
        query = query.where(actions.c.meeting_id == wanted.meeting_id)
    if wanted.objective is not None:
        numbered = select(objectives.c.id).where(objectives.c.number == wanted.objective)
        query = query.where(actions.c.objective_id.in_(numbered))
    if wanted.overdue_on:
        query = query.where(_late(wanted.overdue_on))
    if wanted.body:
        responsible = (
            select(action_bodies.c.action_id)
            .join(bodies, bodies.c.id == action_bodies.c.body_id)
            .where(func.lower(bodies.c.name) == wanted.body.lower())
        )
        query = query.where(actions.c.id.in_(responsible))
    return query


def _late(on: date) -> Any:
    return and_(actions.c.due_on < on, actions.c.state.not_in(TERMINAL))


def board_counts(connection: Connection, wanted: BoardFilter, on: date) -> list[StateCount]:
    """The matching actions by state, each with how many are overdue on `on`: one GROUP BY."""
    query = _filtered(
        select(
            actions.c.state,
            func.count(),
            func.coalesce(func.sum(case((_late(on), 1), else_=0)), 0),
        ).group_by(actions.c.state),
        wanted,
    )
    return [StateCount(state, int(n), int(late)) for state, n, late in connection.execute(query)]


def _shown(connection: Connection, chosen: Select[Any], order: Sequence[Any]) -> list[BoardRow]:
    """The actions whose ids `chosen` selects, with their objective and bodies, in `order`: three
    statements whatever the number (the ids, their rows, their bodies)."""
    ids = list(connection.scalars(chosen))
    if not ids:
        return []
    named: dict[int, list[str]] = {}
    responsible = (
        select(action_bodies.c.action_id, bodies.c.name)
        .join(bodies, bodies.c.id == action_bodies.c.body_id)
        .where(action_bodies.c.action_id.in_(ids))
        .order_by(action_bodies.c.action_id, action_bodies.c.position)
    )
    for action_id, name in connection.execute(responsible):
        named.setdefault(action_id, []).append(name)
    query = (
        select(
            actions.c.id,
            objectives.c.number,
            objectives.c.title,
            actions.c.text,
            actions.c.state,
            actions.c.due_on,
            actions.c.timeframe_raw,
        )
        .join(objectives, objectives.c.id == actions.c.objective_id)
        .where(actions.c.id.in_(ids))
        .order_by(*order)
    )
    return [BoardRow(*row, ", ".join(named.get(row.id, []))) for row in connection.execute(query)]


def board_page(
    connection: Connection, wanted: BoardFilter, *, offset: int, limit: int
) -> list[BoardRow]:
    """One page of the matching actions, by objective, meeting and position."""
    order = (objectives.c.number, actions.c.meeting_id, actions.c.position, actions.c.id)
    chosen = (
        _filtered(select(actions.c.id), wanted)
        .join(objectives, objectives.c.id == actions.c.objective_id)
        .order_by(*order)
        .offset(offset)
        .limit(limit)
    )
    return _shown(connection, chosen, order)


def board_by_state(connection: Connection, wanted: BoardFilter, each: int) -> list[BoardRow]:
    """The first `each` matching actions of every state, soonest due first (undated last): a
    window numbers the rows of each state."""
    soonest = (actions.c.due_on.is_(None), actions.c.due_on, actions.c.id)
    ranked = _filtered(
        select(
            actions.c.id,
            func.row_number().over(partition_by=actions.c.state, order_by=soonest).label("place"),
        ),
        wanted,
    ).subquery()
    chosen = select(ranked.c.id).where(ranked.c.place <= each)
    return _shown(connection, chosen, (actions.c.state, *soonest))


def meeting_choices(connection: Connection) -> list[MeetingChoice]:
    """Every meeting, latest first (a network holds a few a year)."""
    query = select(meetings.c.id, meetings.c.body, meetings.c.starts_on).order_by(
        meetings.c.starts_on.desc(), meetings.c.id.desc()
    )
    return [MeetingChoice(*row) for row in connection.execute(query)]


def objective_choices(connection: Connection) -> list[ObjectiveChoice]:
    """The objective numbers the meetings use, each with the title it has in the latest one."""
    latest = (
        select(objectives.c.number, func.max(objectives.c.meeting_id).label("meeting_id"))
        .group_by(objectives.c.number)
        .subquery()
    )
    query = (
        select(objectives.c.number, objectives.c.title)
        .join(
            latest,
            and_(
                latest.c.number == objectives.c.number,
                latest.c.meeting_id == objectives.c.meeting_id,
            ),
        )
        .order_by(objectives.c.number)
    )
    return [ObjectiveChoice(*row) for row in connection.execute(query)]
