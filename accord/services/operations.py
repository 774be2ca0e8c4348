"""What operators see: the facts flows name their runs by, report in artifacts and announce as
events. Read-only and cheap (no recipient lists), so a round of 10,000 costs a few queries.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from accord.services.context import Context
from accord.services.outbox import delivery_counts
from accord.services.publish import Signatory
from storage.transitions import Transition

# Audit actions that are not transitions: one member's answer is not an event for operators
# (10,000 of them would drown the ones that matter), and it names a person.
QUIET_ACTIONS = ("decision.",)


@dataclass(frozen=True)
class StatementFacts:
    id: int
    slug: str
    title: str
    kind: str
    state: str
    version: int


@dataclass(frozen=True)
class Publication:
    """A published statement: its page, certificate and signatories (the JSON of
    `accord statements publish` asked again, beside `already_published`)."""

    path: str
    url: str
    certificate: str
    signatories: tuple[Signatory, ...]


@dataclass(frozen=True)
class RoundFacts:
    id: int
    statement_id: int
    slug: str
    kind: str
    group: str
    auto_publish: bool
    mode: str
    rule: str
    state: str
    outcome: str | None
    deadline: datetime
    version: int
    tally: dict[str, int]
    delivery: dict[str, int]


def statement_facts(ctx: Context, statement_id: int) -> StatementFacts:
    with ctx.uow(readonly=True) as uow:
        statement = uow.statements.get(statement_id)
        return StatementFacts(
            id=statement.id,
            slug=statement.slug,
            title=statement.title,
            kind=statement.kind,
            state=statement.state,
            version=statement.current.number,
        )


def publication(ctx: Context, statement_id: int) -> Publication | None:
    """What `publish_statement` returned when it published this statement (read back from the
    certificate it wrote), or None if the statement is not published."""
    facts = statement_facts(ctx, statement_id)
    page = ctx.settings.home / "site" / f"{facts.slug}.html"
    certificate = page.with_suffix(".json")
    if facts.state != "published" or not certificate.is_file():
        return None
    endorsers = json.loads(certificate.read_text(encoding="utf-8"))["endorsers"]
    return Publication(
        path=str(page),
        url=f"{ctx.settings.public_url}/site/{page.name}",
        certificate=str(certificate),
        signatories=tuple(Signatory(e["name"], e["organisation"]) for e in endorsers),
    )


def round_facts(ctx: Context, round_id: int) -> RoundFacts:
    with ctx.uow(readonly=True) as uow:
        rnd = uow.rounds.get(round_id)
        statement = uow.statements.get(rnd.statement_id)
        group = uow.groups.by_id(rnd.group_id)
        return RoundFacts(
            id=rnd.id,
            statement_id=statement.id,
            slug=statement.slug,
            kind=statement.kind,
            group=group.name if group else "",
            auto_publish=bool(group and group.auto_publish),
            mode=rnd.mode,
            rule=rnd.rule,
            state=rnd.state,
            outcome=rnd.outcome,
            deadline=rnd.deadline,
            version=rnd.version_number,
            tally=rnd.counts.as_dict(),
            delivery=delivery_counts(uow, rnd.id),
        )


def has_meetings(ctx: Context) -> bool:
    with ctx.uow(readonly=True) as uow:
        return uow.meetings.latest() is not None


def open_round_ids(ctx: Context) -> list[int]:
    with ctx.uow(readonly=True) as uow:
        return [r.id for r in uow.rounds.open_rounds()]


def pending_mail(ctx: Context) -> int:
    """Outbox rows a sender could claim now (pending, or sending with a lapsed lease)."""
    with ctx.uow(readonly=True) as uow:
        return uow.outbox.claimable_count(datetime.now(UTC))


def unsent_mail(ctx: Context) -> int:
    """Outbox rows not sent yet, claimed or not."""
    with ctx.uow(readonly=True) as uow:
        return uow.outbox.unsent_count()


def audit_hash(ctx: Context, seq: int) -> str | None:
    """The hash of entry `seq` of the decision record (None if there is no such entry)."""
    with ctx.uow(readonly=True) as uow:
        return uow.transitions.hash_of(seq)


def transitions_since(ctx: Context, seq: int, limit: int = 500) -> list[Transition]:
    """Entries after `seq`, oldest first, without members' individual answers."""
    with ctx.uow(readonly=True) as uow:
        return uow.transitions.since(seq, quiet=QUIET_ACTIONS, limit=limit)
