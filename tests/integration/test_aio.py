"""The reply app's PostgreSQL connections (storage.aio): the plan sees the locked read and its
writes are committed together, nothing is written when the plan refuses or fails, a connection
broken by a restart is replaced."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import asyncpg
import psycopg
import pytest

from storage.aio import LinkDatabase
from storage.plain import Write, postgresql_uri
from tests.conftest import PgScratch, _sqlalchemy_pg_url

pytestmark = pytest.mark.postgres
COUNT_KINDS = "SELECT count(*) FROM kinds"
LOCK_KINDS = "SELECT name FROM kinds WHERE name <> %s FOR UPDATE"
ADD_KIND = "INSERT INTO kinds (name, meaning) VALUES (%s, %s)"


@pytest.fixture
def pg_url(pg_scratch: PgScratch) -> Iterator[str]:
    pg_scratch.reset()
    yield _sqlalchemy_pg_url(pg_scratch.name)


def _with_links(url: str, work: Any) -> Any:
    async def run() -> Any:
        links = LinkDatabase(url)
        await links.open(wait=True)  # none still connecting when a test terminates them
        try:
            return await work(links)
        finally:
            await links.close()

    return asyncio.run(run())


def _kinds(url: str) -> int:
    with psycopg.connect(postgresql_uri(url)) as connection:
        return connection.execute(COUNT_KINDS).fetchone()[0]


def _add_kind(name: str) -> Any:
    def plan(found: list[tuple[Any, ...]]) -> tuple[list[Write], int]:
        return [(ADD_KIND, (name, "a test kind"))], len(found)

    return plan


def test_the_plan_sees_the_locked_read_and_its_writes_are_committed(pg_url: str) -> None:
    before = _kinds(pg_url)
    seen = _with_links(
        pg_url, lambda links: links.read_then_write(LOCK_KINDS, ("none",), _add_kind("test"))
    )
    assert seen == before and _kinds(pg_url) == before + 1


def test_a_plan_that_refuses_or_fails_writes_nothing(pg_url: str) -> None:
    before = _kinds(pg_url)

    def fails(_found: list[tuple[Any, ...]]) -> tuple[list[Write], int]:
        raise ValueError("the answer is refused")

    async def work(links: LinkDatabase) -> None:
        assert await links.read_then_write(LOCK_KINDS, ("none",), lambda _found: None) is None
        with pytest.raises(ValueError, match="refused"):
            await links.read_then_write(LOCK_KINDS, ("none",), fails)
        assert (await links.rows(COUNT_KINDS))[0][0] == before  # the connections still work

    _with_links(pg_url, work)
    assert _kinds(pg_url) == before


def test_a_failing_write_rolls_back_the_writes_before_it(pg_url: str) -> None:
    before = _kinds(pg_url)

    def twice(_found: list[tuple[Any, ...]]) -> tuple[list[Write], None]:
        row = ("twice", "a test kind")
        return [(ADD_KIND, row), (ADD_KIND, row)], None

    async def work(links: LinkDatabase) -> None:
        with pytest.raises(asyncpg.UniqueViolationError):
            await links.read_then_write(LOCK_KINDS, ("none",), twice)

    _with_links(pg_url, work)
    assert _kinds(pg_url) == before


def _terminate_the_others(url: str) -> None:
    with psycopg.connect(postgresql_uri(url), autocommit=True) as connection:
        connection.execute(
            "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity"  # waits for each
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


def test_connections_broken_by_a_restart_are_replaced(pg_url: str) -> None:
    """PostgreSQL restarted (here: every connection of the pool terminated) between requests:
    the next read works, and so does the next answer."""
    before = _kinds(pg_url)

    async def read(links: LinkDatabase) -> int:
        await links.rows(COUNT_KINDS)
        _terminate_the_others(pg_url)
        return (await links.rows(COUNT_KINDS))[0][0]

    async def answer(links: LinkDatabase) -> int:
        await links.rows(COUNT_KINDS)
        _terminate_the_others(pg_url)
        return await links.read_then_write(LOCK_KINDS, ("none",), _add_kind("after"))

    assert _with_links(pg_url, read) == before
    assert _with_links(pg_url, answer) == before
    assert _kinds(pg_url) == before + 1


def test_only_a_postgresql_url_makes_link_connections(tmp_path: Any) -> None:
    with pytest.raises(ValueError, match="not a PostgreSQL URL"):
        LinkDatabase(f"sqlite:///{tmp_path / 'accord.db'}")


def test_a_connection_terminated_while_in_use_is_replaced_before_writing(pg_url: str) -> None:
    """The server ends the connection under a request's first statement (as when PostgreSQL is
    restarted): the request runs again on a new connection, once."""
    attempts: list[int] = []

    async def work(connection: Any, _attempt: Any) -> int:
        attempts.append(1)
        if len(attempts) == 1:
            await connection.execute("SELECT pg_terminate_backend(pg_backend_pid())")
        return await connection.fetchval("SELECT 41 + 1")

    assert _with_links(pg_url, lambda links: links._on_a_connection(work)) == 42
    assert len(attempts) == 2
