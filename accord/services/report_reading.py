"""A parsed report's rows as things to store: bodies found or created, people, new actions with
their timeframe read and, from a tracker's extra columns, their state and first note."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from accord.reports.bodies import DEFAULT_ALIASES, split_responsible
from accord.reports.parse import ActionRow, Participant
from accord.reports.status import state_of
from statemachines.actions import DONE, DROPPED, IN_PROGRESS, PROPOSED
from statemachines.errors import InvalidInput
from statemachines.records import Body, Meeting, Objective, Person
from statemachines.timeframes import Milestone, Timeframe, read_timeframe
from storage.repositories import NewAction
from storage.uow import UnitOfWork

MAX_NAME = 300  # bodies.name, body_aliases.alias


class Bodies:
    """The known bodies and their aliases, loaded once; new bodies are created on first use."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow
        self._by_key = {key(body.name): body for body in uow.meetings.bodies()}
        self._stored_aliases = uow.meetings.aliases()
        self.known: dict[str, str] = {**DEFAULT_ALIASES, **self._stored_aliases}
        self.created: list[str] = []

    def named(self, name: str) -> Body:
        canonical = self.known.get(key(name), name)
        body = self._by_key.get(key(canonical))
        if body is None:
            if len(canonical) > MAX_NAME:
                raise InvalidInput(f"a responsible body's name is over {MAX_NAME} characters")
            body = Body(name=canonical, contact_emails=[])
            self._uow.meetings.add(body)
            self._by_key[key(canonical)] = body
            self.known[key(canonical)] = canonical
            self.created.append(canonical)
        return body

    def save_aliases(self, aliases: Mapping[str, str]) -> None:
        """Store the aliases not stored yet (not a name that is only its body's own name)."""
        missing = {
            alias: self.named(name)
            for alias, name in aliases.items()
            if key(alias) not in self._stored_aliases and key(alias) != key(name)
        }
        self._uow.meetings.add_aliases(missing)
        self._stored_aliases.update({key(alias): body.name for alias, body in missing.items()})

    def mentioned(self, texts: Iterable[str | None]) -> Body | None:
        """The first known body named in one of `texts`, the longest name first."""
        names = sorted(self.known, key=len, reverse=True)
        for text in texts:
            for name in names:
                if text and re.search(rf"(?<!\w){re.escape(name)}(?!\w)", key(text)):
                    return self.named(self.known[name])
        return None


def key(name: str) -> str:
    return " ".join(name.split()).casefold()


def people(meeting: Meeting, participants: Iterable[Participant], bodies: Bodies) -> list[Person]:
    """People of the report, each with the body they belong to: their city, else a known body
    their organisation, role or section names. A name listed twice is one person."""
    found: dict[str, Person] = {}
    for p in participants:
        named = [p.organisation, p.role, p.section]
        body = bodies.named(p.city) if p.city else bodies.mentioned(named)
        found.setdefault(
            p.name,
            Person(
                meeting_id=meeting.id,
                name=p.name,
                role=p.role,
                organisation=p.organisation,
                city=p.city,
                country=p.country,
                section=p.section or None,
                body_id=body.id if body else None,
            ),
        )
    return list(found.values())


class ActionReader:
    """Turns the report's action rows into new actions: timeframe read, bodies resolved.

    A cell met again is not read again: reports repeat their timeframes and bodies.
    """

    def __init__(self, meeting: Meeting, bodies: Bodies, cities: set[str]) -> None:
        self.meeting = meeting
        self.bodies = bodies
        self.cities = cities
        self.position = 0
        self._timeframes: dict[str, Timeframe] = {}
        self._responsible: dict[str, list[tuple[Body, str]]] = {}

    def action(self, objective: Objective, row: ActionRow) -> NewAction:
        self.position += 1
        fields = {
            "meeting_id": self.meeting.id,
            "objective_id": objective.id,
            "position": self.position,
            "text": row.text,
            **self.timeframe_fields(row),
            **tracked(row),
            "occurrence": 1,
        }
        return NewAction(fields, self.responsible(row))

    def timeframe_fields(self, row: ActionRow) -> dict[str, Any]:
        """The columns a row's timeframe, and those of its milestone rows, fill."""
        timeframe = self.timeframe(row.timeframe)
        extra = [m for when, _ in row.milestones for m in self.milestones(when)]
        return {
            "timeframe_raw": timeframe.raw,
            "start_on": timeframe.start,
            "end_on": timeframe.end,
            "due_on": timeframe.due,
            "precision": timeframe.precision,
            "tentative": timeframe.tentative,
            "ongoing": timeframe.ongoing,
            "recurrence": timeframe.recurrence,
            "named_meeting": timeframe.meeting,
            "unparsed": timeframe.unparsed,
            "milestones": [m.to_dict() for m in (*timeframe.milestones, *extra)],
        }

    def timeframe(self, raw: str) -> Timeframe:
        if raw not in self._timeframes:
            self._timeframes[raw] = read_timeframe(
                raw, reference=self.meeting.starts_on, next_meeting=self.meeting.next_meeting_on
            )
        return self._timeframes[raw]

    def milestones(self, raw: str) -> tuple[Milestone, ...]:
        """A milestone row's steps: those its phrase names, or the row itself as one step."""
        if not raw:
            return ()
        timeframe = self.timeframe(raw)
        return timeframe.milestones or (Milestone(timeframe.due, raw, timeframe.precision),)

    def responsible(self, row: ActionRow) -> list[tuple[Body, str]]:
        """Bodies of the action's cell, then of its milestone rows; a body named twice keeps its
        first role."""
        found: dict[str, tuple[Body, str]] = {}
        for cell in [row.responsible, *(who for _, who in row.milestones)]:
            for body, role in self._cell(cell):
                found.setdefault(body.name, (body, role))
        return list(found.values())

    def _cell(self, cell: str) -> list[tuple[Body, str]]:
        if cell not in self._responsible:
            split = split_responsible(cell, known=self.bodies.known, cities=self.cities)
            self._responsible[cell] = [(self.bodies.named(who.name), who.role) for who in split]
        return self._responsible[cell]


def tracked(row: ActionRow) -> dict[str, Any]:
    """State and first note from a tracker's columns: the state only where the status clearly
    says one; the raw status and the comments kept in the note."""
    state = state_of(row.status) if row.status else None
    lines = [f"{header}: {value}" for header, value in row.notes]
    if row.status:
        lines.append(f"Status in the report: {row.status}")
    return {
        "state": state or PROPOSED,
        "last_note": " · ".join(lines) or None,
        "assessment": "accepted" if state in (IN_PROGRESS, DONE) else None,
        "drop_reason": f"Status in the report: {row.status}" if state == DROPPED else None,
    }
