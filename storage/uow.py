"""The unit of work: one transaction, its repositories and the decision record.

Use as `with db.uow() as uow: ...; uow.commit()`. Leaving without commit rolls back, so a failed
command changes nothing. A lost optimistic-concurrency race becomes `Conflict`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any, Self

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from statemachines.errors import Conflict
from storage.audit import AuditLog
from storage.budget import BudgetRepository
from storage.db import is_sqlite, make_engine
from storage.inbound import InboundMemo, InboundRepository
from storage.orm import start_mappers
from storage.outbox import OutboxRepository
from storage.plain import Reader
from storage.recipients import RecipientRepository
from storage.repositories import (
    ActionRepository,
    GroupRepository,
    MeetingRepository,
    MemberRepository,
    RoundRepository,
    StatementRepository,
)
from storage.transitions import TransitionReads


class Database:
    """The engine for one database URL, and units of work on it."""

    def __init__(self, url: str, **engine_options: Any) -> None:
        """`engine_options`: for `create_engine` (the reply app's PostgreSQL session limits)."""
        self.url = url
        self.engine: Engine = make_engine(url, **engine_options)
        self._readonly_engine = self.engine.execution_options(readonly=True)
        start_mappers()

    def uow(self, *, readonly: bool = False) -> UnitOfWork:
        return UnitOfWork(self._readonly_engine if readonly else self.engine)

    def remembering(self, memo: InboundMemo) -> UnitOfWork:
        """A unit of work whose commit also remembers an inbound mail (`memo`), so what the
        mail caused and the mark that it was read are committed together or not at all."""
        return RememberingUnitOfWork(self.engine, memo)

    @contextmanager
    def reading(self) -> Iterator[Reader]:
        """A driver-level reader on a pooled connection, for a read that must be quick (the reply
        page): its SQL runs as written, without SQLAlchemy's statement machinery. For reads only:
        each statement commits itself (so a single query needs no BEGIN and ROLLBACK, two more
        round trips on PostgreSQL) and sees one snapshot of the database."""
        switch = not is_sqlite(self.engine)  # SQLite's connections already leave BEGIN to us
        connection = self.engine.raw_connection()
        try:
            dbapi_connection = connection.dbapi_connection
            if switch:
                dbapi_connection.autocommit = True
            try:
                yield Reader(dbapi_connection)
            finally:
                if switch:
                    dbapi_connection.autocommit = False
        finally:
            connection.close()

    def dispose(self) -> None:
        self.engine.dispose()


class UnitOfWork:
    def __init__(self, engine: Engine) -> None:
        """A unit of work on `engine` (read-only when the engine has the `readonly` option)."""
        self.engine = engine

    def __enter__(self) -> Self:
        self.session = Session(self.engine, expire_on_commit=False, autoflush=True)
        self._connection: Connection | None = None
        self.members = MemberRepository(self.session)
        self.groups = GroupRepository(self.session)
        self.meetings = MeetingRepository(self.session)
        self.actions = ActionRepository(self.session)
        self.statements = StatementRepository(self.session)
        self.rounds = RoundRepository(self.session)
        self.recipients = RecipientRepository(self.session)
        self.inbound = InboundRepository(self.session)
        self.audit = AuditLog(self.session)
        self.outbox = OutboxRepository(self.session)
        self.budget = BudgetRepository(self.session)
        self.transitions = TransitionReads(self.session)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # close() ends an uncommitted transaction (a rollback) without expiring loaded objects,
        # so what a unit of work returns stays readable after it.
        self.session.close()
        if isinstance(exc, StaleDataError):  # lost the race in an autoflush, not in commit()
            raise Conflict(
                "someone else changed this at the same time; nothing was changed, try again"
            ) from exc

    @property
    def connection(self) -> Connection:
        """The transaction's connection, for Core statements: asked of the session once (each
        ask costs about as much as a small statement), until the transaction ends."""
        if self._connection is None:
            self._connection = self.session.connection()
        return self._connection

    def reader(self) -> Reader:
        """A driver-level reader inside this transaction (pending changes flushed first)."""
        self.flush()
        return Reader.of_session(self.session)

    def flush(self) -> None:
        try:
            self.session.flush()
        except StaleDataError as exc:
            self.rollback()
            raise Conflict(
                "someone else changed this at the same time; nothing was changed, try again"
            ) from exc

    @contextmanager
    def first_writer_wins(self) -> Iterator[None]:
        """Inside, a unique row that another writer stored first (a meeting imported twice at
        the same moment, which only PostgreSQL lets two writers try) rolls back and raises
        `Conflict`, a domain error, instead of the driver's IntegrityError."""
        try:
            yield
        except IntegrityError as exc:
            self.rollback()
            raise Conflict(
                "someone else stored the same thing at the same time; nothing was changed"
            ) from exc

    def commit(self) -> None:
        self.flush()
        self.session.commit()
        self._connection = None

    def rollback(self) -> None:
        self.session.rollback()
        self._connection = None


class RememberingUnitOfWork(UnitOfWork):
    """A unit of work that remembers an inbound mail just before it commits (`AlreadyRemembered`
    if another poller did first)."""

    def __init__(self, engine: Engine, memo: InboundMemo) -> None:
        super().__init__(engine)
        self.memo = memo

    def commit(self) -> None:
        self.inbound.remember(self.memo)
        super().commit()
