"""`accord users ...` on SQLite and PostgreSQL: accounts, one-time set-password links (24 h, one
use), argon2 hashes, disabling; each change in the decision record; bad input changes nothing."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest

from accord.services.context import Context
from accord.services.users import (
    hasher,
    list_users,
    password_link_user,
    set_password_by_link,
)
from statemachines.errors import NotFound
from storage.users import UserStore
from tests.cli import run

PASSWORD = "correct horse battery"


def ok(*args: str) -> str:
    done = run("users", *args)
    assert done.code == 0, done.stderr
    return done.stdout


def token_of(output: str) -> str:
    url = output.strip().splitlines()[-1]
    assert "/console/password/" in url
    return url.rsplit("/", 1)[1]


def stored_hash(ctx: Context, email: str) -> str | None:
    with ctx.uow(readonly=True) as uow:
        user = UserStore(uow.connection).by_email(email)
        assert user is not None
        return user.password_hash


def record(ctx: Context) -> list[tuple[str, str, str]]:
    with ctx.uow(readonly=True) as uow:
        return [(e.entity_type, e.action, e.channel) for e in uow.audit.entries("user")]


def test_add_prints_a_one_time_link_that_sets_an_argon2_password(ctx: Context) -> None:
    out = ok("add", "Ana@Example.org", "--name", "Ana  Lopez", "--role", "secretariat")
    assert out.startswith("added ana@example.org (secretariat)\n")
    assert "http://127.0.0.1:8000/console/password/" in out
    token = token_of(out)
    assert password_link_user(ctx, token).email == "ana@example.org"
    assert stored_hash(ctx, "ana@example.org") is None

    set_password_by_link(ctx, token, PASSWORD)
    hashed = stored_hash(ctx, "ana@example.org")
    assert hashed is not None and hashed.startswith("$argon2id$") and PASSWORD not in hashed
    assert hasher().verify(PASSWORD, hashed)
    with pytest.raises(NotFound):  # used once
        set_password_by_link(ctx, token, "another long password")
    listed = json.loads(ok("list", "--json"))
    assert listed == [
        {"id": 1, "email": "ana@example.org", "name": "Ana Lopez", "role": "secretariat",
         "language": None, "disabled": False, "has_password": True}
    ]  # fmt: skip
    assert record(ctx) == [("user", "add", "cli"), ("user", "set-password", "cli")]


def test_password_stdin_sets_it_directly(ctx: Context, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    out = ok("add", "v@example.org", "--name", "Vi", "--role", "viewer", "--password-stdin")
    assert out == "added v@example.org (viewer) with the password given\n"
    assert hasher().verify(PASSWORD, stored_hash(ctx, "v@example.org") or "")
    assert "v@example.org" in ok("list") and "active" in ok("list")


def test_a_link_expires_after_24_hours_and_a_reset_replaces_it(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = token_of(ok("add", "a@example.org", "--name", "A", "--role", "viewer"))
    second = token_of(ok("reset-password", "a@example.org"))
    with pytest.raises(NotFound):
        password_link_user(ctx, first)
    later = Context(ctx.settings.model_copy(update={"now": ctx.now() + timedelta(hours=24)}))
    with pytest.raises(NotFound):
        password_link_user(later, second)
    later.db.dispose()
    assert password_link_user(ctx, second).email == "a@example.org"


def test_disable_ends_the_link_and_shows_in_the_list(ctx: Context) -> None:
    token = token_of(ok("add", "a@example.org", "--name", "A", "--role", "viewer"))
    assert ok("disable", "a@example.org") == "disabled a@example.org\n"
    with pytest.raises(NotFound):
        password_link_user(ctx, token)
    assert "disabled" in ok("list")
    assert record(ctx)[-1] == ("user", "disable", "cli")


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["add", "not-an-email", "--name", "A", "--role", "viewer"], "invalid email"),
        (["add", "a@example.org", "--name", " ", "--role", "viewer"], "the name is empty"),
        (["add", "a@example.org", "--name", "A", "--role", "admin"], "unknown role 'admin'"),
        (["disable", "nobody@example.org"], "no user with email"),
        (["reset-password", "nobody@example.org"], "no user with email"),
    ],
)
def test_bad_input_is_one_line_and_changes_nothing(
    ctx: Context, args: list[str], error: str
) -> None:
    done = run("users", *args)
    assert done.code == 1 and done.stdout == ""
    assert done.stderr.startswith("error: ") and error in done.stderr
    assert done.stderr.count("\n") == 1
    assert list_users(ctx) == [] and record(ctx) == []


def test_a_short_password_or_a_second_account_is_refused(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    done = run(
        "users", "add", "a@example.org", "--name", "A", "--role", "viewer", "--password-stdin"
    )
    assert done.code == 1 and "at least 12 characters" in done.stderr
    assert list_users(ctx) == []
    ok("add", "a@example.org", "--name", "A", "--role", "viewer")
    done = run("users", "add", "A@example.org", "--name", "B", "--role", "viewer")
    assert done.code == 1 and "exists already" in done.stderr
    assert len(list_users(ctx)) == 1
