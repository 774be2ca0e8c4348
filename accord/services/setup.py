"""`accord init`: create or migrate the database and seed the default kinds of statement."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from accord.services.context import Context
from accord.services.ready import check_ready
from accord.services.ready import safe_url as _safe_url
from storage.migrate import upgrade
from storage.tables import kinds
from storage.uow import Database

DEFAULT_KINDS = {
    "awareness-day": "You add your name to a message that marks an international day and restates "
    "the network's shared values; it asks no one to take a political position.",
    "programme-news": "You add your name to news about the network's own programme (events, "
    "tools, publications); it takes no position beyond the programme.",
    "position": "You add your name to a position of the network on a public matter; read it as "
    "a statement you personally stand behind.",
}


@dataclass(frozen=True)
class InitResult:
    database: str
    before: str | None
    after: str
    created: bool


def init_database(ctx: Context) -> InitResult:
    ctx.settings.home.mkdir(parents=True, exist_ok=True)
    before, after = upgrade(ctx.db.engine)
    seed_kinds(ctx.db)
    ctx.settings.resolve_secret_key()
    return InitResult(_safe_url(ctx.db.engine.url), before, after, before is None)


def seed_kinds(db: Database) -> None:
    """Add the default kinds of statement that are not there yet (never overwrite edits)."""
    with db.uow() as uow:
        present = set(uow.session.scalars(select(kinds.c.name)))
        missing = [{"name": k, "meaning": v} for k, v in DEFAULT_KINDS.items() if k not in present]
        if missing:
            uow.session.execute(kinds.insert(), missing)
        uow.commit()


def ensure_ready(ctx: Context) -> None:
    """Refuse to work on a database that `accord init` has not created or migrated."""
    check_ready(ctx.settings.db_url, lambda: ctx.db.engine)
