"""The confirmation page of a member's link: what it shows, from the page's row
(`storage.answers.PageRow`), under the names its template reads (templates/web/reply.html.j2)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from accord.services.context import Context
from statemachines import rounds as rules
from storage.answers import PageRow


@dataclass(frozen=True)
class PageMember:
    name: str
    email: str
    timezone: str


@dataclass(frozen=True)
class PageStatement:
    title: str
    kind: str
    kind_meaning: str
    political: bool
    body: str | None
    sha256: str
    version: int | None


@dataclass(frozen=True)
class PageRound:
    id: int
    mode: str
    rule: str
    rule_text: str
    deadline: datetime
    secretariat_timezone: str


@dataclass(frozen=True)
class CurrentAnswer:
    decision: str | None
    comment: str | None


@dataclass(frozen=True)
class ReplyPage:
    """What the confirmation page of a member's link shows (its template's names)."""

    member: PageMember
    statement: PageStatement
    round: PageRound
    choices: tuple[str, ...]
    current: CurrentAnswer


def page_document(ctx: Context, row: PageRow) -> ReplyPage:
    """The confirmation page's content."""
    return ReplyPage(
        member=PageMember(row.name, row.email, row.timezone),
        statement=PageStatement(
            title=row.title,
            kind=row.kind,
            kind_meaning=row.meaning or "",
            political=bool(row.political),
            body=row.body,
            sha256=row.text_sha256,
            version=row.number,
        ),
        round=PageRound(
            id=row.id,
            mode=row.mode,
            rule=row.rule,
            rule_text=rules.rule_text(row.rule),
            deadline=row.deadline,
            secretariat_timezone=ctx.settings.timezone,
        ),
        choices=tuple(rules.DECISIONS[row.mode]),
        current=CurrentAnswer(row.answered, row.comment),
    )
