"""Create or upgrade the database to the newest schema with the Alembic migrations shipped here.

Alembic is imported only to migrate: checking that a database is current is one cheap query
against `SCHEMA_HEAD`, which a test keeps equal to the newest migration. Importing this module
imports neither Alembic nor SQLAlchemy (`accord rounds status` reads `SCHEMA_HEAD` without them).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy import Engine

MIGRATIONS = Path(__file__).parent / "migrations"
SCHEMA_HEAD = "0008"


def alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str:
    """The newest migration, read from the migration scripts themselves."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError, ProgrammingError

    try:
        with engine.connect().execution_options(readonly=True) as connection:
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except (OperationalError, ProgrammingError):
        return None


def upgrade(engine: Engine, revision: str = "head") -> tuple[str | None, str]:
    """Upgrade in place; returns (revision before, revision after)."""
    from alembic import command

    before = current_revision(engine)
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
    return before, current_revision(engine) or ""
