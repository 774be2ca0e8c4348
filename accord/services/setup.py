"""`accord init`: create or migrate the database and seed the default kinds of statement."""

from __future__ import annotations

from dataclasses import dataclass

from accord.services.context import Context
from accord.services.ready import check_ready
from accord.services.ready import safe_url as _safe_url
from storage.kinds import Kind, KindStore
from storage.migrate import upgrade
from storage.uow import Database

DEFAULT_KINDS = {
    kind.name: kind
    for kind in (
        Kind(
            "awareness-day",
            "You add your name to a message that marks an international day and restates the "
            "network's shared values; it asks no one to take a political position.",
            "Vous ajoutez votre nom à un message qui marque une journée internationale et "
            "rappelle les valeurs communes du réseau ; il ne demande à personne de prendre "
            "position politiquement.",
        ),
        Kind(
            "programme-news",
            "You add your name to news about the network's own programme (events, tools, "
            "publications); it takes no position beyond the programme.",
            "Vous ajoutez votre nom à une nouvelle sur le programme du réseau lui-même "
            "(événements, outils, publications) ; elle ne prend aucune position au-delà du "
            "programme.",
        ),
        Kind(
            "position",
            "You add your name to a position of the network on a public matter; read it as a "
            "statement you personally stand behind.",
            "Vous ajoutez votre nom à une prise de position du réseau sur une question "
            "publique ; lisez-la comme une déclaration que vous soutenez personnellement.",
        ),
    )
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
        KindStore(uow.connection).add_missing(list(DEFAULT_KINDS.values()))
        uow.commit()


def ensure_ready(ctx: Context) -> None:
    """Refuse to work on a database that `accord init` has not created or migrated."""
    check_ready(ctx.settings.db_url, lambda: ctx.db.engine)
