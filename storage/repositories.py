"""Repositories: how the domain's objects are found and added, with no SQL leaking out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import case, delete, func, insert, select
from sqlalchemy.orm import Session

from statemachines.actions import TERMINAL, Action, Responsibility
from statemachines.errors import NotFound
from statemachines.records import Body, Group, Meeting, Member, Objective, Person
from statemachines.rounds import OPEN, Round
from statemachines.statements import Statement
from storage import tables as t
from storage.bulk import among, insert_rows, update_rows


class _Repository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, obj: object) -> None:
        self.session.add(obj)


@dataclass(frozen=True)
class MemberFields:
    """A member's columns that an import sets."""

    name: str
    organisation: str | None
    language: str
    timezone: str


@dataclass(frozen=True)
class MemberSnapshot:
    """What an import compares a row of its file with: the member's id, fields and groups."""

    id: int
    fields: MemberFields
    groups: frozenset[str]


class MemberRepository(_Repository):
    def by_email(self, email: str) -> Member | None:
        return self.session.scalars(
            select(Member).where(t.members.c.email == email.lower())
        ).first()

    def snapshots(self, emails: Sequence[str]) -> dict[str, MemberSnapshot]:
        """The members of these emails as an import compares them, in one query and without
        loading them (10,000 unchanged members were most of a re-import's time as objects)."""
        query = (
            select(
                t.members.c.email,
                t.members.c.id,
                t.members.c.name,
                t.members.c.organisation,
                t.members.c.language,
                t.members.c.timezone,
                t.groups.c.name,
            )
            .outerjoin(t.memberships, t.memberships.c.member_id == t.members.c.id)
            .outerjoin(t.groups, t.groups.c.id == t.memberships.c.group_id)
            .where(among(self.session, t.members.c.email, [e.lower() for e in emails]))
        )
        found: dict[str, tuple[int, MemberFields]] = {}
        groups: dict[str, set[str]] = {}
        for email, member_id, *fields, group in self.session.execute(query):
            found[email] = (member_id, MemberFields(*fields))
            groups.setdefault(email, set()).update([group] if group is not None else [])
        return {
            email: MemberSnapshot(member_id, fields, frozenset(groups[email]))
            for email, (member_id, fields) in found.items()
        }

    def add_new(self, values: Sequence[Mapping[str, Any]]) -> dict[str, int]:
        """New members (their columns, the same for each) in one statement, in their order; their
        ids by email."""
        returned = insert_rows(self.session, t.members, values, (t.members.c.id, t.members.c.email))
        return {email: member_id for member_id, email in returned}

    def set_fields(self, values: Sequence[Mapping[str, Any]]) -> None:
        """New values of members' columns, each with the member's `id`, in one statement."""
        update_rows(self.session, t.members, "id", values)

    def add_memberships(self, links: Sequence[Mapping[str, int]]) -> None:
        """Rows of `member_id` and `group_id`, in one statement."""
        insert_rows(self.session, t.memberships, links)

    def leave_groups(self, member_ids: Sequence[int]) -> None:
        """These members are in no group any more (before `add_memberships` gives them theirs)."""
        if member_ids:
            where = among(self.session, t.memberships.c.member_id, member_ids)
            self.session.execute(delete(t.memberships).where(where))

    def list(self, group: str | None = None) -> list[Member]:
        query = select(Member).order_by(t.members.c.name, t.members.c.email)
        if group:
            query = query.join(t.memberships).join(t.groups).where(t.groups.c.name == group)
        return list(self.session.scalars(query))

    def get(self, member_id: int) -> Member:
        member = self.session.get(Member, member_id)
        if member is None:
            raise NotFound(f"no member with id {member_id}")
        return member


class GroupRepository(_Repository):
    def by_id(self, group_id: int) -> Group | None:
        return self.session.get(Group, group_id)

    def by_name(self, name: str) -> Group | None:
        return self.session.scalars(select(Group).where(t.groups.c.name == name)).first()

    def named(self, name: str) -> Group:
        group = self.by_name(name)
        if group is None:
            known = ", ".join(g.name for g in self.list()) or "none"
            raise NotFound(f"no group named '{name}' (known: {known})")
        return group

    def get_or_create(self, name: str) -> Group:
        group = self.by_name(name)
        if group is None:
            group = Group(name=name, accepts_political=False, refused_kinds=[], auto_publish=False)
            self.session.add(group)
        return group

    def list(self) -> list[Group]:
        return list(self.session.scalars(select(Group).order_by(t.groups.c.name)))

    def member_count(self, group: Group) -> int:
        query = (
            select(func.count())
            .select_from(t.memberships)
            .where(t.memberships.c.group_id == group.id)
        )
        return int(self.session.scalar(query) or 0)


class MeetingRepository(_Repository):
    def get(self, meeting_id: int) -> Meeting:
        meeting = self.session.get(Meeting, meeting_id)
        if meeting is None:
            raise NotFound(f"no meeting with id {meeting_id}")
        return meeting

    def find(self, body: str, starts_on: date) -> Meeting | None:
        query = select(Meeting).where(
            t.meetings.c.body == body, t.meetings.c.starts_on == starts_on
        )
        return self.session.scalars(query).first()

    def list(self) -> list[Meeting]:
        return list(self.session.scalars(select(Meeting).order_by(t.meetings.c.starts_on)))

    def latest(self) -> Meeting | None:
        query = select(Meeting).order_by(t.meetings.c.starts_on.desc(), t.meetings.c.id.desc())
        return self.session.scalars(query).first()

    def objectives(self, meeting: Meeting) -> list[Objective]:
        query = (
            select(Objective)
            .where(t.objectives.c.meeting_id == meeting.id)
            .order_by(t.objectives.c.number)
        )
        return list(self.session.scalars(query))

    def people(self, meeting: Meeting) -> list[Person]:
        query = select(Person).where(t.people.c.meeting_id == meeting.id).order_by(t.people.c.id)
        return list(self.session.scalars(query))

    def body(self, name: str) -> Body | None:
        return self.session.scalars(select(Body).where(t.bodies.c.name == name)).first()

    def bodies(self) -> list[Body]:
        return list(self.session.scalars(select(Body).order_by(t.bodies.c.name)))

    def aliases(self) -> dict[str, str]:
        """Known names and aliases, lower-cased, to canonical body names."""
        rows = self.session.execute(select(t.body_aliases.c.alias, t.bodies.c.name).join(t.bodies))
        known = {name.lower(): name for (name,) in self.session.execute(select(t.bodies.c.name))}
        known.update({alias.lower(): name for alias, name in rows})
        return known

    def add_aliases(self, aliases: Mapping[str, Body]) -> None:
        """Record each alias (lower-cased) of a body that already has its id."""
        rows = [{"alias": alias.lower(), "body_id": body.id} for alias, body in aliases.items()]
        if rows:
            self.session.execute(t.body_aliases.insert(), rows)

    def body_or_new(self, name: str) -> Body:
        body = self.body(name)
        if body is None:
            body = Body(name=name, contact_emails=[])
            self.session.add(body)
        return body


@dataclass(frozen=True)
class NewAction:
    """An action to insert: its column values and its bodies with their roles, in order."""

    fields: Mapping[str, Any]
    responsible: Sequence[tuple[Body, str]]


class ActionRepository(_Repository):
    def insert_many(self, actions: Sequence[NewAction]) -> None:
        """Insert new actions and their bodies in two statements.

        Core, not the unit of work: a report of 2,000 actions is saved in a fraction of the time
        the ORM takes. The bodies must already have ids (flushed).
        """
        if not actions:
            return
        statement = insert(t.actions).returning(t.actions.c.id, sort_by_parameter_order=True)
        rows = [{**action.fields, "version": 1} for action in actions]
        ids = list(self.session.execute(statement, rows).scalars())
        links = [
            {"action_id": action_id, "body_id": body.id, "role": role, "position": position}
            for action_id, action in zip(ids, actions, strict=True)
            for position, (body, role) in enumerate(action.responsible, start=1)
        ]
        if links:
            self.session.execute(insert(t.action_bodies), links)

    def get(self, action_id: int) -> Action:
        action = self.session.get(Action, action_id)
        if action is None:
            raise NotFound(f"no action with id {action_id}")
        return action

    def list(
        self,
        *,
        state: str | None = None,
        body: str | None = None,
        objective: int | None = None,
        meeting_id: int | None = None,
        overdue_on: date | None = None,
    ) -> list[Action]:
        query = select(Action).order_by(
            t.actions.c.meeting_id, t.actions.c.position, t.actions.c.id
        )
        if state:
            query = query.where(t.actions.c.state == state)
        if meeting_id:
            query = query.where(t.actions.c.meeting_id == meeting_id)
        if objective is not None:
            query = query.join(t.objectives).where(t.objectives.c.number == objective)
        if body:
            query = query.where(
                t.actions.c.id.in_(
                    select(t.action_bodies.c.action_id)
                    .join(t.bodies)
                    .where(func.lower(t.bodies.c.name) == body.lower())
                )
            )
        if overdue_on:
            query = query.where(t.actions.c.due_on < overdue_on, t.actions.c.state.not_in(TERMINAL))
        return list(self.session.scalars(query).unique())

    def open_counts(self) -> tuple[dict[str, int], int]:
        """Open actions by state, and how many of them have no due date: counted in SQL."""
        query = (
            select(
                t.actions.c.state,
                func.count(),
                func.sum(case((t.actions.c.due_on.is_(None), 1), else_=0)),
            )
            .where(t.actions.c.state.not_in(TERMINAL))
            .group_by(t.actions.c.state)
            .order_by(t.actions.c.state)
        )
        rows = self.session.execute(query).all()
        return {state: int(n) for state, n, _ in rows}, sum(int(u or 0) for _, _, u in rows)

    def for_meeting(self, meeting: Meeting) -> list[Action]:
        return self.list(meeting_id=meeting.id)

    def next_occurrence(self, action: Action) -> Action | None:
        """The occurrence a recurring action opened when it was completed, if any."""
        query = select(Action).where(t.actions.c.previous_id == action.id)
        return self.session.scalars(query).first()

    def responsibility(self, body: Body, role: str, position: int) -> Responsibility:
        return Responsibility(body=body, role=role, position=position)


class StatementRepository(_Repository):
    def get(self, statement_id: int) -> Statement:
        statement = self.session.get(Statement, statement_id)
        if statement is None:
            raise NotFound(f"no statement with id {statement_id}")
        return statement

    def slug_taken(self, slug: str) -> bool:
        return (
            self.session.scalar(select(t.statements.c.id).where(t.statements.c.slug == slug))
            is not None
        )

    def list(self) -> list[Statement]:
        return list(self.session.scalars(select(Statement).order_by(t.statements.c.id)))


class RoundRepository(_Repository):
    def get(self, round_id: int) -> Round:
        found = self.session.get(Round, round_id)
        if found is None:
            raise NotFound(f"no round with id {round_id}")
        return found

    def open_rounds(self) -> list[Round]:
        query = select(Round).where(t.rounds.c.state == OPEN).order_by(t.rounds.c.id)
        return list(self.session.scalars(query))

    def for_statement(self, statement_id: int) -> list[Round]:
        query = select(Round).where(t.rounds.c.statement_id == statement_id).order_by(t.rounds.c.id)
        return list(self.session.scalars(query))
