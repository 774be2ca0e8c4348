"""The unit of work: one transaction, its repositories and the decision record.

Use as `with db.uow() as uow: ...; uow.commit()`. Leaving without commit rolls back, so a failed
command changes nothing. A lost optimistic-concurrency race becomes `Conflict`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Self

from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from statemachines.errors import Conflict
from storage.audit import AuditLog
from storage.db import is_sqlite, make_engine
from storage.orm import start_mappers
from storage.repositories import (
    ActionRepository,
    GroupRepository,
    MeetingRepository,
    MemberRepository,
    RoundRepository,
    StatementRepository,
)


class Database:
    """The engine for one database URL, and units of work on it."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: Engine = make_engine(url)
        self._readonly_engine = self.engine.execution_options(readonly=True)
        # A reading's one query needs no transaction of its own: on PostgreSQL each statement
        # sees one snapshot anyway, and BEGIN and ROLLBACK would be two more round trips.
        self._reading_engine = (
            self._readonly_engine
            if is_sqlite(self.engine)
            else self.engine.execution_options(isolation_level="AUTOCOMMIT")
        )
        start_mappers()

    def uow(self, *, readonly: bool = False) -> UnitOfWork:
        return UnitOfWork(self._readonly_engine if readonly else self.engine)

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """A plain connection for a read that needs no repository (the reply page): lighter
        than a unit of work. For reads only: on PostgreSQL each statement commits itself."""
        with self._reading_engine.connect() as connection:
            yield connection

    def dispose(self) -> None:
        self.engine.dispose()


class UnitOfWork:
    def __init__(self, engine: Engine) -> None:
        """A unit of work on `engine` (read-only when the engine has the `readonly` option)."""
        self.engine = engine

    def __enter__(self) -> Self:
        self.session = Session(self.engine, expire_on_commit=False, autoflush=True)
        self.members = MemberRepository(self.session)
        self.groups = GroupRepository(self.session)
        self.meetings = MeetingRepository(self.session)
        self.actions = ActionRepository(self.session)
        self.statements = StatementRepository(self.session)
        self.rounds = RoundRepository(self.session)
        self.audit = AuditLog(self.session)
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

    def flush(self) -> None:
        try:
            self.session.flush()
        except StaleDataError as exc:
            self.session.rollback()
            raise Conflict(
                "someone else changed this at the same time; nothing was changed, try again"
            ) from exc

    def commit(self) -> None:
        self.flush()
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()
