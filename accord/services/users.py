"""The secretariat's console accounts: add, list, disable, and passwords set by one-time link.

A password is kept as an argon2 hash (pwdlib). A set-password link carries a random token valid
for 24 hours and used once; the database keeps only its SHA-256. Every change is an entry of the
decision record (entity `user`), by whoever made it on their channel.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING

from email_validator import EmailNotValidError, validate_email

from accord.services.context import Context
from statemachines.errors import Conflict, InvalidInput, NotFound
from storage.users import User, UserStore

if TYPE_CHECKING:
    from pwdlib import PasswordHash

ROLES = ("secretariat", "viewer")
LANGUAGES = ("en", "fr")
LINK_VALID = timedelta(hours=24)
MIN_PASSWORD = 12
MAX_PASSWORD = 1024
PASSWORD_PATH = "/console/password/"


@dataclass(frozen=True)
class UserView:
    """A user as the console and `accord users list` show them (never the hash)."""

    id: int
    email: str
    name: str
    role: str
    language: str | None
    disabled: bool
    has_password: bool


@dataclass(frozen=True)
class PasswordLink:
    user: UserView
    url: str
    expires_at: datetime


@cache
def hasher() -> PasswordHash:
    from pwdlib import PasswordHash

    return PasswordHash.recommended()


def view(user: User) -> UserView:
    return UserView(
        id=user.id,
        email=user.email,
        name=user.name,
        role=user.role,
        language=user.language,
        disabled=user.disabled,
        has_password=user.password_hash is not None,
    )


def checked_email(text: str) -> str:
    try:
        return validate_email(text.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise InvalidInput("invalid email '{text}': {why}", text=text, why=str(exc)) from None


def checked_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise InvalidInput("the password must have at least {n} characters", n=MIN_PASSWORD)
    if len(password) > MAX_PASSWORD or "\x00" in password:
        raise InvalidInput("the password is too long or holds a NUL character")
    return password


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def add_user(
    ctx: Context, email: str, *, name: str, role: str, password: str | None = None
) -> PasswordLink | UserView:
    """A new account; without `password`, the one-time link that lets its owner set one."""
    email = checked_email(email)
    name = " ".join(name.split())
    if not name:
        raise InvalidInput("the name is empty")
    if role not in ROLES:
        raise InvalidInput(
            "unknown role '{role}': use {known}", role=role, known=" or ".join(ROLES)
        )
    hashed = hasher().hash(checked_password(password)) if password is not None else None
    now = ctx.now()
    with ctx.uow() as uow:
        store = UserStore(uow.connection)
        if store.by_email(email) is not None:
            raise Conflict("a user with email {email} exists already", email=email)
        user_id = store.add(email, name, role, now)
        store.change(user_id, now, password_hash=hashed)
        payload = {"email": email, "name": name, "role": role}
        ctx.record(
            uow, entity_type="user", entity_id=user_id, action="add", at=now, payload=payload
        )
        link = None if hashed else _new_link(ctx, store, user_id, now)
        user = store.by_id(user_id)
        uow.commit()
    assert user is not None
    return link or view(user)


def _new_link(ctx: Context, store: UserStore, user_id: int, now: datetime) -> PasswordLink:
    token = secrets.token_urlsafe(32)
    expires = now + LINK_VALID
    store.change(user_id, now, token_sha256=token_digest(token), token_expires_at=expires)
    user = store.by_id(user_id)
    assert user is not None
    return PasswordLink(view(user), f"{ctx.settings.public_url}{PASSWORD_PATH}{token}", expires)


def list_users(ctx: Context) -> list[UserView]:
    with ctx.uow(readonly=True) as uow:
        return [view(user) for user in UserStore(uow.connection).all()]


def _existing(store: UserStore, email: str) -> User:
    user = store.by_email(checked_email(email))
    if user is None:
        raise NotFound("no user with email {email}", email=email)
    return user


def disable_user(ctx: Context, email: str) -> UserView:
    """The account can no longer log in; its sessions end now."""
    now = ctx.now()
    with ctx.uow() as uow:
        store = UserStore(uow.connection)
        user = _existing(store, email)
        store.change(user.id, now, disabled=True, token_sha256=None, token_expires_at=None)
        store.close_sessions_of(user.id)
        ctx.record(uow, entity_type="user", entity_id=user.id, action="disable", at=now)
        changed = store.by_id(user.id)
        uow.commit()
    assert changed is not None
    return view(changed)


def reset_password(ctx: Context, email: str) -> PasswordLink:
    """A new one-time link (an earlier one stops working); the password stays until it is used."""
    now = ctx.now()
    with ctx.uow() as uow:
        store = UserStore(uow.connection)
        user = _existing(store, email)
        if user.disabled:
            raise Conflict("{email} is disabled", email=user.email)
        link = _new_link(ctx, store, user.id, now)
        ctx.record(uow, entity_type="user", entity_id=user.id, action="reset-password", at=now)
        uow.commit()
    return link


def password_link_user(ctx: Context, token: str) -> UserView:
    """Whose link this is, if it still works (NotFound otherwise: unknown, used or expired)."""
    with ctx.uow(readonly=True) as uow:
        return view(_link_owner(ctx, UserStore(uow.connection), token))


def _link_owner(ctx: Context, store: UserStore, token: str) -> User:
    user = store.by_token(token_digest(token)) if token else None
    if (
        user is None
        or user.disabled
        or user.token_expires_at is None
        or user.token_expires_at <= ctx.now()
    ):
        raise NotFound("this link does not work: it was used already, has expired or is unknown")
    return user


def set_password_by_link(ctx: Context, token: str, password: str) -> UserView:
    """Use the one-time link: set the password, end the link and every open session."""
    hashed = hasher().hash(checked_password(password))
    now = ctx.now()
    with ctx.uow() as uow:
        store = UserStore(uow.connection)
        user = _link_owner(ctx, store, token)
        store.change(user.id, now, password_hash=hashed, token_sha256=None, token_expires_at=None)
        store.close_sessions_of(user.id)
        ctx.record(uow, entity_type="user", entity_id=user.id, action="set-password", at=now)
        uow.commit()
    return view(user)


def set_language(ctx: Context, user_id: int, language: str) -> None:
    """The console's language for this user (not a record entry: a preference, not a change
    of the secretariat's work)."""
    if language not in LANGUAGES:
        raise InvalidInput(f"unknown language '{language}': use {' or '.join(LANGUAGES)}")
    with ctx.uow() as uow:
        UserStore(uow.connection).change(user_id, ctx.now(), language=language)
        uow.commit()


def set_password(ctx: Context, email: str, password: str) -> UserView:
    """Set an account's password directly (`accord up --demo`); its sessions end."""
    hashed = hasher().hash(checked_password(password))
    now = ctx.now()
    with ctx.uow() as uow:
        store = UserStore(uow.connection)
        user = _existing(store, email)
        store.change(user.id, now, password_hash=hashed, token_sha256=None, token_expires_at=None)
        store.close_sessions_of(user.id)
        ctx.record(uow, entity_type="user", entity_id=user.id, action="set-password", at=now)
        uow.commit()
    return view(user)
