"""Answers by link: what the confirmation page shows, and recording a pressed button.

Every failure is a `BadLink` (or `RoundClosed`/`StaleText`) with a message fit for the member.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import select

from accord.services.context import Context
from accord.services.delivery import rule_text
from accord.services.links import BadLink, LinkClaims, read_token
from accord.services.rounds import (
    ANSWER_HEAD_COLUMNS,
    AnswerHead,
    RoundClosed,
    StaleText,
    check_answer,
    plan_answer,
    write_answer,
)
from accord.services.statements import known_kinds
from statemachines import rounds as rules
from statemachines.errors import Conflict, NotFound
from storage import tables as t
from storage.aio import LinkDatabase
from storage.plain import Reader, Write, utc


def _claims(ctx: Context, token: str) -> LinkClaims:
    return read_token(ctx.settings.resolve_secret_key(), token, ctx.now())


# Everything the page shows, in one query: the round, its statement and the version the round
# asks about, the member and their current answer, the meaning of the kind; and what recording an
# answer needs besides (`rounds.write_answer`). Run through the driver (`storage.plain.Reader`):
# SQLAlchemy's statement machinery cost more than the query (bench/RESULTS.md, answers).
_PAGE_COLUMNS = """
rounds.id, rounds.statement_id, rounds.outcome, rounds.tally_endorse, rounds.tally_decline,
rounds.tally_abstain, rounds.tally_pending, rounds.mode, rounds.rule, rounds.deadline,
rounds.state, rounds.text_sha256, statements.title, statements.kind, statements.political,
statement_versions.body, statement_versions.number, kinds.meaning, members.name, members.email,
members.timezone, recipients.id, recipients.decision, recipients.comment"""
_PAGE_FROM = """
FROM rounds
JOIN statements ON statements.id = rounds.statement_id
JOIN members ON members.id = %s
LEFT OUTER JOIN statement_versions ON statement_versions.statement_id = statements.id
     AND statement_versions.sha256 = rounds.text_sha256
LEFT OUTER JOIN recipients ON recipients.round_id = rounds.id AND recipients.member_id = members.id
LEFT OUTER JOIN kinds ON kinds.name = statements.kind"""
# A text that came back has two versions with its hash: the first is the one shown, as ever.
_PAGE_ORDER = "ORDER BY statement_versions.number"
_PAGE = f"SELECT {_PAGE_COLUMNS} {_PAGE_FROM} WHERE rounds.id = %s {_PAGE_ORDER}"
# To answer: the same row with the round locked, and where the answer's writes go (AnswerHead).
_ANSWER_PAGE = {
    dialect: f"SELECT {_PAGE_COLUMNS}, {head} {_PAGE_FROM} CROSS JOIN audit_head"
    f" WHERE rounds.id = %s AND audit_head.id = 1 {_PAGE_ORDER}"
    + (" FOR UPDATE OF rounds, audit_head" if dialect == "postgresql" else "")
    for dialect, head in ANSWER_HEAD_COLUMNS.items()
}


class PageRow(NamedTuple):
    id: int
    statement_id: int
    outcome: str | None
    tally_endorse: int
    tally_decline: int
    tally_abstain: int
    tally_pending: int
    mode: str
    rule: str
    deadline: datetime
    state: str
    text_sha256: str
    title: str
    kind: str
    political: bool
    body: str | None
    number: int | None
    meaning: str | None
    name: str
    email: str
    timezone: str
    recipient_id: int | None
    answered: str | None
    comment: str | None


def reply_page(ctx: Context, token: str) -> dict[str, Any]:
    """Everything the confirmation page shows; records nothing.

    One query answers a genuine link to an open round; anything else (a refusal to explain) is
    read again the long way, which says what is wrong.
    """
    claims = _claims(ctx, token)
    with ctx.db.reading() as reader:
        row = _page_row(reader, claims)
    if _answerable(claims, row):
        return _page(ctx, claims.round_id, row)
    return _reply_page_checked(ctx, claims)


def _page_row(reader: Reader, claims: LinkClaims) -> PageRow | None:
    return _page_of(reader.rows(_PAGE, claims.member_id, claims.round_id))


def _page_of(found: list[tuple[Any, ...]]) -> PageRow | None:
    if not found:
        return None
    row = PageRow(*found[0][: len(PageRow._fields)])
    return row._replace(deadline=utc(row.deadline), political=bool(row.political))


def _answer_page_of(found: list[tuple[Any, ...]]) -> tuple[PageRow | None, AnswerHead | None]:
    """The page's row and the head, from a row of `_ANSWER_PAGE`."""
    if not found:
        return None, None
    return _page_of(found), AnswerHead(*found[0][len(PageRow._fields) :])


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
        reader = Reader.of_connection(uow.connection)
        sql = _ANSWER_PAGE["sqlite" if reader.is_sqlite else "postgresql"]
        row, head = _answer_page_of(reader.rows(sql, claims.member_id, claims.round_id))
        if _answerable(claims, row):
            page = _page(ctx, claims.round_id, row)
            check_answer(row, decision)
            recorded = write_answer(
                ctx, uow, row, claims.member_id, decision, comment, channel="link", head=head
            )
            uow.commit()
            return {**page, "recorded": recorded}
    _reply_page_checked(ctx, claims)  # raises what the page would show
    raise Conflict("the round changed while the answer was being recorded")


async def reply_page_async(ctx: Context, links: LinkDatabase, token: str) -> dict[str, Any]:
    """`reply_page` on PostgreSQL's asynchronous connections: the page's query does not hold up
    the app's other requests while it waits."""
    claims = _claims(ctx, token)
    row = _page_of(await links.rows(_PAGE, claims.member_id, claims.round_id))
    if _answerable(claims, row):
        return _page(ctx, claims.round_id, row)
    return _reply_page_checked(ctx, claims)  # a refusal to explain: rare, read the long way


async def answer_by_link_async(
    ctx: Context, links: LinkDatabase, token: str, decision: str, comment: str | None
) -> dict[str, Any]:
    """`answer_by_link` on PostgreSQL's asynchronous connections: the locked page, then the
    answer's writes as one statement, in one transaction. A refusal to explain, and the answer
    that closes its round (the mapped round closes it), go the way of `answer_by_link`."""
    claims = _claims(ctx, token)

    def plan(found: list[tuple[Any, ...]]) -> tuple[list[Write], dict[str, Any]] | None:
        row, head = _answer_page_of(found)
        if row is None or head is None or not _answerable(claims, row):
            return None
        check_answer(row, decision)
        answer = plan_answer(ctx, row, head, claims.member_id, decision, comment, channel="link")
        if answer.closes:
            return None
        return answer.writes, {**_page(ctx, claims.round_id, row), "recorded": answer.recorded}

    sql = _ANSWER_PAGE["postgresql"]
    done = await links.read_then_write(sql, (claims.member_id, claims.round_id), plan)
    return done if done is not None else answer_by_link(ctx, token, decision, comment)
