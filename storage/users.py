"""The console's accounts, sessions and failed logins, as Core statements on a unit of work's
connection (tables `users`, `console_sessions`, `login_failures`, migration 0006)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, and_, delete, func, insert, or_, select, update

from storage.tables import console_sessions, login_failures, users


@dataclass(frozen=True)
class User:
    id: int
    email: str
    name: str
    role: str
    password_hash: str | None
    language: str | None
    disabled: bool
    token_expires_at: datetime | None
    created_at: datetime


@dataclass(frozen=True)
class SessionRow:
    user: User
    created_at: datetime
    last_seen_at: datetime


_USER_COLUMNS = (
    users.c.id,
    users.c.email,
    users.c.name,
    users.c.role,
    users.c.password_hash,
    users.c.language,
    users.c.disabled,
    users.c.token_expires_at,
    users.c.created_at,
)


def _user(row: object) -> User:
    return User(*row[: len(_USER_COLUMNS)])  # type: ignore[index]


class UserStore:
    """Reads and writes of the console's tables inside one transaction."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def by_email(self, email: str) -> User | None:
        row = self.connection.execute(select(*_USER_COLUMNS).where(users.c.email == email)).first()
        return None if row is None else _user(row)

    def by_id(self, user_id: int) -> User | None:
        row = self.connection.execute(select(*_USER_COLUMNS).where(users.c.id == user_id)).first()
        return None if row is None else _user(row)

    def by_token(self, token_sha256: str) -> User | None:
        query = select(*_USER_COLUMNS).where(users.c.token_sha256 == token_sha256)
        row = self.connection.execute(query).first()
        return None if row is None else _user(row)

    def all(self) -> list[User]:
        query = select(*_USER_COLUMNS).order_by(users.c.email)
        return [_user(row) for row in self.connection.execute(query)]

    def add(self, email: str, name: str, role: str, at: datetime) -> int:
        values = {"email": email, "name": name, "role": role, "created_at": at, "updated_at": at}
        result = self.connection.execute(insert(users).values(**values).returning(users.c.id))
        return int(result.scalar_one())

    def change(self, user_id: int, at: datetime, **values: object) -> None:
        query = update(users).where(users.c.id == user_id).values(**values, updated_at=at)
        self.connection.execute(query)

    def open_session(self, token_sha256: str, user_id: int, at: datetime) -> None:
        values = {"token_sha256": token_sha256, "user_id": user_id, "created_at": at}
        self.connection.execute(insert(console_sessions).values(**values, last_seen_at=at))

    def session(self, token_sha256: str) -> SessionRow | None:
        query = (
            select(*_USER_COLUMNS, console_sessions.c.created_at, console_sessions.c.last_seen_at)
            .join(users, users.c.id == console_sessions.c.user_id)
            .where(console_sessions.c.token_sha256 == token_sha256)
        )
        row = self.connection.execute(query).first()
        if row is None:
            return None
        return SessionRow(_user(row), row[-2], row[-1])

    def touch_session(self, token_sha256: str, at: datetime) -> None:
        query = update(console_sessions).where(console_sessions.c.token_sha256 == token_sha256)
        self.connection.execute(query.values(last_seen_at=at))

    def close_session(self, token_sha256: str) -> None:
        query = delete(console_sessions).where(console_sessions.c.token_sha256 == token_sha256)
        self.connection.execute(query)

    def close_sessions_of(self, user_id: int) -> None:
        self.connection.execute(
            delete(console_sessions).where(console_sessions.c.user_id == user_id)
        )

    def add_failure(self, email: str, address: str, at: datetime) -> None:
        values = {"email": email, "address": address, "at": at}
        self.connection.execute(insert(login_failures).values(**values))

    def failures_since(self, email: str, address: str, since: datetime) -> tuple[int, int]:
        """Failed logins since `since`: (for the account, from the address)."""
        recent = login_failures.c.at > since
        for_email = func.count().filter(login_failures.c.email == email)
        from_address = func.count().filter(login_failures.c.address == address)
        matching = or_(login_failures.c.email == email, login_failures.c.address == address)
        query = select(for_email, from_address).where(and_(recent, matching))
        by_email, by_address = self.connection.execute(query).one()
        return int(by_email), int(by_address)

    def forget_failures_before(self, before: datetime) -> None:
        self.connection.execute(delete(login_failures).where(login_failures.c.at < before))
