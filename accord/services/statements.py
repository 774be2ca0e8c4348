"""Statements: draft, revise, show, withdraw. Every text version is kept with its SHA-256."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from accord.services.context import Context
from statemachines.errors import InvalidInput, Message
from statemachines.statements import CIRCULATED, Statement
from storage.kinds import Kind, KindStore
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
    """Each kind's meaning in English (in a member's language: `kinds_named`, `kind_meaning`)."""
    return KindStore(uow.connection).meanings()


def kinds_named(uow: UnitOfWork) -> dict[str, Kind]:
    return {kind.name: kind for kind in KindStore(uow.connection).all()}


def kind_meaning(kinds: Mapping[str, Kind], kind: str, language: str | None) -> str:
    """What endorsing `kind` means, in a member's `language` ("" for an unknown kind)."""
    found = kinds.get(kind)
    return found.meaning_in(language) if found else ""


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
) -> StatementView:
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
        return statement_view(statement, kinds)


@dataclass(frozen=True)
class VersionView:
    number: int
    sha256: str
    created_at: str  # ISO 8601


@dataclass(frozen=True)
class StatementView:
    """A statement as `accord statements draft|show --json` print it (docs/architecture.md,
    "JSON shapes")."""

    id: int
    slug: str
    title: str
    kind: str
    kind_meaning: str | None
    state: str
    political: bool
    versions: list[VersionView]
    current_version: int
    sha256: str
    endorsed_version: int | None
    withdraw_reason: str | None
    text: str


@dataclass(frozen=True)
class StatementShown(StatementView):
    """A statement with its rounds' ids, oldest first."""

    rounds: list[int] = field(default_factory=list)


def show_statement(ctx: Context, statement_id: int) -> StatementShown:
    with ctx.uow(readonly=True) as uow:
        statement = uow.statements.get(statement_id)
        view = statement_view(statement, known_kinds(uow))
        rounds = [r.id for r in uow.rounds.for_statement(statement_id)]
        return StatementShown(**vars(view), rounds=rounds)


def statement_view(statement: Statement, kinds: Mapping[str, str]) -> StatementView:
    current = statement.current
    return StatementView(
        id=statement.id,
        slug=statement.slug,
        title=statement.title,
        kind=statement.kind,
        kind_meaning=kinds.get(statement.kind),
        state=statement.state,
        political=bool(statement.political),
        versions=[
            VersionView(v.number, v.sha256, v.created_at.isoformat()) for v in statement.versions
        ],
        current_version=current.number,
        sha256=current.sha256,
        endorsed_version=statement.endorsed_version,
        withdraw_reason=statement.withdraw_reason,
        text=current.body,
    )


def is_locked(statement: Statement) -> bool:
    """Circulated text is locked: a change is a new version that re-asks the group."""
    return statement.state == CIRCULATED
