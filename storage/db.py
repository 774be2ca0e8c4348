"""Engines: SQLite in WAL mode with foreign keys and immediate write transactions, or PostgreSQL.

SQLite lets one writer in at a time; the others wait in its busy handler, which sleeps and polls
(1, 2, 5, ... up to 100 ms a try) instead of waking when the lock is free. Threads of one process
(the reply app's thread pool) therefore first queue on a lock of the engine (`_WriteGate`), woken
the moment the writer before them commits, and only one of them at a time asks SQLite. Other
processes still meet SQLite's busy handler, as before.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from storage.plain import SQLITE_BUSY_TIMEOUT_MS


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for `url`. SQLite writers take the write lock at BEGIN (BEGIN IMMEDIATE) and
    wait up to a minute for it, so concurrent writers queue instead of failing with 'locked'."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, **kwargs)
    path = sqlite_file(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    gate = _WriteGate()
    connection_class = type("GatedConnection", (_GatedConnection,), {"gate": gate})
    connect_args = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "factory": connection_class}
    engine = create_engine(url, connect_args=connect_args, **kwargs)
    event.listen(engine, "connect", _sqlite_connect)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


class _WriteGate:
    """One write transaction at a time per engine, among the threads of this process.

    A thread that already holds it (a second write transaction nested in its first) and a wait
    longer than the busy timeout both go straight to SQLite, which then behaves as it would
    without the gate.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._owner: int | None = None

    def enter(self) -> bool:
        me = threading.get_ident()
        if self._owner == me or not self._lock.acquire(timeout=SQLITE_BUSY_TIMEOUT_MS / 1000):
            return False
        self._owner = me
        return True

    def leave(self) -> None:
        self._owner = None
        self._lock.release()


class _GatedConnection(sqlite3.Connection):
    """A sqlite3 connection that leaves its engine's write gate once its transaction ends."""

    gate: _WriteGate
    holds_gate = False

    def enter_gate(self) -> None:
        self.holds_gate = self.gate.enter()

    def leave_gate(self) -> None:
        if self.holds_gate:
            self.holds_gate = False
            self.gate.leave()

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self.leave_gate()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self.leave_gate()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.leave_gate()


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    """BEGIN as SQLite should, sent straight to the driver (it returns no rows: going through
    SQLAlchemy's statement execution cost more than the BEGIN itself)."""
    dbapi_connection = connection.connection.dbapi_connection
    if connection.get_execution_options().get("readonly"):
        _begin(dbapi_connection, "BEGIN DEFERRED")
        return
    gated = isinstance(dbapi_connection, _GatedConnection)
    if gated:
        dbapi_connection.enter_gate()
    try:
        _begin(dbapi_connection, "BEGIN IMMEDIATE")
    except BaseException:
        if gated:
            dbapi_connection.leave_gate()
        raise


def _begin(dbapi_connection: sqlite3.Connection, statement: str) -> None:
    """Run BEGIN; a driver error comes out as SQLAlchemy's (`OperationalError`: locked, ...),
    as it would from a statement SQLAlchemy ran."""
    try:
        dbapi_connection.execute(statement)
    except sqlite3.Error as exc:
        raise DBAPIError.instance(statement, None, exc, sqlite3.Error) from exc


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (None for other databases and in-memory SQLite)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)
