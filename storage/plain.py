"""Reading the database through its driver alone, for commands that must start fast.

`accord rounds status` only reads, and importing SQLAlchemy is most of its start-up (about 0.3 s
of CPU on the reference machine, see bench/RESULTS.md). So it reads through a connection opened
here with a driver alone: sqlite3 for `sqlite:///<file>`, asyncpg for
`postgresql[+psycopg]://...` (asyncpg reads the same URL, PG* environment variables and
~/.pgpass as libpq does, not service files). Any other URL (a query string, another driver,
in-memory SQLite) is opened through SQLAlchemy as everywhere else, so nothing this module does
not understand is guessed at. The same queries also run inside a unit of work
(`Reader.of_session`, a DB-API connection), which is how the commands that move a round build
the same document.

Nothing here imports SQLAlchemy at module level.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from statemachines.errors import AccordError

if TYPE_CHECKING:
    from asyncio import AbstractEventLoop

SQLITE_BUSY_TIMEOUT_MS = 60_000
SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy's DateTime keeps a moment in SQLite

# A statement that returns no rows, with its values: `%s` placeholders, values as `stored` takes.
Write = tuple[str, tuple[Any, ...]]
_SQLITE_PREFIXES = ("sqlite:///", "sqlite+pysqlite:///")
_POSTGRESQL_SCHEMES = ("postgresql", "postgresql+psycopg")


class Reader:
    """Runs SQL written with `%s` placeholders on a DB-API connection, in its transaction."""

    def __init__(
        self, dbapi_connection: Any, where: str = "", errors: tuple[type[Exception], ...] = ()
    ) -> None:
        self.connection = dbapi_connection
        self.where = where  # the database, for messages (never a password)
        self.errors = errors  # the driver's errors, for `revision`
        self._qmark = isinstance(dbapi_connection, sqlite3.Connection)
        self._as_sqlalchemy = False  # raise driver errors as SQLAlchemy's (`of_connection`)

    @classmethod
    def of_session(cls, session: Any) -> Reader:
        """The connection of an SQLAlchemy session, inside the session's transaction."""
        return cls.of_connection(session.connection())

    @classmethod
    def of_connection(cls, connection: Any) -> Reader:
        """The driver's connection under an SQLAlchemy connection, inside its transaction; its
        errors come out as SQLAlchemy's, as from a statement SQLAlchemy ran there."""
        reader = cls(connection.connection.dbapi_connection)
        reader._as_sqlalchemy = True
        return reader

    @property
    def is_sqlite(self) -> bool:
        return self._qmark

    def rows(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        return self._run(sql, params, fetch=True)

    def execute(self, sql: str, *params: Any) -> None:
        """Run a statement that returns no rows (an INSERT or UPDATE of plain values)."""
        self._run(sql, params, fetch=False)

    def write(self, statements: Sequence[Write]) -> None:
        """Run statements that return no rows, in order, their values `stored`; on PostgreSQL
        sent together (psycopg's pipeline mode: one round trip for all of them)."""
        if self._qmark:
            for sql, params in statements:
                self._run(sql, stored_values(params, sqlite=True), fetch=False)
            return
        with self._as_sqlalchemy_errors(statements[0][0] if statements else "", ()):
            cursor = self.connection.cursor()
            try:
                with self.connection.pipeline():
                    for sql, params in statements:
                        cursor.execute(sql, stored_values(params, sqlite=False))
            finally:
                cursor.close()

    def _run(self, sql: str, params: tuple[Any, ...], *, fetch: bool) -> list[tuple[Any, ...]]:
        if self._qmark:
            sql = sql.replace("%s", "?")
        with self._as_sqlalchemy_errors(sql, params):
            cursor = self.connection.cursor()
            try:
                cursor.execute(sql, params)
                return list(cursor.fetchall()) if fetch else []
            finally:
                cursor.close()

    @contextmanager
    def _as_sqlalchemy_errors(self, sql: str, params: tuple[Any, ...]) -> Iterator[None]:
        """A driver error comes out as SQLAlchemy's when this reader works inside SQLAlchemy's
        transaction (`of_connection`), as from a statement SQLAlchemy ran."""
        try:
            yield
        except Exception as exc:
            if self._as_sqlalchemy and isinstance(exc, self._driver_errors()):
                from sqlalchemy.exc import DBAPIError

                raise DBAPIError.instance(sql, params, exc, self._driver_errors()) from exc
            raise

    def _driver_errors(self) -> type[Exception]:
        if self._qmark:
            return sqlite3.Error
        import psycopg  # the only other driver a Reader is given a connection of, by SQLAlchemy

        return psycopg.Error

    def revision(self) -> str | None:
        """The schema revision Alembic recorded; None when there is none (no accord database)."""
        try:
            found = self.rows("SELECT version_num FROM alembic_version")
        except self.errors:
            return None
        return str(found[0][0]) if found else None


def stored(value: Any, *, sqlite: bool) -> Any:
    """A value as accord's column types store it, for a statement sent to the driver: an aware
    datetime as naive UTC (`tables.UTCDateTime`; SQLite keeps SQLAlchemy's text form of it), a
    dict or list as JSON text (`JSON`); anything else as it is."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        naive = value.astimezone(UTC).replace(tzinfo=None)
        return naive.strftime(SQLITE_TIME) if sqlite else naive
    if isinstance(value, dict | list):
        return json.dumps(value)
    return value


def stored_values(values: Sequence[Any], *, sqlite: bool) -> tuple[Any, ...]:
    return tuple(stored(value, sqlite=sqlite) for value in values)


def one_statement(writes: Sequence[Write]) -> Write:
    """PostgreSQL: statements that return no rows as one, each a data-modifying part of a WITH,
    so the driver sends and PostgreSQL parses one statement instead of several. All parts see
    the database as it was before the statement: none may depend on another's change, nor change
    a row another one changes (an answer's writes each change a table of their own)."""
    if len(writes) == 1:
        return writes[0]
    parts = ", ".join(f"w{number} AS ({sql})" for number, (sql, _values) in enumerate(writes))
    return f"WITH {parts} SELECT 1", tuple(value for _sql, values in writes for value in values)


def utc(value: Any) -> datetime | None:
    """A UTC datetime column as read from the driver (SQLite keeps naive ISO text)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC)


def sqlite_path(url: str) -> Path | None:
    """The file of a plain SQLite URL (`sqlite:///<file>`, nothing quoted, no query string)."""
    for prefix in _SQLITE_PREFIXES:
        if url.startswith(prefix):
            database = url[len(prefix) :]
            if database and database != ":memory:" and not any(c in database for c in "?%#"):
                return Path(database)
    return None


def _postgresql(url: str) -> tuple[str, str] | None:
    """(the driver's URI, the URL without its password) of a plain PostgreSQL URL, else None."""
    parts = urlsplit(url)
    if parts.scheme not in _POSTGRESQL_SCHEMES or parts.query or parts.fragment:
        return None
    shown = parts.netloc
    if parts.password is not None:
        user, _, host = shown.rpartition("@")
        shown = f"{user.partition(':')[0]}:***@{host}"
    return (
        urlunsplit(("postgresql", parts.netloc, parts.path, "", "")),
        urlunsplit((parts.scheme, shown, parts.path, "", "")),
    )


def postgresql_uri(url: str) -> str | None:
    """The driver's URI (libpq's form) of a plain PostgreSQL URL, else None."""
    found = _postgresql(url)
    return found[0] if found else None


def handles(url: str) -> bool:
    """Whether `connect` opens this URL itself (else open it through SQLAlchemy)."""
    return sqlite_path(url) is not None or _postgresql(url) is not None


@contextmanager
def connect(url: str) -> Iterator[Reader]:
    """A read-only transaction straight from the driver, for a URL that `handles` accepts. A
    SQLite file must already exist (connecting would create an empty one): check first."""
    path = sqlite_path(url)
    if path is not None:
        connection = sqlite3.connect(
            path, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000, isolation_level=None
        )
        try:
            connection.execute("BEGIN DEFERRED")  # one snapshot for every query
            yield Reader(connection, str(path), (sqlite3.Error,))
        finally:
            connection.close()
        return
    postgresql = _postgresql(url)
    if postgresql is None:
        raise ValueError("not a URL storage.plain opens; use SQLAlchemy")
    with _asyncpg(*postgresql) as reader:
        yield reader


class _AsyncpgReader(Reader):
    """A Reader on an asyncpg connection, each query run to completion on its event loop."""

    def __init__(self, connection: Any, loop: AbstractEventLoop, where: str) -> None:
        import asyncpg

        super().__init__(connection, where, (asyncpg.PostgresError,))
        self._loop = loop

    def rows(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        return self._loop.run_until_complete(fetched(self.connection, sql, *params))


async def fetched(connection: Any, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """The rows of `sql` (with `%s` placeholders) on an asyncpg connection, as tuples."""
    return [tuple(record) for record in await connection.fetch(numbered(sql), *params)]


@lru_cache(maxsize=256)
def numbered(sql: str) -> str:
    """`%s` placeholders as asyncpg's `$1`, `$2`, ..."""
    first, *rest = sql.split("%s")
    return first + "".join(f"${n}{part}" for n, part in enumerate(rest, start=1))


@contextmanager
def _asyncpg(uri: str, where: str) -> Iterator[Reader]:
    """A read-only transaction (one snapshot for every query) through asyncpg. Not psycopg, which
    the rest of accord uses through SQLAlchemy: importing it costs about twice as much (0.12-0.17
    s against 0.05-0.09 s once typer and pydantic are in, bench/RESULTS.md section 3), and this
    is what `accord rounds status` waits for on PostgreSQL."""
    import asyncio

    import asyncpg

    loop = asyncio.new_event_loop()
    try:
        try:
            connection = loop.run_until_complete(asyncpg.connect(uri))
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise AccordError(f"cannot open the database at {where}: {exc}") from None
        try:
            transaction = connection.transaction(isolation="repeatable_read", readonly=True)
            loop.run_until_complete(transaction.start())
            yield _AsyncpgReader(connection, loop, where)
        finally:
            loop.run_until_complete(connection.close())
    finally:
        loop.close()
