"""Logging in to the console: passwords checked, failed logins counted, sessions kept.

- 10 failed logins for one account, or from one address, within 15 minutes lock logins for it
  (the lock lifts as those failures age past 15 minutes).
- A failed login is logged (logger `accord.console`) with the email and address, never the
  password.
- A session is a random token: the cookie carries it, the database its SHA-256. It ends 12 hours
  after login, after 2 hours without a request, at logout, or when its user is disabled or sets
  a new password.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from accord.services.context import Context
from accord.services.users import hasher, token_digest
from statemachines.errors import AccordError
from storage.users import User, UserStore

LOCK_AFTER = 10
LOCK_WINDOW = timedelta(minutes=15)
SESSION_LIFETIME = timedelta(hours=12)
SESSION_IDLE = timedelta(hours=2)
TOUCH_EVERY = timedelta(minutes=1)  # last_seen is written at most once a minute per session
log = logging.getLogger("accord.console")


class LoginRefused(AccordError):
    """Wrong email or password (which one is not said), or a disabled account."""


class LockedOut(AccordError):
    """Too many failed logins for this account or from this address."""


@dataclass(frozen=True)
class ConsoleUser:
    """Who a console request is from."""

    id: int
    email: str
    name: str
    role: str
    language: str | None

    @property
    def can_change(self) -> bool:
        return self.role == "secretariat"


@dataclass(frozen=True)
class LoggedIn:
    token: str
    user: ConsoleUser


def _console_user(user: User) -> ConsoleUser:
    return ConsoleUser(user.id, user.email, user.name, user.role, user.language)


def log_in(ctx: Context, email: str, password: str, address: str) -> LoggedIn:
    email = email.strip().lower()
    now = ctx.now()
    with ctx.uow() as uow:
        store = UserStore(uow.connection)
        by_email, by_address = store.failures_since(email, address, now - LOCK_WINDOW)
        if max(by_email, by_address) >= LOCK_AFTER:
            log.warning("login refused (locked) for %r from %s", email, address)
            raise LockedOut("too many failed logins: try again in 15 minutes")
        user = store.by_email(email)
        if not _password_holds(user, password):
            store.add_failure(email, address, now)
            store.forget_failures_before(now - LOCK_WINDOW)
            uow.commit()
            log.warning("failed login for %r from %s", email, address)
            raise LoginRefused("wrong email or password")
        assert user is not None
        token = secrets.token_urlsafe(32)
        store.open_session(token_digest(token), user.id, now)
        uow.commit()
    return LoggedIn(token, _console_user(user))


def _password_holds(user: User | None, password: str) -> bool:
    """Checks a hash even for an unknown account, so timing does not tell which exist."""
    stored = user.password_hash if user and not user.disabled else None
    if stored is None:
        hasher().verify(password, _dummy_hash())
        return False
    return bool(hasher().verify(password, stored))


@cache
def _dummy_hash() -> str:
    return hasher().hash(secrets.token_urlsafe(16))


def session_user(ctx: Context, token: str) -> ConsoleUser | None:
    """The session's user, or None when it is unknown, ended, expired or idle too long. Read in
    a read-only transaction: on SQLite a write one waits for the writer of the moment (a long
    import), and every page asks this; only an ending or a touch (once a minute) writes."""
    if not token:
        return None
    digest = token_digest(token)
    now = ctx.now()
    with ctx.uow(readonly=True) as uow:
        found = UserStore(uow.connection).session(digest)
    if found is None:
        return None
    ended = found.user.disabled or _expired(found.created_at, found.last_seen_at, now)
    if ended or now - found.last_seen_at >= TOUCH_EVERY:
        with ctx.uow() as uow:
            store = UserStore(uow.connection)
            if ended:
                store.close_session(digest)
            else:
                store.touch_session(digest, now)
            uow.commit()
    return None if ended else _console_user(found.user)


def _expired(created_at: datetime, last_seen_at: datetime, now: datetime) -> bool:
    return now - created_at >= SESSION_LIFETIME or now - last_seen_at >= SESSION_IDLE


def log_out(ctx: Context, token: str) -> None:
    with ctx.uow() as uow:
        UserStore(uow.connection).close_session(token_digest(token))
        uow.commit()
