"""Meeting reports: import one (meeting, objectives, people, bodies, actions), render the follow-up.

An import is one unit of work and one entry in the decision record. A meeting is known by its
body and first day: importing the same report again finds it and changes nothing; a corrected
report's differences are shown, and applied with `update` (accord.services.report_updates).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

from accord.reports.bodies import DEFAULT_ALIASES, DEFAULT_CITIES
from accord.reports.followup import build_followup, write_followup
from accord.reports.parse import ParsedReport, parse_report
from accord.services.actions import ActionView, action_view, today
from accord.services.context import Context
from accord.services.report_reading import ActionReader, Bodies, people
from accord.services.report_updates import Difference, compare_and_update
from statemachines.errors import Conflict, InvalidInput, NotFound
from statemachines.records import Meeting, Objective
from storage.uow import UnitOfWork


@dataclass(frozen=True)
class ImportOptions:
    """How to import: preview only, the readable rows only, apply a corrected report, and the
    meeting dates a report does not give."""

    dry_run: bool = False
    partial: bool = False
    update: bool = False
    meeting_date: date | None = None
    next_meeting: date | None = None


@dataclass(frozen=True)
class MeetingView:
    """A meeting as results show it; dates as YYYY-MM-DD."""

    id: int
    body: str
    title: str
    name: str
    date: str
    ends_on: str
    place: str | None
    next_meeting: str | None
    source_name: str
    source_sha256: str


@dataclass(frozen=True)
class ObjectiveCount:
    number: int
    title: str
    actions: int


@dataclass(frozen=True)
class ParticipantView:
    name: str
    role: str | None
    organisation: str | None
    city: str | None
    country: str | None
    section: str | None
    body: str | None


@dataclass(frozen=True)
class ImportResult:
    meeting: MeetingView
    objectives: list[ObjectiveCount]
    actions: list[ActionView]
    participants: list[ParticipantView]
    already_imported: bool
    dry_run: bool = False
    skipped: list[str] = field(default_factory=list)  # rows not read as actions (--partial)
    differences: list[Difference] = field(default_factory=list)  # a corrected report's
    updated: bool = False


def import_report(ctx: Context, path: Path, options: ImportOptions | None = None) -> ImportResult:
    """Import the report at `path` (.txt, .md, .docx or .pdf); InvalidInput if it cannot be read,
    if it gives no meeting date and `options` none, or if a row is unreadable without `partial`."""
    options = options or ImportOptions()
    parsed = _with_options(parse_report(path), options, path.name)
    _check_lengths(parsed, path.name)
    _check_problems(parsed, options, path.name)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    try:
        return _import(ctx, parsed, path.name, digest, options)
    except Conflict:
        # Someone imported the same meeting (or created the same body) at the same moment: once
        # their import is committed, this one finds it.
        return _import(ctx, parsed, path.name, digest, options)


def _with_options(parsed: ParsedReport, options: ImportOptions, source: str) -> ParsedReport:
    """The meeting dates given on the command line win over the report's."""
    if options.meeting_date:
        parsed = replace(parsed, starts_on=options.meeting_date, ends_on=options.meeting_date)
    if parsed.starts_on is None:
        raise InvalidInput(
            f"no meeting date found in {source}: give it with --meeting-date YYYY-MM-DD"
        )
    if options.next_meeting:
        if options.next_meeting < parsed.starts_on:
            raise InvalidInput("--next-meeting is before the meeting")
        parsed = replace(parsed, next_meeting_on=options.next_meeting)
    return parsed


def _check_problems(parsed: ParsedReport, options: ImportOptions, source: str) -> None:
    """Rows that are not actions stop the import unless `partial` says to import the rest."""
    if parsed.problems and not options.partial:
        lines = [
            f"{len(parsed.problems)} row(s) of {source} could not be read as actions; "
            "nothing imported (--partial imports the rest):"
        ]
        raise InvalidInput("\n".join([*lines, *map(str, parsed.problems)]))


def _import(
    ctx: Context, parsed: ParsedReport, source: str, digest: str, options: ImportOptions
) -> ImportResult:
    with ctx.uow() as uow, uow.first_writer_wins():
        skipped = [str(problem) for problem in parsed.problems]
        meeting = uow.meetings.find(parsed.body, parsed.starts_on)
        if meeting is not None:
            differences = compare_and_update(
                ctx, uow, meeting, parsed, source, apply=options.update
            )
            result = _result(uow, meeting, today(ctx), already_imported=True)
            if options.update and differences and not options.dry_run:
                uow.commit()
            updated = options.update and bool(differences) and not options.dry_run
            return replace(
                result,
                dry_run=options.dry_run,
                skipped=skipped,
                differences=differences,
                updated=updated,
            )
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
        if not options.dry_run:
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
                    "skipped_rows": skipped,
                },
                text_sha256=digest,
            )
        result = _result(uow, meeting, today(ctx), already_imported=False)
        if not options.dry_run:
            uow.commit()
        return replace(result, dry_run=options.dry_run, skipped=skipped)


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
    bodies = Bodies(uow)
    their_cities = {p.city for p in parsed.participants if p.city}
    for name in {*DEFAULT_ALIASES.values(), *their_cities}:
        bodies.named(name)
    uow.meetings.add(meeting)
    uow.flush()  # ids for the meeting and the bodies people belong to
    bodies.save_aliases(DEFAULT_ALIASES)
    found = people(meeting, parsed.participants, bodies)
    objectives = [
        Objective(meeting_id=meeting.id, number=o.number, title=o.title) for o in parsed.objectives
    ]
    for row in [*found, *objectives]:
        uow.meetings.add(row)
    uow.flush()
    reader = ActionReader(meeting, bodies, {*DEFAULT_CITIES, *their_cities})
    actions = [
        reader.action(objective, row)
        for objective, parsed_objective in zip(objectives, parsed.objectives, strict=True)
        for row in parsed_objective.actions
    ]
    uow.flush()  # ids for the bodies the actions named first
    uow.actions.insert_many(actions)
    return _Stored(len(found), len(actions), bodies.created)


def _result(uow: UnitOfWork, meeting: Meeting, on: date, *, already_imported: bool) -> ImportResult:
    actions = [action_view(action, on) for action in uow.actions.for_meeting(meeting)]
    body_names = {body.id: body.name for body in uow.meetings.bodies()}
    return ImportResult(
        meeting=meeting_view(meeting),
        objectives=[
            ObjectiveCount(
                objective.number,
                objective.title,
                sum(a.objective.number == objective.number for a in actions),
            )
            for objective in uow.meetings.objectives(meeting)
        ],
        actions=actions,
        participants=[
            ParticipantView(
                name=person.name,
                role=person.role,
                organisation=person.organisation,
                city=person.city,
                country=person.country,
                section=person.section,
                body=body_names.get(person.body_id),
            )
            for person in uow.meetings.people(meeting)
        ],
        already_imported=already_imported,
    )


def meeting_view(meeting: Meeting) -> MeetingView:
    return MeetingView(
        id=meeting.id,
        body=meeting.body,
        title=meeting.title,
        name=meeting.name,
        date=meeting.starts_on.isoformat(),
        ends_on=meeting.ends_on.isoformat(),
        place=meeting.place,
        next_meeting=meeting.next_meeting_on.isoformat() if meeting.next_meeting_on else None,
        source_name=meeting.source_name,
        source_sha256=meeting.source_sha256,
    )


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
        actions = [action_view(action, on) for action in uow.actions.for_meeting(meeting)]
        report = build_followup(meeting_view(meeting), actions, on)
    return write_followup(report, fmt, output)
