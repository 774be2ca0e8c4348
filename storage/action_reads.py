"""Reads of the console's actions board, each one statement whatever the number of actions: the
matching actions counted by state (and overdue), one page of them by objective, the first few of
each state, and the meetings and objectives the filters offer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, Select, and_, case, func, literal, select
from sqlalchemy.dialects.postgresql import aggregate_order_by

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
        query = query.where(objectives.c.number == wanted.objective)
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
        )
        .join(objectives, objectives.c.id == actions.c.objective_id)
        .group_by(actions.c.state),
        wanted,
    )
    return [StateCount(state, int(n), int(late)) for state, n, late in connection.execute(query)]


def _rows(connection: Connection) -> Select[Any]:
    named = (
        select(action_bodies.c.action_id, bodies.c.name)
        .join(bodies, bodies.c.id == action_bodies.c.body_id)
        .subquery()
    )
    return (
        select(
            actions.c.id,
            objectives.c.number,
            objectives.c.title,
            actions.c.text,
            actions.c.state,
            actions.c.due_on,
            actions.c.timeframe_raw,
            func.coalesce(_joined(named.c.name, connection), ""),
        )
        .join(objectives, objectives.c.id == actions.c.objective_id)
        .outerjoin(named, named.c.action_id == actions.c.id)
        .group_by(actions.c.id, objectives.c.number, objectives.c.title)
    )


def board_page(
    connection: Connection, wanted: BoardFilter, *, offset: int, limit: int
) -> list[BoardRow]:
    """One page of the matching actions, by objective, meeting and position: one query."""
    query = _filtered(_rows(connection), wanted).order_by(
        objectives.c.number, actions.c.meeting_id, actions.c.position, actions.c.id
    )
    return [BoardRow(*row) for row in connection.execute(query.offset(offset).limit(limit))]


def board_by_state(connection: Connection, wanted: BoardFilter, each: int) -> list[BoardRow]:
    """The first `each` matching actions of every state, soonest due first (undated last), in
    one query: a window numbers the rows of each state."""
    ranked = _filtered(
        _rows(connection).add_columns(
            func.row_number()
            .over(
                partition_by=actions.c.state,
                order_by=(actions.c.due_on.is_(None), actions.c.due_on, actions.c.id),
            )
            .label("place")
        ),
        wanted,
    ).subquery()
    query = (
        select(*list(ranked.c)[:-1])
        .where(ranked.c.place <= each)
        .order_by(ranked.c.state, ranked.c.place)
    )
    return [BoardRow(*row) for row in connection.execute(query)]


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


def _joined(column: Any, connection: Connection) -> Any:
    """The values of `column` in a group, joined by ", " (SQLite and PostgreSQL spell it apart)."""
    if connection.dialect.name == "postgresql":
        return func.string_agg(column, aggregate_order_by(literal(", "), column))
    return func.group_concat(column, ", ")
