"""Is the database ready for accord? A check light enough for any command's start-up: SQLAlchemy
Core and one query, no ORM mapping (`accord rounds status` uses it without the unit of work)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine

from statemachines.errors import AccordError
from storage.db import sqlite_file
from storage.migrate import SCHEMA_HEAD, current_revision


def safe_url(url: object) -> str:
    """The database URL without its password, for messages."""
    return (
        url.render_as_string(hide_password=True) if hasattr(url, "render_as_string") else str(url)
    )


def check_ready(url: str, engine_for: Callable[[], Engine]) -> None:
    """Refuse to work on a database that `accord init` has not created or migrated. The engine
    is made only once a SQLite file is known to exist (making one creates its folder)."""
    path = sqlite_file(url)
    if path is not None and not path.exists():
        raise AccordError(f"no accord database at {path}: run `accord init` first")
    engine = engine_for()
    current = current_revision(engine)
    if current == SCHEMA_HEAD:
        return
    if current is None:
        raise AccordError(f"no accord database at {safe_url(engine.url)}: run `accord init` first")
    raise AccordError(
        f"the database schema is {current}, this accord needs {SCHEMA_HEAD}: "
        "run `accord init` to migrate it"
    )
