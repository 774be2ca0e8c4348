"""What composing a batch of outbox mail reads: its members, reply keys, rounds, statements and
decisions, one query each for a whole batch, and a round's voters for its result.

Each read returns frozen rows. A failure of the database itself (connection lost, lock timeout,
...) comes out as `DatabaseFailure`, so that a caller can tell it from a row whose data is broken:
the first is tried again later, the second is that row's own.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from functools import wraps
from typing import ParamSpec, TypeVar

from sqlalchemy import bindparam, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from statemachines.rounds import ENDORSE
from storage import tables as t

P = ParamSpec("P")
R = TypeVar("R")


class DatabaseFailure(Exception):
    """The database failed a read (not the data read): what needed it can be tried again."""


@dataclass(frozen=True)
class MemberFacts:
    id: int
    name: str
    email: str
    language: str
    timezone: str


@dataclass(frozen=True)
class RoundFacts:
    """A round with its group's name (empty if the group is gone)."""

    id: int
    mode: str
    rule: str
    group: str
    deadline: datetime
    state: str
    outcome: str | None
    close_reason: str | None
    flagged_political: bool
    text_sha256: str
    version_number: int


@dataclass(frozen=True)
class VersionFacts:
    number: int
    body: str
    sha256: str


@dataclass(frozen=True)
class StatementFacts:
    """A statement with all its versions, oldest first."""

    id: int
    title: str
    kind: str
    political: bool
    slug: str
    versions: tuple[VersionFacts, ...]


@dataclass(frozen=True)
class DecisionFacts:
    id: int
    decision: str
    comment: str | None
    channel: str
    text_sha256: str
    recorded_at: datetime


@dataclass(frozen=True)
class Voter:
    """A recipient of a round as its result lists them (`decision` None: no answer yet)."""

    name: str
    email: str
    decision: str | None
    comment: str | None


@dataclass(frozen=True)
class Signatory:
    name: str
    organisation: str | None


def _reading(method: Callable[P, R]) -> Callable[P, R]:
    """`method` with the driver's errors raised as `DatabaseFailure`."""

    @wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(*args, **kwargs)
        except DBAPIError as exc:
            raise DatabaseFailure(f"{type(exc.orig).__name__}: {exc.orig}") from exc

    return wrapper


class MailReads:
    """The reads of one batch's composing, on a unit of work's session."""

    def __init__(self, session: Session) -> None:
        self.session = session

    @_reading
    def members(self, ids: Collection[int]) -> dict[int, MemberFacts]:
        """What a mail needs of each member (rows, not mapped objects: no groups loaded)."""
        if not ids:
            return {}
        found = self.session.execute(_MEMBERS, {"ids": sorted(ids)})
        return {m.id: MemberFacts(m.id, m.name, m.email, m.language, m.timezone) for m in found}

    @_reading
    def reply_keys(
        self, round_ids: Collection[int], member_ids: Collection[int]
    ) -> dict[tuple[int, int], str]:
        """The reply keys of these members in these rounds (not of the rounds' every member)."""
        if not round_ids or not member_ids:
            return {}
        params = {"rounds": sorted(round_ids), "members": sorted(member_ids)}
        return {
            (r.round_id, r.member_id): r.reply_key
            for r in self.session.execute(_REPLY_KEYS, params)
        }

    @_reading
    def rounds(self, ids: Collection[int]) -> dict[int, RoundFacts]:
        if not ids:
            return {}
        return {
            r.id: RoundFacts(
                id=r.id,
                mode=r.mode,
                rule=r.rule,
                group=r.group_name or "",
                deadline=r.deadline,
                state=r.state,
                outcome=r.outcome,
                close_reason=r.close_reason,
                flagged_political=bool(r.flagged_political),
                text_sha256=r.text_sha256,
                version_number=r.version_number,
            )
            for r in self.session.execute(_ROUNDS, {"ids": sorted(ids)})
        }

    @_reading
    def statements(self, ids: Collection[int]) -> dict[int, StatementFacts]:
        if not ids:
            return {}
        params = {"ids": sorted(ids)}
        versions: dict[int, list[VersionFacts]] = {i: [] for i in ids}
        for v in self.session.execute(_VERSIONS, params):
            versions[v.statement_id].append(VersionFacts(v.number, v.body, v.sha256))
        return {
            s.id: StatementFacts(
                id=s.id,
                title=s.title,
                kind=s.kind,
                political=bool(s.political),
                slug=s.slug,
                versions=tuple(versions[s.id]),
            )
            for s in self.session.execute(_STATEMENTS, params)
        }

    @_reading
    def decisions(self, ids: Collection[int]) -> dict[int, DecisionFacts]:
        if not ids:
            return {}
        return {
            d.id: DecisionFacts(
                d.id, d.decision, d.comment, d.channel, d.text_sha256, d.recorded_at
            )
            for d in self.session.execute(_DECISIONS, {"ids": sorted(ids)})
        }

    @_reading
    def voters(self, round_id: int) -> list[Voter]:
        """The round's recipients with their answers, by name."""
        found = self.session.execute(_VOTERS, {"round_id": round_id})
        return [Voter(r.name, r.email, r.decision, r.comment) for r in found]

    @_reading
    def signatories(self, round_id: int) -> list[Signatory]:
        """The round's recipients who endorsed, by name."""
        found = self.session.execute(_SIGNATORIES, {"round_id": round_id})
        return [Signatory(r.name, r.organisation) for r in found]


_MEMBERS = select(
    t.members.c.id, t.members.c.name, t.members.c.email, t.members.c.language, t.members.c.timezone
).where(t.members.c.id.in_(bindparam("ids", expanding=True)))
_REPLY_KEYS = select(
    t.recipients.c.round_id, t.recipients.c.member_id, t.recipients.c.reply_key
).where(
    t.recipients.c.round_id.in_(bindparam("rounds", expanding=True)),
    t.recipients.c.member_id.in_(bindparam("members", expanding=True)),
)
_ROUNDS = (
    select(t.rounds, t.groups.c.name.label("group_name"))
    .outerjoin(t.groups, t.groups.c.id == t.rounds.c.group_id)
    .where(t.rounds.c.id.in_(bindparam("ids", expanding=True)))
)
_VERSIONS = (
    select(t.statement_versions)
    .where(t.statement_versions.c.statement_id.in_(bindparam("ids", expanding=True)))
    .order_by(t.statement_versions.c.statement_id, t.statement_versions.c.number)
)
_STATEMENTS = select(t.statements).where(t.statements.c.id.in_(bindparam("ids", expanding=True)))
_DECISIONS = select(t.decisions).where(t.decisions.c.id.in_(bindparam("ids", expanding=True)))
_VOTERS = (
    select(t.members.c.name, t.members.c.email, t.recipients.c.decision, t.recipients.c.comment)
    .join(t.members)
    .where(t.recipients.c.round_id == bindparam("round_id"))
    .order_by(t.members.c.name)
)
_SIGNATORIES = (
    select(t.members.c.name, t.members.c.organisation)
    .join(t.members)
    .where(t.recipients.c.round_id == bindparam("round_id"), t.recipients.c.decision == ENDORSE)
    .order_by(t.members.c.name)
)
