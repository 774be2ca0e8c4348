"""Shared fixtures: a migrated database on SQLite and on the real PostgreSQL, settings, the CLI.

Each test gets an empty migrated database: a copy of a migrated SQLite file, or the session's
PostgreSQL database emptied back to what `accord init` leaves (about 30 ms, where a database made
from a template and dropped again costs 0.6-1.2 s a test). A test that changes the schema itself
is marked `own_database` and gets a database of its own, made from the migrated template.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

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


# The files whose tests use the session's Prefect server (`prefect_server`).
SHARE_THE_PREFECT_SERVER = ("tests/flows/", "tests/e2e/test_worker_postgres.py")


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """The two workers of pyproject's addopts (`-n 2`) take whole files, so a file's module
    fixtures start once, and every file of the session's Prefect server goes to one worker, so
    one server starts. (xdist's own `--dist loadgroup` marks do not reach this pytest.)"""
    from xdist.scheduler import LoadFileScheduling

    class FilesAndTheServer(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return "prefect-server" if path.startswith(SHARE_THE_PREFECT_SERVER) else path

    return FilesAndTheServer(config, log)


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


class PgScratch:
    """A migrated PostgreSQL database that `reset` empties back to what `accord init` leaves:
    every row deleted (children first), the seeded rows written again, every sequence restarted.
    Connections a previous test left open (a killed command's, a pool's) are ended first."""

    def __init__(self, name: str) -> None:
        import psycopg
        from psycopg import sql

        from storage import tables as t

        self.name = name
        self.url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
        with psycopg.connect(self.url, autocommit=True) as conn:
            deletes = [
                sql.SQL("DELETE FROM {}").format(sql.Identifier(table.name))
                for table in reversed(t.metadata.sorted_tables)
            ]
            seeds = [self._insert(conn, table.name) for table in t.metadata.sorted_tables]
            restarts = [
                sql.SQL("SELECT setval({}, 1, false)").format(sql.Literal(sequence))
                for (sequence,) in conn.execute(
                    "SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'"
                )
            ]
            parts = deletes + [s for s in seeds if s is not None] + restarts
            self.script = sql.SQL(";\n").join(parts).as_string(conn)

    @staticmethod
    def _insert(conn: Any, table: str) -> Any:
        """The INSERT that writes `table`'s rows as they are now (None: it has none)."""
        from psycopg import sql

        cursor = conn.execute(sql.SQL("SELECT * FROM {}").format(sql.Identifier(table)))
        rows = cursor.fetchall()
        if not rows:
            return None
        columns = sql.SQL(", ").join(sql.Identifier(d.name) for d in cursor.description)
        values = sql.SQL(", ").join(
            sql.SQL("({})").format(sql.SQL(", ").join(map(sql.Literal, row))) for row in rows
        )
        return sql.SQL("INSERT INTO {} ({}) VALUES {}").format(
            sql.Identifier(table), columns, values
        )

    def reset(self) -> None:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            with conn.transaction():
                conn.execute(self.script)


@pytest.fixture(scope="session")
def pg_scratch(pg_template: str) -> Iterator[PgScratch]:
    name = f"accord_s_{uuid.uuid4().hex[:12]}"
    _pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"')
    yield PgScratch(name)
    _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def sqlite_copy(template: Path, tmp_path: Path) -> str:
    """The URL of a copy of the migrated SQLite template in the test's home folder."""
    target = tmp_path / "home" / "accord.db"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(template, target)
    return f"sqlite:///{target}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database URL, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        yield sqlite_copy(request.getfixturevalue("sqlite_template"), tmp_path)
        return
    if request.node.get_closest_marker("own_database") is None:
        scratch: PgScratch = request.getfixturevalue("pg_scratch")
        scratch.reset()
        yield _sqlalchemy_pg_url(scratch.name)
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
    # A developer's Prefect server would turn the moving commands into flow runs on it.
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.delenv("PREFECT_UI_URL", raising=False)  # nor its UI (the console's links)
    # Commands run here with no mail server retry as they would, without 3.5 s of waiting each
    # (tests of the retries themselves pass their own backoff).
    monkeypatch.setattr("accord.mail.smtp.BACKOFF_S", 0.05)
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


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One real `prefect server start` for the session, on PostgreSQL (its own database), as in
    production: the flow tests run against it and the worker test deploys to it. Its API URL.

    Starting a server costs 15-30 s (10 of them migrating its database), so the flow tests share
    this one instead of entering `prefect_test_harness`, which would start a second. The
    scheduler is off: the worker test's deployments must not start runs by themselves."""
    import signal
    import sys

    from tests.e2e.processes import Process, clean_env, free_port, healthy, wait_for

    name = f"prefect_{uuid.uuid4().hex[:10]}"
    _pg_admin(f'CREATE DATABASE "{name}"')
    database = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    port = free_port()
    folder = tmp_path_factory.mktemp("prefect-server")
    command = ["server", "start", "--host", "127.0.0.1", "--port", str(port), "--no-ui"]
    server = Process.start(
        [sys.executable, "-m", "prefect", *command],
        clean_env(
            PREFECT_HOME=str(folder),
            PREFECT_API_DATABASE_CONNECTION_URL=f"{database}/{name}",
            PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED="false",
        ),
        folder,
    )
    api = f"http://127.0.0.1:{port}/api"
    try:
        wait_for(lambda: healthy(f"{api}/health"), "the Prefect server", 180)
        yield api
    finally:
        server.stop(signal.SIGTERM)
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """pytest-playwright on Debian's chromium (no browser download is possible here or in CI)."""
    return {
        **browser_type_launch_args,
        "executable_path": "/usr/bin/chromium",
        "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    }


# pytest-playwright keeps one Playwright for the session; its synchronous API leaves an event
# loop running in the worker until it stops, and every later test of that worker that calls
# asyncio.run fails. A Playwright (and its browser) per module ends with the module instead.
@pytest.fixture(scope="module")
def playwright() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    started = sync_playwright().start()
    yield started
    started.stop()


@pytest.fixture(scope="module")
def browser_type(playwright: Any, browser_name: str) -> Any:
    return getattr(playwright, browser_name)


@pytest.fixture(scope="module")
def launch_browser(browser_type_launch_args: dict[str, Any], browser_type: Any) -> Any:
    def launch(**kwargs: Any) -> Any:
        return browser_type.launch(**{**browser_type_launch_args, **kwargs})

    return launch


@pytest.fixture(scope="module")
def browser(launch_browser: Any) -> Iterator[Any]:
    opened = launch_browser()
    yield opened
    opened.close()


@pytest.fixture(scope="module")
def browser_context_args() -> dict[str, Any]:
    """No device, base URL or video (pytest-playwright's own reads them from a session-wide
    Playwright)."""
    return {}
