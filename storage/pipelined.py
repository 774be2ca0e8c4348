"""PostgreSQL for the reply app's link routes: asynchronous connections, statements pipelined.

A member's page is one query and an answer one short transaction. Sent from the event loop one
statement at a time through the synchronous driver, each statement kept the whole app waiting
for PostgreSQL (13 round trips an answer, bench/RESULTS.md). Here the loop serves other requests
while a query is out, and an answer's statements go out together (psycopg's pipeline mode): BEGIN
with the locked read, then its writes as one statement with COMMIT, two round trips in all.

psycopg and its pool are imported when a `LinkDatabase` is made, not with this module.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from storage.plain import Write, one_statement, postgresql_uri, stored_values

if TYPE_CHECKING:
    from psycopg import AsyncConnection

T = TypeVar("T")
POOL_SIZE = 8  # connections: a request holds one only while its statements are out
Rows = list[tuple[Any, ...]]


class LinkDatabase:
    """A pool of asynchronous PostgreSQL connections (autocommit: transactions are explicit)."""

    def __init__(self, url: str) -> None:
        from psycopg_pool import AsyncConnectionPool

        uri = postgresql_uri(url)
        if uri is None:
            raise ValueError("not a PostgreSQL URL that storage.plain opens")
        self._pool = AsyncConnectionPool(
            uri,
            min_size=POOL_SIZE,
            max_size=POOL_SIZE,
            open=False,
            kwargs={"autocommit": True},
        )

    async def open(self, *, wait: bool = False) -> None:
        """Start connecting; a request waits for a connection, not the app's start-up (unless
        `wait`: until every connection is open)."""
        await self._pool.open(wait=wait)

    async def close(self) -> None:
        await self._pool.close()

    async def rows(self, sql: str, *params: Any) -> Rows:
        """One query, in a transaction of its own."""

        async def query(connection: AsyncConnection[Any], _attempt: _Attempt) -> Rows:
            cursor = await connection.execute(sql, params)
            return await cursor.fetchall()

        return await self._on_a_connection(query)

    async def read_then_write(
        self,
        sql: str,
        params: Sequence[Any],
        plan: Callable[[Rows], tuple[list[Write], T] | None],
    ) -> T | None:
        """One transaction in two round trips: BEGIN and the query (`sql` locks what the writes
        depend on), then `plan`'s writes for its rows as `one_statement`, their values `stored`,
        and COMMIT. Returns what `plan` gave with its writes; when it gives None, or raises,
        nothing is written."""

        async def transaction(connection: AsyncConnection[Any], attempt: _Attempt) -> T | None:
            try:
                cursor = connection.cursor()  # one for the transaction: a cursor costs its setup
                async with connection.pipeline():
                    await cursor.execute("BEGIN")
                    await cursor.execute(sql, tuple(params))
                    found = await cursor.fetchall()
                planned = plan(found)
                if planned is None:
                    return None
                writes, result = planned
                attempt.writing = True
                statement, values = one_statement(writes)
                async with connection.pipeline():
                    await cursor.execute(statement, stored_values(values, sqlite=False))
                    await cursor.execute("COMMIT")
                return result
            finally:
                if not connection.broken:
                    await connection.rollback()  # returns at once after COMMIT

        return await self._on_a_connection(transaction)

    async def _on_a_connection(
        self, work: Callable[[AsyncConnection[Any], _Attempt], Awaitable[T]]
    ) -> T:
        """`work` on a pooled connection; if that connection turns out broken before anything
        was sent to be written (PostgreSQL restarted since it was opened), the pool replaces its
        broken connections and `work` runs once more."""
        import psycopg

        attempt, connection = _Attempt(), None
        try:
            async with self._pool.connection() as connection:
                return await work(connection, attempt)
        except psycopg.OperationalError:
            if attempt.writing or connection is None or not connection.broken:
                raise
        await self._pool.check()
        async with self._pool.connection() as connection:
            return await work(connection, _Attempt())


class _Attempt:
    """Whether an attempt has sent writes (it must not be run again)."""

    writing = False
