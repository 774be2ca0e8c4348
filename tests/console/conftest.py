"""A console served over real HTTP (uvicorn in a thread) with a secretariat user and a viewer."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from accord.services.context import Context
from tests.console.helpers import Console, make_users
from tests.servers import serving


@pytest.fixture(autouse=True)
def cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    """Real argon2id hashes with small costs: the recommended ones take 0.5 s a hash here, and
    these tests hash and check passwords dozens of times. (tests/integration/test_users_cli.py
    checks the recommended hash.)"""
    from pwdlib import PasswordHash
    from pwdlib.hashers.argon2 import Argon2Hasher

    cheap = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),))
    monkeypatch.setattr("accord.services.users.hasher", lambda: cheap)
    monkeypatch.setattr("accord.services.console_auth.hasher", lambda: cheap)


@pytest.fixture
def base_url(ctx: Context) -> Iterator[str]:
    make_users(ctx)
    with serving(ctx.settings) as base:
        yield base


@pytest.fixture
def console(base_url: str) -> Iterator[Console]:
    client = Console.at(base_url)
    yield client
    client.http.close()
