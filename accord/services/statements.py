"""Statements: draft, revise, show, withdraw. Every text version is kept with its SHA-256."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Any

from sqlalchemy import select

from accord.services.context import Context
from statemachines.errors import InvalidInput, Message
from statemachines.statements import CIRCULATED, Statement
from storage import tables as t
from storage.uow import UnitOfWork

MAX_BODY_BYTES = 200_000


def read_body_file(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(raw) > MAX_BODY_BYTES:
        raise InvalidInput(f"{path}: the text is over {MAX_BODY_BYTES // 1000} KB")
    try:
        body = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(f"{path}: not a UTF-8 text file; save it as UTF-8") from None
    if "\x00" in body or not body.strip():
        raise InvalidInput(f"{path}: the statement text is empty or not text")
    return body.strip() + "\n"


def one_line(text: str, what: str) -> str:
    """Titles end up in mail subjects: one line, printable, not empty."""
    cleaned = " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())
    if not cleaned:
        raise InvalidInput("the {what} is empty", what=Message(what))
    if len(cleaned) > 300:
        raise InvalidInput("the {what} is over 300 characters", what=Message(what))
    return cleaned


def known_kinds(uow: UnitOfWork) -> dict[str, str]:
    return dict(uow.session.execute(select(t.kinds.c.name, t.kinds.c.meaning)).all())


def slugify(title: str) -> str:
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")[:80] or "statement"


def _unique_slug(uow: UnitOfWork, title: str) -> str:
    base = slugify(title)
    slug, n = base, 1
    while uow.statements.slug_taken(slug):
        n += 1
        slug = f"{base}-{n}"
    return slug


def draft_statement(
    ctx: Context, *, title: str, kind: str, body: str, political: bool = False
) -> dict[str, Any]:
    title = one_line(title, "title")
    with ctx.uow() as uow:
        kinds = known_kinds(uow)
        if kind not in kinds:
            raise InvalidInput(
                "unknown kind '{kind}' (known: {known})", kind=kind, known=", ".join(sorted(kinds))
            )
        statement = Statement(
            title=title, kind=kind, political=political, slug=_unique_slug(uow, title)
        )
        version = statement.add_version(body, at=ctx.now())
        uow.statements.add(statement)
        uow.flush()
        ctx.record(
            uow,
            entity_type="statement",
            entity_id=statement.id,
            action="draft",
            at=ctx.now(),
            payload={
                "title": title,
                "kind": kind,
                "political": political,
                "version": version.number,
            },
            text_sha256=version.sha256,
        )
        uow.commit()
        return statement_dict(statement, kinds)


def show_statement(ctx: Context, statement_id: int) -> dict[str, Any]:
    with ctx.uow(readonly=True) as uow:
        statement = uow.statements.get(statement_id)
        result = statement_dict(statement, known_kinds(uow))
        result["rounds"] = [r.id for r in uow.rounds.for_statement(statement_id)]
        return result


def statement_dict(statement: Statement, kinds: dict[str, str]) -> dict[str, Any]:
    current = statement.current
    return {
        "id": statement.id,
        "slug": statement.slug,
        "title": statement.title,
        "kind": statement.kind,
        "kind_meaning": kinds.get(statement.kind),
        "state": statement.state,
        "political": bool(statement.political),
        "versions": [
            {"number": v.number, "sha256": v.sha256, "created_at": v.created_at.isoformat()}
            for v in statement.versions
        ],
        "current_version": current.number,
        "sha256": current.sha256,
        "endorsed_version": statement.endorsed_version,
        "withdraw_reason": statement.withdraw_reason,
        "text": current.body,
    }


def is_locked(statement: Statement) -> bool:
    """Circulated text is locked: a change is a new version that re-asks the group."""
    return statement.state == CIRCULATED
