"""Shared fixtures: a migrated database on SQLite and on the real PostgreSQL, settings, the CLI.

Each test gets its own database: a copy of a migrated SQLite file, or a PostgreSQL database made
from a migrated template (fast: CREATE DATABASE ... TEMPLATE).
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

PG_ADMIN_URL = os.environ.get("ACCORD_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
FIXTURES = Path(__file__).parent / "fixtures"
SAMPLE_REPORT = Path(__file__).parents[1] / "accord" / "samples" / "icc_advisory_group_2023-07.txt"
FIXED_NOW = datetime(2023, 10, 1, 9, 0, tzinfo=UTC)


def _pg_admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(sql)


def _sqlalchemy_pg_url(name: str) -> str:
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    return f"{base}/{name}"


def _migrate(url: str) -> None:
    """What `accord init` does to a database: migrate, seed the default kinds."""
    from accord.services.setup import seed_kinds
    from storage.migrate import upgrade
    from storage.uow import Database

    db = Database(url)
    try:
        upgrade(db.engine)
        seed_kinds(db)
    finally:
        db.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "accord.db"
    _migrate(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    name = f"accord_tpl_{uuid.uuid4().hex[:10]}"
    try:
        _pg_admin(f'CREATE DATABASE "{name}"')
    except Exception as exc:  # pragma: no cover - CI always has PostgreSQL
        pytest.fail(f"PostgreSQL at {PG_ADMIN_URL} is needed for these tests: {exc}")
    _migrate(_sqlalchemy_pg_url(name))
    yield name
    _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A freshly migrated, empty database URL, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        target = tmp_path / "home" / "accord.db"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(request.getfixturevalue("sqlite_template"), target)
        yield f"sqlite:///{target}"
        return
    template = request.getfixturevalue("pg_template")
    name = f"accord_t_{uuid.uuid4().hex[:12]}"
    _pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    yield _sqlalchemy_pg_url(name)
    _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def accord_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, db_url: str) -> dict[str, str]:
    """Environment for accord commands: its own home, database and a fixed clock."""
    env = {
        "ACCORD_HOME": str(tmp_path / "home"),
        "ACCORD_DATABASE_URL": db_url,
        "ACCORD_NOW": FIXED_NOW.isoformat(),
        "ACCORD_ENV": "development",
    }
    for key in list(os.environ):
        if key.startswith("ACCORD_"):
            monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(tmp_path)
    return env


@pytest.fixture
def ctx(accord_env: dict[str, str]) -> Iterator[object]:
    """A service context on the test database (already initialised like `accord init`)."""
    from accord.config import load_settings
    from accord.services.context import Context

    context = Context(load_settings())
    yield context
    context.db.dispose()
