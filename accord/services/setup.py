"""`accord init`: create or migrate the database and seed the default kinds of statement."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from accord.services.context import Context
from storage.migrate import SCHEMA_HEAD, upgrade
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


def _safe_url(url: object) -> str:
    """The database URL without its password, for messages."""
    return (
        url.render_as_string(hide_password=True) if hasattr(url, "render_as_string") else str(url)
    )


def ensure_ready(ctx: Context) -> None:
    """Refuse to work on a database that `accord init` has not created or migrated."""
    from statemachines.errors import AccordError
    from storage.db import sqlite_file
    from storage.migrate import current_revision

    path = sqlite_file(ctx.settings.db_url)
    if path is not None and not path.exists():
        raise AccordError(f"no accord database at {path}: run `accord init` first")
    current = current_revision(ctx.db.engine)
    if current == SCHEMA_HEAD:
        return
    if current is None:
        raise AccordError(
            f"no accord database at {_safe_url(ctx.db.engine.url)}: run `accord init` first"
        )
    raise AccordError(
        f"the database schema is {current}, this accord needs {SCHEMA_HEAD}: "
        "run `accord init` to migrate it"
    )
