"""Answers by link: what the confirmation page shows, and recording a pressed button.

Every failure is a `BadLink` (or `RoundClosed`/`StaleText`) with a message fit for the member.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, and_, bindparam, select

from accord.services.context import Context
from accord.services.delivery import rule_text
from accord.services.links import BadLink, LinkClaims, read_token
from accord.services.rounds import RoundClosed, StaleText, check_answer, write_answer
from accord.services.statements import known_kinds
from statemachines import rounds as rules
from statemachines.errors import Conflict, NotFound
from storage import tables as t


def _claims(ctx: Context, token: str) -> LinkClaims:
    return read_token(ctx.settings.resolve_secret_key(), token, ctx.now())


# Everything the page shows, in one query built once: the round, its statement and the version
# the round asks about, the member and their current answer, the meaning of the kind; and what
# recording an answer needs besides (`rounds.write_answer`).
_PAGE = (
    select(
        t.rounds.c.id,
        t.rounds.c.statement_id,
        t.rounds.c.outcome,
        t.rounds.c.tally_endorse,
        t.rounds.c.tally_decline,
        t.rounds.c.tally_abstain,
        t.rounds.c.tally_pending,
        t.rounds.c.mode,
        t.rounds.c.rule,
        t.rounds.c.deadline,
        t.rounds.c.state,
        t.rounds.c.text_sha256,
        t.statements.c.title,
        t.statements.c.kind,
        t.statements.c.political,
        t.statement_versions.c.body,
        t.statement_versions.c.number,
        t.kinds.c.meaning,
        t.members.c.name,
        t.members.c.email,
        t.members.c.timezone,
        t.recipients.c.id.label("recipient_id"),
        t.recipients.c.decision.label("answered"),
        t.recipients.c.comment,
    )
    .select_from(t.rounds)
    .join(t.statements, t.statements.c.id == t.rounds.c.statement_id)
    .join(t.members, t.members.c.id == bindparam("member_id"))
    .outerjoin(
        t.statement_versions,
        and_(
            t.statement_versions.c.statement_id == t.statements.c.id,
            t.statement_versions.c.sha256 == t.rounds.c.text_sha256,
        ),
    )
    .outerjoin(
        t.recipients,
        and_(t.recipients.c.round_id == t.rounds.c.id, t.recipients.c.member_id == t.members.c.id),
    )
    .outerjoin(t.kinds, t.kinds.c.name == t.statements.c.kind)
    .where(t.rounds.c.id == bindparam("round_id"))
    .order_by(t.statement_versions.c.number)  # a text that came back: its first version, as ever
)
_PAGE_LOCKED = _PAGE.with_for_update(of=t.rounds)


def reply_page(ctx: Context, token: str) -> dict[str, Any]:
    """Everything the confirmation page shows; records nothing.

    One query answers a genuine link to an open round; anything else (a refusal to explain) is
    read again the long way, which says what is wrong.
    """
    claims = _claims(ctx, token)
    with ctx.db.reading() as connection:
        row = _page_row(connection, _PAGE, claims)
    if _answerable(claims, row):
        return _page(ctx, claims.round_id, row)
    return _reply_page_checked(ctx, claims)


def _page_row(connection: Connection, query: Any, claims: LinkClaims) -> Any:
    params = {"round_id": claims.round_id, "member_id": claims.member_id}
    return connection.execute(query, params).first()


def _answerable(claims: LinkClaims, row: Any) -> bool:
    """Whether the page's row is that of a genuine link to an open round, as it was sent."""
    return (
        row is not None
        and claims.text_sha256 == row.text_sha256
        and row.state == rules.OPEN
        and row.recipient_id is not None
        and row.number is not None
    )


def _page(ctx: Context, round_id: int, row: Any) -> dict[str, Any]:
    return {
        "member": {"name": row.name, "email": row.email, "timezone": row.timezone},
        "statement": {
            "title": row.title,
            "kind": row.kind,
            "kind_meaning": row.meaning or "",
            "political": bool(row.political),
            "body": row.body,
            "sha256": row.text_sha256,
            "version": row.number,
        },
        "round": {
            "id": round_id,
            "mode": row.mode,
            "rule": row.rule,
            "rule_text": rule_text(row.rule),
            "deadline": row.deadline,
            "secretariat_timezone": ctx.settings.timezone,
        },
        "choices": list(rules.DECISIONS[row.mode]),
        "current": {"decision": row.answered, "comment": row.comment},
    }


def _reply_page_checked(ctx: Context, claims: LinkClaims) -> dict[str, Any]:
    with ctx.uow(readonly=True) as uow:
        try:
            rnd = uow.rounds.get(claims.round_id)
            statement = uow.statements.get(rnd.statement_id)
            member = uow.members.get(claims.member_id)
        except NotFound as exc:  # a genuine link to something that no longer exists
            raise BadLink("this link is not valid") from exc
        if claims.text_sha256 != rnd.text_sha256:
            raise StaleText(
                "the text has changed since this link was sent; "
                "please use the link in the newest mail"
            )
        if rnd.state != rules.OPEN:
            raise RoundClosed("this round is closed; answers are no longer recorded")
        current = uow.session.execute(
            select(t.recipients.c.decision, t.recipients.c.comment).where(
                t.recipients.c.round_id == rnd.id, t.recipients.c.member_id == member.id
            )
        ).first()
        if current is None:
            raise BadLink("this link is not valid")
        version = next(v for v in statement.versions if v.sha256 == rnd.text_sha256)
        return {
            "member": {"name": member.name, "email": member.email, "timezone": member.timezone},
            "statement": {
                "title": statement.title,
                "kind": statement.kind,
                "kind_meaning": known_kinds(uow).get(statement.kind, ""),
                "political": bool(statement.political),
                "body": version.body,
                "sha256": version.sha256,
                "version": version.number,
            },
            "round": {
                "id": rnd.id,
                "mode": rnd.mode,
                "rule": rnd.rule,
                "rule_text": rule_text(rnd.rule),
                "deadline": rnd.deadline,
                "secretariat_timezone": ctx.settings.timezone,
            },
            "choices": list(rules.DECISIONS[rnd.mode]),
            "current": {"decision": current.decision, "comment": current.comment},
        }


def answer_by_link(ctx: Context, token: str, decision: str, comment: str | None) -> dict[str, Any]:
    """Record the button the member pressed on their page, in one transaction that reads the page
    with the round locked. Returns the page (`reply_page`'s, as it was before the answer) and
    the answer as recorded (`recorded`). A link its page would refuse is refused the same way."""
    claims = _claims(ctx, token)
    with ctx.uow() as uow:
        row = _page_row(uow.session.connection(), _PAGE_LOCKED, claims)
        if _answerable(claims, row):
            page = _page(ctx, claims.round_id, row)
            check_answer(row, decision)
            recorded = write_answer(
                ctx, uow, row, claims.member_id, decision, comment, channel="link"
            )
            uow.commit()
            return {**page, "recorded": recorded}
    _reply_page_checked(ctx, claims)  # raises what the page would show
    raise Conflict("the round changed while the answer was being recorded")
