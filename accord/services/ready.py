"""Is the database ready for accord? A check light enough for any command's start-up: one query,
no ORM mapping. `accord rounds status` makes it without SQLAlchemy (`require_schema` on the
revision storage.plain reads)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from statemachines.errors import AccordError
from storage.migrate import SCHEMA_HEAD

if TYPE_CHECKING:
    from storage.db import Engine


def safe_url(url: object) -> str:
    """The database URL without its password, for messages."""
    return (
        url.render_as_string(hide_password=True) if hasattr(url, "render_as_string") else str(url)
    )


def no_database(where: object) -> AccordError:
    return AccordError(f"no accord database at {where}: run `accord init` first")


def check_ready(url: str, engine_for: Callable[[], Engine]) -> None:
    """Refuse to work on a database that `accord init` has not created or migrated. The engine
    is made only once a SQLite file is known to exist (making one creates its folder)."""
    from storage.db import sqlite_file
    from storage.migrate import current_revision

    path = sqlite_file(url)
    if path is not None and not path.exists():
        raise no_database(path)
    engine = engine_for()
    require_schema(current_revision(engine), lambda: safe_url(engine.url))


def require_schema(current: str | None, where: Callable[[], str]) -> None:
    """Refuse a database without accord's schema (`where` names it), or with an older one."""
    if current == SCHEMA_HEAD:
        return
    if current is None:
        raise no_database(where())
    raise AccordError(
        f"the database schema is {current}, this accord needs {SCHEMA_HEAD}: "
        "run `accord init` to migrate it"
    )
