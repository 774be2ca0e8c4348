"""Meeting reports: import one (meeting, objectives, people, bodies, actions), render the follow-up.

An import is one unit of work and one entry in the decision record. A meeting is known by its
body and first day: importing the same report again finds it and changes nothing.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError

from accord.reports.bodies import DEFAULT_ALIASES, DEFAULT_CITIES, split_responsible
from accord.reports.followup import build_followup, write_followup
from accord.reports.parse import ActionRow, ParsedReport, Participant, parse_report
from accord.services.actions import action_dict, today
from accord.services.context import Context
from statemachines.actions import PROPOSED
from statemachines.errors import InvalidInput, NotFound
from statemachines.records import Body, Meeting, Objective, Person
from statemachines.timeframes import Milestone, Timeframe, read_timeframe
from storage.repositories import NewAction
from storage.uow import UnitOfWork

MAX_NAME = 300  # bodies.name, body_aliases.alias


@dataclass(frozen=True)
class ImportResult:
    meeting: dict[str, Any]
    objectives: list[dict[str, Any]]
    actions: list[dict[str, Any]]
    participants: list[dict[str, Any]]
    already_imported: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def import_report(ctx: Context, path: Path) -> ImportResult:
    """Import the report at `path` (.txt, .md or .docx); InvalidInput if it cannot be read."""
    parsed = parse_report(path)
    _check_lengths(parsed, path.name)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    try:
        return _import(ctx, parsed, path.name, digest)
    except IntegrityError:
        # Someone imported the same meeting (or created the same body) at the same moment, which
        # only PostgreSQL lets two writers try: once their import is committed, this one finds it.
        return _import(ctx, parsed, path.name, digest)


def _import(ctx: Context, parsed: ParsedReport, source: str, digest: str) -> ImportResult:
    with ctx.uow() as uow:
        meeting = uow.meetings.find(parsed.body, parsed.starts_on)
        if meeting is not None:
            return _result(uow, meeting, today(ctx), already_imported=True)
        meeting = Meeting(
            body=parsed.body,
            title=parsed.title,
            name=parsed.meeting_name,
            starts_on=parsed.starts_on,
            ends_on=parsed.ends_on,
            place=parsed.place,
            next_meeting_on=parsed.next_meeting_on,
            source_name=source,
            source_sha256=digest,
            imported_at=ctx.now(),
        )
        stored = _store(uow, meeting, parsed)
        ctx.record(
            uow,
            entity_type="meeting",
            entity_id=meeting.id,
            action="import",
            at=ctx.now(),
            payload={
                "title": meeting.title,
                "source_name": meeting.source_name,
                "objectives": len(parsed.objectives),
                "actions": stored.actions,
                "participants": stored.people,
                "new_bodies": stored.new_bodies,
            },
            text_sha256=digest,
        )
        result = _result(uow, meeting, today(ctx), already_imported=False)
        uow.commit()
        return result


def _check_lengths(parsed: ParsedReport, source: str) -> None:
    """What the columns hold: a longer text means the report was not read as meant."""
    limits = [
        ("the meeting's body", parsed.body, 300),
        ("the meeting's title", parsed.title, 500),
        ("the meeting's name", parsed.meeting_name, 200),
        ("the meeting's place", parsed.place, 300),
        ("the file name", source, 500),
    ]
    for p in parsed.participants:
        limits += [("a participant's name", p.name, 300), ("a city", p.city, 200)]
        limits += [("a country", p.country, 200)]
    for what, text, limit in limits:
        if len(text or "") > limit:
            raise InvalidInput(f"{what} in {source} is over {limit} characters: {text[:40]}…")


@dataclass(frozen=True)
class _Stored:
    people: int
    actions: int
    new_bodies: list[str]


def _store(uow: UnitOfWork, meeting: Meeting, parsed: ParsedReport) -> _Stored:
    bodies = _Bodies(uow)
    their_cities = {p.city for p in parsed.participants if p.city}
    for name in {*DEFAULT_ALIASES.values(), *their_cities}:
        bodies.named(name)
    uow.meetings.add(meeting)
    uow.flush()  # ids for the meeting and the bodies people belong to
    bodies.save_aliases(DEFAULT_ALIASES)
    people = _people(meeting, parsed.participants, bodies)
    objectives = [
        Objective(meeting_id=meeting.id, number=o.number, title=o.title) for o in parsed.objectives
    ]
    for row in [*people, *objectives]:
        uow.meetings.add(row)
    uow.flush()
    reader = _ActionReader(meeting, bodies, {*DEFAULT_CITIES, *their_cities})
    actions = [
        reader.action(objective, row)
        for objective, parsed_objective in zip(objectives, parsed.objectives, strict=True)
        for row in parsed_objective.actions
    ]
    uow.flush()  # ids for the bodies the actions named first
    uow.actions.insert_many(actions)
    return _Stored(len(people), len(actions), bodies.created)


class _Bodies:
    """The known bodies and their aliases, loaded once; new bodies are created on first use."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow
        self._by_key = {_key(body.name): body for body in uow.meetings.bodies()}
        self._stored_aliases = uow.meetings.aliases()
        self.known: dict[str, str] = {**DEFAULT_ALIASES, **self._stored_aliases}
        self.created: list[str] = []

    def named(self, name: str) -> Body:
        canonical = self.known.get(_key(name), name)
        body = self._by_key.get(_key(canonical))
        if body is None:
            if len(canonical) > MAX_NAME:
                raise InvalidInput(f"a responsible body's name is over {MAX_NAME} characters")
            body = Body(name=canonical, contact_emails=[])
            self._uow.meetings.add(body)
            self._by_key[_key(canonical)] = body
            self.known[_key(canonical)] = canonical
            self.created.append(canonical)
        return body

    def save_aliases(self, aliases: Mapping[str, str]) -> None:
        """Store the aliases not stored yet (not a name that is only its body's own name)."""
        missing = {
            alias: self.named(name)
            for alias, name in aliases.items()
            if _key(alias) not in self._stored_aliases and _key(alias) != _key(name)
        }
        self._uow.meetings.add_aliases(missing)
        self._stored_aliases.update({_key(alias): body.name for alias, body in missing.items()})

    def mentioned(self, texts: Iterable[str | None]) -> Body | None:
        """The first known body named in one of `texts`, the longest name first."""
        names = sorted(self.known, key=len, reverse=True)
        for text in texts:
            for name in names:
                if text and re.search(rf"(?<!\w){re.escape(name)}(?!\w)", _key(text)):
                    return self.named(self.known[name])
        return None


def _key(name: str) -> str:
    return " ".join(name.split()).casefold()


def _people(meeting: Meeting, participants: Iterable[Participant], bodies: _Bodies) -> list[Person]:
    """People of the report, each with the body they belong to: their city, else a known body
    their organisation, role or section names. A name listed twice is one person."""
    people: dict[str, Person] = {}
    for p in participants:
        named = [p.organisation, p.role, p.section]
        body = bodies.named(p.city) if p.city else bodies.mentioned(named)
        people.setdefault(
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
    return list(people.values())


class _ActionReader:
    """Turns the report's action rows into new actions: timeframe read, bodies resolved.

    A cell met again is not read again: reports repeat their timeframes and bodies.
    """

    def __init__(self, meeting: Meeting, bodies: _Bodies, cities: set[str]) -> None:
        self.meeting = meeting
        self.bodies = bodies
        self.cities = cities
        self.position = 0
        self._timeframes: dict[str, Timeframe] = {}
        self._responsible: dict[str, list[tuple[Body, str]]] = {}

    def action(self, objective: Objective, row: ActionRow) -> NewAction:
        self.position += 1
        timeframe = self.timeframe(row.timeframe)
        extra = [m for when, _ in row.milestones for m in self.milestones(when)]
        fields = {
            "meeting_id": self.meeting.id,
            "objective_id": objective.id,
            "position": self.position,
            "text": row.text,
            "state": PROPOSED,
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
            "occurrence": 1,
        }
        cells = [row.responsible, *(who for _, who in row.milestones)]
        return NewAction(fields, self.responsible(cells))

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

    def responsible(self, cells: Iterable[str]) -> list[tuple[Body, str]]:
        """Bodies of the action's cell, then of its milestone rows; a body named twice keeps its
        first role."""
        found: dict[str, tuple[Body, str]] = {}
        for cell in cells:
            for body, role in self._cell(cell):
                found.setdefault(body.name, (body, role))
        return list(found.values())

    def _cell(self, cell: str) -> list[tuple[Body, str]]:
        if cell not in self._responsible:
            split = split_responsible(cell, known=self.bodies.known, cities=self.cities)
            self._responsible[cell] = [(self.bodies.named(who.name), who.role) for who in split]
        return self._responsible[cell]


def _result(uow: UnitOfWork, meeting: Meeting, on: date, *, already_imported: bool) -> ImportResult:
    actions = [action_dict(action, on) for action in uow.actions.for_meeting(meeting)]
    body_names = {body.id: body.name for body in uow.meetings.bodies()}
    return ImportResult(
        meeting=meeting_dict(meeting),
        objectives=[
            {
                "number": objective.number,
                "title": objective.title,
                "actions": sum(a["objective"]["number"] == objective.number for a in actions),
            }
            for objective in uow.meetings.objectives(meeting)
        ],
        actions=actions,
        participants=[
            {
                "name": person.name,
                "role": person.role,
                "organisation": person.organisation,
                "city": person.city,
                "country": person.country,
                "section": person.section,
                "body": body_names.get(person.body_id),
            }
            for person in uow.meetings.people(meeting)
        ],
        already_imported=already_imported,
    )


def meeting_dict(meeting: Meeting) -> dict[str, Any]:
    return {
        "id": meeting.id,
        "body": meeting.body,
        "title": meeting.title,
        "name": meeting.name,
        "date": meeting.starts_on.isoformat(),
        "ends_on": meeting.ends_on.isoformat(),
        "place": meeting.place,
        "next_meeting": meeting.next_meeting_on.isoformat() if meeting.next_meeting_on else None,
        "source_name": meeting.source_name,
        "source_sha256": meeting.source_sha256,
    }


def followup_report(
    ctx: Context, *, fmt: str = "md", output: Path | None = None, meeting_id: int | None = None
) -> str | None:
    """The follow-up of one meeting's actions (the latest by default) as of today.

    Written to `output` when given (docx needs it), else returned as md or html text.
    """
    on = today(ctx)
    with ctx.uow(readonly=True) as uow:
        meeting = uow.meetings.get(meeting_id) if meeting_id else uow.meetings.latest()
        if meeting is None:
            raise NotFound("no meeting imported yet: run `accord report import FILE` first")
        actions = [action_dict(action, on) for action in uow.actions.for_meeting(meeting)]
        report = build_followup(meeting_dict(meeting), actions, on)
    return write_followup(report, fmt, output)
