"""Answers by link: what the confirmation page shows, and recording a pressed button.

Every failure is a `BadLink` (or `RoundClosed`/`StaleText`) with a message fit for the member.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from accord.services.context import Context
from accord.services.delivery import rule_text
from accord.services.links import BadLink, LinkClaims, read_token
from accord.services.rounds import RoundClosed, StaleText, record_decision
from accord.services.statements import known_kinds
from statemachines import rounds as rules
from statemachines.errors import NotFound
from storage import tables as t


def _claims(ctx: Context, token: str) -> LinkClaims:
    return read_token(ctx.settings.resolve_secret_key(), token, ctx.now())


def reply_page(ctx: Context, token: str) -> dict[str, Any]:
    """Everything the confirmation page shows; records nothing."""
    claims = _claims(ctx, token)
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
    """Record the button the member pressed on their page."""
    claims = _claims(ctx, token)
    return record_decision(
        ctx,
        round_id=claims.round_id,
        member_id=claims.member_id,
        decision=decision,
        comment=comment,
        channel="link",
        text_sha256=claims.text_sha256,
    )
