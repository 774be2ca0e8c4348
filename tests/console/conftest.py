"""A console served over real HTTP (uvicorn in a thread) with a secretariat user and a viewer."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from accord.services.context import Context
from tests.console.helpers import Console, make_users
from tests.servers import serving


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
