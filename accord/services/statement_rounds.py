"""Statement use-cases that reach into its rounds: revise the text (re-ask an open round) and
withdraw (close open rounds, tell the endorsers, mark a published page withdrawn)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from accord.services.context import Context
from accord.services.outbox import Mail, enqueue
from accord.services.publish import Unpublished, withdraw_publication
from accord.services.results import INLINE_IN_JSON, plain
from accord.services.rounds import close_with_reason
from accord.services.statements import StatementView, known_kinds, statement_view
from statemachines.errors import InvalidInput
from statemachines.rounds import OPEN, Round
from statemachines.statements import PUBLISHED, Statement
from storage.uow import UnitOfWork


@dataclass(frozen=True)
class Revised:
    """The statement with its new version (its document's keys in JSON), and how many members
    were asked again."""

    statement: StatementView = field(metadata=INLINE_IN_JSON)
    reasked: int


@dataclass(frozen=True)
class Withdrawn:
    """The withdrawn statement, how many endorsers were told, and the published page that now
    says it was withdrawn (None: it was not published)."""

    statement: StatementView = field(metadata=INLINE_IN_JSON)
    notified: int
    page: str | None


def revise_statement(ctx: Context, statement_id: int, body: str) -> Revised:
    """A new text version. In an open round, earlier answers become stale and every recipient
    is asked again with the difference; links to the old text stop working."""
    now = ctx.now()
    with ctx.uow() as uow:
        statement = uow.statements.get(statement_id)
        previous = statement.current
        statement.fire("revise")
        version = statement.add_version(body, at=now)
        if version.sha256 == previous.sha256:
            raise InvalidInput("the new text is the same as the current version")
        asked = 0
        for rnd in uow.rounds.for_statement(statement.id):
            if rnd.state == OPEN and rnd.mode == "endorse":
                asked += _reask(ctx, uow, rnd, version.number, version.sha256, previous.sha256)
        ctx.record(
            uow,
            entity_type="statement",
            entity_id=statement.id,
            action="revise",
            at=now,
            text_sha256=version.sha256,
            payload={"version": version.number, "previous": previous.sha256, "reasked": asked},
        )
        uow.commit()
        return Revised(statement_view(statement, known_kinds(uow)), reasked=asked)


def _reask(
    ctx: Context, uow: UnitOfWork, rnd: Round, number: int, sha: str, previous_sha: str
) -> int:
    rnd.text_sha256, rnd.version_number = sha, number
    rnd.ask(rnd.counts.recipients)
    uow.recipients.ask_again(rnd.id, ctx.now())
    mails = [
        Mail(
            dedupe_key=f"revision:{rnd.id}:{member.id}:v{number}",
            purpose="revision",
            to_addr=member.email,
            round_id=rnd.id,
            member_id=member.id,
            statement_id=rnd.statement_id,
            data={"previous_sha256": previous_sha},
        )
        for member in uow.recipients.deliverable(rnd.id)
    ]
    return enqueue(uow, mails, settings=ctx.settings)


def withdraw_statement(ctx: Context, statement_id: int, reason: str) -> Withdrawn:
    """Withdraw with a reason: open rounds close, those who had endorsed are told."""
    now = ctx.now()
    with ctx.uow() as uow:
        statement = uow.statements.get(statement_id)
        endorsers = uow.recipients.endorsers(statement.id)
        was_published = statement.state == PUBLISHED
        statement.fire("withdraw", reason=reason)
        for rnd in uow.rounds.for_statement(statement.id):
            if rnd.state == OPEN:
                close_with_reason(ctx, uow, rnd, "withdrawn", now)
        enqueue(
            uow,
            [
                Mail(
                    dedupe_key=f"withdrawal:{statement.id}:{member.id}",
                    purpose="withdrawal",
                    to_addr=member.email,
                    member_id=member.id,
                    statement_id=statement.id,
                    data={"reason": statement.withdraw_reason},
                )
                for member in endorsers
            ],
            settings=ctx.settings,
        )
        unpublished = _unpublished(ctx, statement, now) if was_published else None
        ctx.record(
            uow,
            entity_type="statement",
            entity_id=statement.id,
            action="withdraw",
            at=now,
            payload={
                "reason": statement.withdraw_reason,
                "notified": len(endorsers),
                **({"publication": plain(unpublished)} if unpublished else {}),
            },
        )
        uow.commit()
        return Withdrawn(
            statement_view(statement, known_kinds(uow)),
            notified=len(endorsers),
            page=unpublished.page if unpublished else None,
        )


def _unpublished(ctx: Context, statement: Statement, now: datetime) -> Unpublished | None:
    """A published statement's page, certificate and feed entry say it was withdrawn (None:
    no page was found)."""
    return withdraw_publication(
        ctx.settings.home / "site",
        statement.slug,
        at=now,
        reason=statement.withdraw_reason or "",
        public_url=ctx.settings.public_url,
    )
