"""Classical (imperative) mapping of the plain domain classes onto the tables.

The domain classes in `statemachines` never import SQLAlchemy; this module teaches SQLAlchemy about
them. Actions, statements and rounds carry a version column, so of two concurrent writers of the
same row exactly one wins (SQLAlchemy raises StaleDataError for the other; the unit of work turns it
into `Conflict`).
"""

from __future__ import annotations

from sqlalchemy.orm import registry, relationship

from statemachines.actions import Action, Responsibility
from statemachines.records import Body, Group, Meeting, Member, Objective, Person
from statemachines.rounds import Round
from statemachines.statements import Statement, StatementVersion
from storage import tables as t

mapper_registry = registry(metadata=t.metadata)
_started = False


def start_mappers() -> None:
    """Map the domain classes once per process (called by the unit of work, not at import)."""
    global _started
    if _started:
        return
    _started = True
    m = mapper_registry.map_imperatively
    m(Group, t.groups)
    m(
        Member,
        t.members,
        properties={
            "groups": relationship(
                Group, secondary=t.memberships, order_by=t.groups.c.name, lazy="selectin"
            ),
        },
    )
    m(Body, t.bodies)
    m(Meeting, t.meetings)
    m(Objective, t.objectives)
    m(Person, t.people)
    m(
        Responsibility,
        t.action_bodies,
        properties={
            "body": relationship(Body, lazy="joined", innerjoin=True),
        },
    )
    m(
        Action,
        t.actions,
        version_id_col=t.actions.c.version,
        properties={
            "objective": relationship(Objective, lazy="joined", innerjoin=True),
            "responsibilities": relationship(
                Responsibility,
                order_by=t.action_bodies.c.position,
                lazy="selectin",
                cascade="all, delete-orphan",
            ),
        },
    )
    m(StatementVersion, t.statement_versions)
    m(
        Statement,
        t.statements,
        version_id_col=t.statements.c.version,
        properties={
            "versions": relationship(
                StatementVersion,
                order_by=t.statement_versions.c.number,
                lazy="selectin",
                cascade="all, delete-orphan",
            ),
        },
    )
    m(Round, t.rounds, version_id_col=t.rounds.c.version)
