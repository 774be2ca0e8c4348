"""Schemathesis against the reply app's own OpenAPI document (/openapi.json), over real HTTP.

Every generated request (valid and invalid forms, any token) is sent twice: with the token
schemathesis made up, and with a member's genuine token, so the form handling behind a good link
is fuzzed too. No answer may be a server error; the document itself must hold no token or key.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from functools import cache
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from accord.services.context import Context
from tests.integration.test_web import OpenRound, open_round
from tests.reliability.conftest import SQLITE_ONLY, figure
from tests.servers import serving

EXAMPLES = 60
STATUSES: Counter[int] = Counter()


@pytest.fixture(scope="module", autouse=True)
def _report_statuses() -> Iterator[None]:
    yield
    figure("schemathesis", examples=EXAMPLES, requests=sum(STATUSES.values()), **{
        f"status_{code}": n for code, n in sorted(STATUSES.items())
    })  # fmt: skip


@pytest.fixture
def reply_app(ctx: Context) -> Iterator[tuple[str, OpenRound]]:
    rnd = open_round(ctx)
    with serving(ctx.settings) as base:
        yield base, rnd


@cache
def strategy(base: str) -> Any:
    """Valid and invalid requests to every operation of the app's document."""
    document = httpx.get(f"{base}/openapi.json", timeout=10).json()
    api = schemathesis.openapi.from_dict(document)
    api.config.update(base_url=base)
    modes = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    return st.one_of(*(api.as_strategy(generation_mode=mode) for mode in modes))


@SQLITE_ONLY
def test_the_openapi_document_shows_no_secret(
    ctx: Context, reply_app: tuple[str, OpenRound]
) -> None:
    base, rnd = reply_app
    document = httpx.get(f"{base}/openapi.json", timeout=10)
    assert document.status_code == 200
    assert {"/r/{token}", "/healthz"} <= set(document.json()["paths"])
    for secret in (rnd.token(), ctx.settings.resolve_secret_key()):
        assert secret not in document.text
    assert not re.search(r"[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{27}", document.text)


@SQLITE_ONLY
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_no_request_is_a_server_error(data: Any, reply_app: tuple[str, OpenRound]) -> None:
    """Each request as generated, then again with a member's genuine token."""
    base, rnd = reply_app
    case = data.draw(strategy(base))
    tokens = [None, rnd.token()] if "token" in (case.path_parameters or {}) else [None]
    for token in tokens:
        if token:
            case.path_parameters = {**case.path_parameters, "token": token}
        response = case.call(timeout=10)
        case.validate_response(response, checks=[not_a_server_error])
        STATUSES[response.status_code] += 1
