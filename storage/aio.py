"""PostgreSQL for the reply app's link routes: asynchronous connections (asyncpg).

A member's page is one query and an answer one short transaction. Sent from the event loop one
statement at a time through the synchronous driver, each statement kept the whole app waiting
for PostgreSQL (13 round trips an answer, bench/RESULTS.md). Here the loop serves other requests
while a statement is out, each connection keeps its statements prepared, and an answer's writes
go as one statement: BEGIN, the locked read, the writes, COMMIT. asyncpg rather than psycopg's
asynchronous connections: pipelined into two round trips, psycopg still cost the app more CPU an
answer than these four (bench/RESULTS.md, answers).

asyncpg is imported when a `LinkDatabase` opens, not with this module.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from storage.plain import Write, fetched, numbered, one_statement, postgresql_uri, stored_values

if TYPE_CHECKING:
    from asyncpg import Connection, Pool

T = TypeVar("T")
POOL_SIZE = 8  # connections: a request holds one only while its statements are out
Rows = list[tuple[Any, ...]]


class LinkDatabase:
    """A pool of asynchronous PostgreSQL connections."""

    def __init__(self, url: str, *, server_settings: Mapping[str, str] | None = None) -> None:
        """`server_settings`: each connection's session settings (`lock_timeout`, ...)."""
        uri = postgresql_uri(url)
        if uri is None:
            raise ValueError("not a PostgreSQL URL that storage.plain opens")
        self._uri = uri
        self._server_settings = dict(server_settings or {})
        self._pool: Pool | None = None

    async def open(self, *, wait: bool = False) -> None:
        """Make the pool; connections open as requests need them (unless `wait`: all now)."""
        import asyncpg

        self._pool = await asyncpg.create_pool(
            self._uri,
            min_size=POOL_SIZE if wait else 0,
            max_size=POOL_SIZE,
            reset=_nothing_to_reset,
            server_settings=self._server_settings,
        )

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()

    async def rows(self, sql: str, *params: Any) -> Rows:
        """One query, in a transaction of its own."""

        async def query(connection: Connection, _attempt: _Attempt) -> Rows:
            return await fetched(connection, sql, *params)

        return await self._on_a_connection(query)

    async def read_then_write(
        self,
        sql: str,
        params: Sequence[Any],
        plan: Callable[[Rows], tuple[list[Write], T] | None],
    ) -> T | None:
        """One transaction: the query (`sql` locks what the writes depend on), then `plan`'s
        writes for its rows as `one_statement`, their values `stored`. Returns what `plan` gave
        with its writes; when it gives None (or no writes), or raises, nothing is written."""

        async def transaction(connection: Connection, attempt: _Attempt) -> T | None:
            async with connection.transaction():
                planned = plan(await fetched(connection, sql, *params))
                if planned is None:
                    return None
                writes, result = planned
                if not writes:
                    return result
                attempt.writing = True
                statement, values = one_statement(writes)
                await connection.execute(numbered(statement), *stored_values(values, sqlite=False))
                return result

        return await self._on_a_connection(transaction)

    async def _on_a_connection(self, work: Callable[[Connection, _Attempt], Awaitable[T]]) -> T:
        """`work` on a pooled connection; if that connection turns out broken before anything
        was sent to be written (PostgreSQL restarted since it was opened), `work` runs once more
        on a new one."""
        import asyncpg

        if self._pool is None:
            raise RuntimeError("LinkDatabase.open() was not awaited")
        attempt = _Attempt()
        try:
            async with self._pool.acquire() as connection:
                return await work(connection, attempt)
        except (asyncpg.PostgresConnectionError, asyncpg.InterfaceError, OSError):
            # lost (a terminated backend comes out as ConnectionDoesNotExistError), or closed
            if attempt.writing:
                raise
        async with self._pool.acquire() as connection:
            return await work(connection, _Attempt())


async def _nothing_to_reset(_connection: Connection) -> None:
    """Returned to the pool, a connection is left as it is: its statements set no session state
    (no SET, LISTEN, advisory lock or cursor), and asyncpg's default reset costs a round trip a
    request. asyncpg still rolls back a transaction left open."""


class _Attempt:
    """Whether an attempt has sent writes (it must not be run again)."""

    writing = False
