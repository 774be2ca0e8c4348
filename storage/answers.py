"""Answers' storage: the one read an answer is planned from, its writes, and `AnswerStore`.

An answer is one transaction: the member's page with the round and the decision record's head
locked, then the writes the service planned from that row (`accord.services.answering`): the
recipient, the history, the tally, the decision record, the receipt, and when the answer closes
the round, the close as well. Both adapters run the same read and the same writes:

- `SyncAnswerStore`: a unit of work (SQLite; PostgreSQL through SQLAlchemy and psycopg), its
  blocking calls run by a `Runner`: inline for the CLI and the mail poller, in worker threads
  for the reply app, so that a wait for a lock never holds up its event loop;
- `AsyncpgAnswerStore`: the reply app's asynchronous PostgreSQL connections (`storage.aio`).

The SQL is written with `%s` placeholders and run through the driver (`storage.plain.Reader`):
SQLAlchemy's statement machinery cost more than these statements (bench/RESULTS.md, answers).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, NamedTuple, Protocol, TypeVar, cast

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from statemachines.errors import AccordError
from statemachines.rounds import CLOSED, TALLY_KEYS, Tally
from storage.aio import LinkDatabase
from storage.kinds import KIND_MEANING
from storage.plain import Reader, Write, utc
from storage.uow import Database, UnitOfWork

T = TypeVar("T")

# The reply app's PostgreSQL sessions wait at most this long for a lock, and a statement runs at
# most this long: a request then gets "please try again" (`DatabaseBusy`) instead of hanging.
LOCK_TIMEOUT = "2s"
STATEMENT_TIMEOUT = "4s"
SESSION_LIMITS = {"lock_timeout": LOCK_TIMEOUT, "statement_timeout": STATEMENT_TIMEOUT}

# Everything the page shows, in one query: the round, its statement and the version the round
# asks about, the member and their current answer, the meaning of the kind (in their language);
# and what recording an answer (or closing the round with it) needs besides.
_PAGE_COLUMNS = f"""
rounds.id, rounds.statement_id, rounds.outcome, rounds.tally_endorse, rounds.tally_decline,
rounds.tally_abstain, rounds.tally_pending, rounds.mode, rounds.rule, rounds.deadline,
rounds.state, rounds.text_sha256, statements.title, statements.kind, statements.political,
statement_versions.body, statement_versions.number, {KIND_MEANING}, members.name, members.email,
members.timezone, recipients.id, recipients.decision, recipients.comment, recipients.decided_at,
rounds.version_number, statements.state"""
_PAGE_FROM = """
FROM rounds
JOIN statements ON statements.id = rounds.statement_id
JOIN members ON members.id = %s
LEFT OUTER JOIN statement_versions ON statement_versions.statement_id = statements.id
     AND statement_versions.sha256 = rounds.text_sha256
LEFT OUTER JOIN recipients ON recipients.round_id = rounds.id AND recipients.member_id = members.id
LEFT OUTER JOIN kinds ON kinds.name = statements.kind"""
# A text that came back has two versions with its hash: the first is the one shown, as ever.
_PAGE_ORDER = "ORDER BY statement_versions.number"
PAGE = f"SELECT {_PAGE_COLUMNS} {_PAGE_FROM} WHERE rounds.id = %s {_PAGE_ORDER}"
# The decision record's head, locked, and the id the new decision gets (SQLite's writer holds the
# whole database, so the next id is the highest plus one, as SQLite itself would choose).
_HEAD_COLUMNS = {
    "sqlite": "audit_head.seq, audit_head.hash, (SELECT COALESCE(MAX(id), 0) + 1 FROM decisions)",
    "postgresql": (
        "audit_head.seq, audit_head.hash, nextval(pg_get_serial_sequence('decisions', 'id'))"
    ),
}
# To answer: the same row with the round locked, and where the answer's writes go (AnswerHead).
ANSWER_PAGE = {
    dialect: f"SELECT {_PAGE_COLUMNS}, {head} {_PAGE_FROM} CROSS JOIN audit_head"
    f" WHERE rounds.id = %s AND audit_head.id = 1 {_PAGE_ORDER}"
    + (" FOR UPDATE OF rounds, audit_head" if dialect == "postgresql" else "")
    for dialect, head in _HEAD_COLUMNS.items()
}

_SET_DECISION = (
    "UPDATE recipients SET decision = %s, decision_sha256 = %s, comment = %s, decided_at = %s "
    "WHERE id = %s"
)
_ADD_DECISION = (
    "INSERT INTO decisions (id, round_id, member_id, decision, comment, channel, text_sha256, "
    "recorded_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
)
_MOVE_TALLY = (
    "UPDATE rounds SET "
    + "".join(f"tally_{key} = %s, " for key in TALLY_KEYS)
    + "flagged_political = flagged_political OR %s, version = version + 1, updated_at = %s"
)
_AND_CLOSE = ", state = %s, outcome = %s, close_reason = %s, closed_at = %s"
_WHERE_ROUND = " WHERE id = %s"
_CLOSE_STATEMENT = (
    "UPDATE statements SET state = %s, version = version + 1, updated_at = %s WHERE id = %s"
)
_ENDORSE_STATEMENT = (
    "UPDATE statements SET state = %s, endorsed_version = %s, version = version + 1, "
    "updated_at = %s WHERE id = %s"
)


class PageRow(NamedTuple):
    id: int
    statement_id: int
    outcome: str | None
    tally_endorse: int
    tally_decline: int
    tally_abstain: int
    tally_pending: int
    mode: str
    rule: str
    deadline: datetime
    state: str
    text_sha256: str
    title: str
    kind: str
    political: bool
    body: str | None
    number: int | None
    meaning: str | None
    name: str
    email: str
    timezone: str
    recipient_id: int | None
    answered: str | None
    comment: str | None
    decided_at: datetime | None
    version_number: int
    statement_state: str


class AnswerHead(NamedTuple):
    """Where an answer's writes go: the decision record's head and the new decision's id."""

    seq: int
    hash: str
    decision_id: int


# What the service makes of the locked row (None: no such round or member) and the head: the
# writes to commit (none: nothing to record) and its result. It raises to refuse the answer.
Planner = Callable[[PageRow | None, AnswerHead | None], tuple[list[Write], T]]


class DatabaseBusy(AccordError):
    """The database did not answer in time (a lock held too long): nothing was changed."""


class AnswerStore(Protocol):
    """Where answers are read and written; the reply app opens one for its life."""

    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def page(self, round_id: int, member_id: int) -> PageRow | None:
        """The member's page of the round (None: no such round or member); records nothing."""
        ...

    async def answer(self, round_id: int, member_id: int, plan: Planner[T]) -> T:
        """One transaction: the locked row, then `plan`'s writes; `plan`'s result."""
        ...

    async def healthy(self) -> bool: ...


def page_of(found: list[tuple[Any, ...]]) -> PageRow | None:
    if not found:
        return None
    row = PageRow(*found[0][: len(PageRow._fields)])
    return row._replace(
        deadline=utc(row.deadline), decided_at=utc(row.decided_at), political=bool(row.political)
    )


def answer_page_of(found: list[tuple[Any, ...]]) -> tuple[PageRow | None, AnswerHead | None]:
    """The page's row and the head, from a row of `ANSWER_PAGE`."""
    if not found:
        return None, None
    return page_of(found), AnswerHead(*found[0][len(PageRow._fields) :])


def setting_decision(
    recipient_id: int, decision: str, text_sha256: str, comment: str | None, at: datetime
) -> Write:
    """The recipient's current answer."""
    return _SET_DECISION, (decision, text_sha256, comment, at, recipient_id)


def adding_decision(
    decision_id: int,
    row: PageRow,
    member_id: int,
    decision: str,
    comment: str | None,
    channel: str,
    at: datetime,
) -> Write:
    """The answer in the round's history of decisions."""
    values = (decision_id, row.id, member_id, decision, comment, channel, row.text_sha256, at)
    return _ADD_DECISION, values


class Closing(NamedTuple):
    """How a round closes: with this outcome, for this reason, at this moment."""

    outcome: str
    reason: str
    at: datetime


def moving_tally(
    round_id: int, counts: Tally, political: bool, closing: Closing | None = None
) -> Write:
    """The round's tally after an answer, the political flag, and the close if it closes (one
    statement: PostgreSQL sends an answer's writes as one, where no two may change one row)."""
    values: tuple[Any, ...] = (*counts.as_dict().values(), political, datetime.now(UTC))
    if closing is None:
        return _MOVE_TALLY + _WHERE_ROUND, (*values, round_id)
    return _MOVE_TALLY + _AND_CLOSE + _WHERE_ROUND, (*values, CLOSED, *closing, round_id)


def closing_statement(statement_id: int, state: str, endorsed_version: int | None) -> Write:
    """The statement's state once its round closed (and the version endorsed, if it was)."""
    if endorsed_version is None:
        return _CLOSE_STATEMENT, (state, datetime.now(UTC), statement_id)
    return _ENDORSE_STATEMENT, (state, endorsed_version, datetime.now(UTC), statement_id)


class Runner(Protocol):
    """How a blocking call is run from a coroutine."""

    def __call__(self, work: Callable[[], T]) -> Awaitable[T]: ...


async def inline(work: Callable[[], T]) -> T:
    """Run `work` where it is called (a caller without an event loop, or that may block one)."""
    return work()


class SyncAnswerStore:
    """`AnswerStore` on a unit of work, its blocking calls run by `reads` (the page, the health
    check) and `writes` (an answer): apart, a read never waits for a thread behind an answer
    that waits for SQLite's write lock."""

    def __init__(
        self,
        database: Database,
        *,
        begin: Callable[[], UnitOfWork] | None = None,
        reads: Runner = inline,
        writes: Runner = inline,
    ) -> None:
        self._database = database
        self._begin = begin or database.uow  # the mail poller's also remembers the mail
        self._reads = reads
        self._writes = writes

    async def open(self) -> None:
        """Nothing to open: the engine connects on first use."""

    async def close(self) -> None:
        self._database.dispose()

    async def page(self, round_id: int, member_id: int) -> PageRow | None:
        def read() -> PageRow | None:
            with _busy_as_such(), self._database.reading() as reader:
                return page_of(reader.rows(PAGE, member_id, round_id))

        return await self._reads(read)

    async def answer(self, round_id: int, member_id: int, plan: Planner[T]) -> T:
        def transaction() -> T:
            with _busy_as_such(), self._begin() as uow:
                reader = Reader.of_connection(uow.connection)
                sql = ANSWER_PAGE["sqlite" if reader.is_sqlite else "postgresql"]
                writes, result = plan(*answer_page_of(reader.rows(sql, member_id, round_id)))
                if writes:
                    reader.write(writes)
                uow.commit()  # even with nothing written: the mail poller's remembers the mail
                return result

        return await self._writes(transaction)

    async def healthy(self) -> bool:
        def ping() -> bool:
            try:
                with self._database.uow(readonly=True) as uow:
                    uow.session.execute(text("SELECT 1"))
            except SQLAlchemyError:
                return False
            return True

        return await self._reads(ping)


@contextmanager
def _busy_as_such() -> Iterator[None]:
    """A lock or statement timeout (PostgreSQL), or a lock SQLite waited for in vain, comes out
    as `DatabaseBusy`."""
    try:
        yield
    except DBAPIError as exc:
        if _is_busy(exc.orig):
            raise DatabaseBusy("the database is busy; nothing was recorded") from exc
        raise


def _is_busy(error: BaseException | None) -> bool:
    if isinstance(error, sqlite3.OperationalError):
        return "locked" in str(error) or "busy" in str(error)
    # psycopg: lock_not_available, query_canceled (a statement or lock timeout)
    return getattr(error, "sqlstate", None) in ("55P03", "57014")


class AsyncpgAnswerStore:
    """`AnswerStore` on the reply app's asynchronous PostgreSQL connections."""

    def __init__(self, url: str) -> None:
        self._links = LinkDatabase(url, server_settings=SESSION_LIMITS)

    async def open(self) -> None:
        await self._links.open()

    async def close(self) -> None:
        await self._links.close()

    async def page(self, round_id: int, member_id: int) -> PageRow | None:
        with _busy_asyncpg():
            return page_of(await self._links.rows(PAGE, member_id, round_id))

    async def answer(self, round_id: int, member_id: int, plan: Planner[T]) -> T:
        def planned(found: list[tuple[Any, ...]]) -> tuple[list[Write], T]:
            return plan(*answer_page_of(found))

        params = (member_id, round_id)
        with _busy_asyncpg():
            done = await self._links.read_then_write(ANSWER_PAGE["postgresql"], params, planned)
        return cast(T, done)  # `planned` never gives None

    async def healthy(self) -> bool:
        import asyncpg

        try:
            await self._links.rows("SELECT 1")
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            return False
        return True


@contextmanager
def _busy_asyncpg() -> Iterator[None]:
    import asyncpg

    try:
        yield
    except (asyncpg.LockNotAvailableError, asyncpg.QueryCanceledError) as exc:
        raise DatabaseBusy("the database is busy; nothing was recorded") from exc
