"""Secrets stay out of sight: a whole statement story with a secret key, an SMTP login (to a
server that requires it) and, on PostgreSQL, a database password; then every log line, command
output, access log, error page and published file is scanned for them and for members' link
tokens and reply keys.

What the Prefect API keeps (flow-run parameters, names, tags, logs, artifacts) is scanned by
tests/flows/test_rounds_flows.py::test_nothing_secret_reaches_the_prefect_api.
"""

from __future__ import annotations

import base64
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from accord.services.context import Context
from storage import tables as t
from tests.cli import run
from tests.conftest import FIXTURES
from tests.integration.test_smtp import authenticating
from tests.reliability.conftest import Sink, figure
from tests.servers import serving, web_process

SECRET_KEY = "k3y-that-signs-links-0123456789-never-shown"
SMTP_USER, SMTP_PASSWORD = "accord", "hunter2-secret"  # what test_smtp's server accepts
DB_PASSWORD = "db-pa55-never-shown"  # PostgreSQL here trusts local users: any password works
LINK = re.compile(r"https?://[^\s\"'<>]+/r/([^\s\"'<>]+)")
# The test's own SMTP server and HTTP client (the member's mail and browser), not accord.
NOT_ACCORD = ("mail.log", "httpx", "httpcore")
TOKEN_SHAPE = re.compile(r"\.?[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{27}(?![A-Za-z0-9_-])")


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if not record.name.startswith(NOT_ACCORD):
            self.lines.append(self.format(record))


@pytest.fixture
def logs() -> Iterator[Collect]:
    """Every log record of every logger, uvicorn's (which do not propagate) included."""
    handler = Collect()
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    loggers = [logging.getLogger(), logging.getLogger("uvicorn.access")]
    loggers.append(logging.getLogger("uvicorn.error"))
    saved = [(lg, lg.level) for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
        lg.setLevel(logging.DEBUG)
    yield handler
    for lg, level in saved:
        lg.removeHandler(handler)
        lg.setLevel(level)


@pytest.fixture
def story_env(
    accord_env: dict[str, str], db_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[dict[str, str], Sink]]:
    server = Sink()
    controller = authenticating(server)
    controller.start()
    url = make_url(db_url)
    if url.get_backend_name() == "postgresql":
        url = url.set(password=DB_PASSWORD)
    env = {
        **accord_env,
        "ACCORD_DATABASE_URL": url.render_as_string(hide_password=False),
        "ACCORD_SECRET_KEY": SECRET_KEY,
        "ACCORD_SMTP_HOST": "127.0.0.1",
        "ACCORD_SMTP_PORT": str(controller.port),
        "ACCORD_SMTP_USERNAME": SMTP_USER,
        "ACCORD_SMTP_PASSWORD": SMTP_PASSWORD,
        "ACCORD_MAIL_FROM": "icc@example.org",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    try:
        yield env, server
    finally:
        controller.stop()


def forbidden_values(env: dict[str, str], tokens: list[str], keys: list[str]) -> list[str]:
    plain = "\0".join(["", SMTP_USER, SMTP_PASSWORD]).encode()
    return [
        SECRET_KEY,
        SMTP_PASSWORD,
        base64.b64encode(SMTP_PASSWORD.encode()).decode(),  # AUTH LOGIN
        base64.b64encode(plain).decode(),  # AUTH PLAIN
        DB_PASSWORD,
        *tokens,
        *keys,
    ]


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)  # the one with a password
def test_no_token_key_or_password_in_logs_outputs_pages_or_files(
    story_env: tuple[dict[str, str], Sink],
    logs: Collect,
    capfd: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env, server = story_env
    said: list[str] = []

    def ok(*args: object) -> str:
        done = run(*map(str, args))
        said.extend([done.stdout, done.stderr])
        assert done.code == 0, done.stderr
        return done.stdout

    body = tmp_path / "statement.txt"
    body.write_text("On International Migrants Day...\n", encoding="utf-8")
    ok("init")
    ok("members", "import", FIXTURES / "members.csv")
    statement = json.loads(
        ok("statements", "draft", "--title", "Migrants Day", "--kind", "awareness-day",
           "--body-file", body, "--json")
    )  # fmt: skip
    rnd = json.loads(
        ok("rounds", "start", statement["id"], "--group", "Advisory Group", "--rule",
           "majority", "--deadline", "2023-10-10T18:00", "--json")
    )  # fmt: skip
    assert len(server.received) == 7  # through the login
    refused = run("rounds", "start", str(statement["id"]), "--group", "Advisory Group",
                  "--rule", "majority", "--deadline", "2023-10-10T18:00")  # fmt: skip
    assert refused.code == 1
    said.extend([refused.stdout, refused.stderr])
    links = {
        to: LINK.search(m.get_body(("plain",)).get_content()).group(0)
        for to, m in zip((r[0][0] for r in server.received), server.messages(), strict=True)
    }
    tokens = [LINK.search(link).group(1) for link in links.values()]
    assert all(TOKEN_SHAPE.fullmatch(token) for token in tokens)  # the scan would see one

    pages: list[str] = []
    log_file = tmp_path / "web.log"
    with web_process(env, log_file) as base, httpx.Client(timeout=10) as http:
        for address in sorted(links)[:4]:
            path = links[address].replace("http://127.0.0.1:8000", base)
            http.head(path)
            pages.append(http.get(path).text)
            pages.append(http.post(path, data={"decision": "endorse"}).text)
        forged = f"{base}/r/{tokens[0][:-3]}AAA"
        for method in ("GET", "POST"):
            refusal = http.request(method, forged, data={"decision": "endorse"})
            assert refusal.status_code == 400
            pages.append(refusal.text)
        pages.append(http.get(f"{base}/openapi.json").text)
    pages.append(_a_crashed_answer(env, links, monkeypatch))

    ok("replies", "record", rnd["id"], "vesna.haracic@example.org", "--decision", "decline",
       "--comment", "by phone")  # fmt: skip
    ok("rounds", "close", rnd["id"])
    published = json.loads(ok("statements", "publish", statement["id"], "--json"))
    ok("sweep")
    ok("rounds", "status", rnd["id"], "--json")
    ok("audit", "verify")
    ok("members", "list", "--json")
    site = Path(published["path"]).parent
    files = {p.name: p.read_text(encoding="utf-8") for p in site.iterdir() if p.is_file()}

    ctx = Context(_settings())
    with ctx.uow(readonly=True) as uow:
        keys = list(uow.session.scalars(select(t.recipients.c.reply_key)))
    ctx.db.dispose()
    captured = capfd.readouterr()
    places = {
        "command output": "\n".join(said),
        "log records": "\n".join(logs.lines),
        "stdout/stderr": captured.out + captured.err,
        "accord web log": log_file.read_text(encoding="utf-8"),
        "pages": "\n".join(pages),
        **{f"site/{name}": text for name, text in files.items()},
    }
    for place, text in places.items():
        for value in forbidden_values(env, tokens, keys):
            assert value not in text, f"{value[:12]}… in {place}"
        assert not TOKEN_SHAPE.search(text), (place, TOKEN_SHAPE.search(text))
        assert "/r/" not in text.replace("/r/…", "").replace("/r/{token}", ""), place
    assert "/r/…" in places["accord web log"]  # the access log was there, tokens hidden
    figure(
        "secrets",
        scanned_characters={k: len(v) for k, v in places.items()},
        tokens=len(tokens),
        reply_keys=len(keys),
        log_records=len(logs.lines),
    )


def _settings() -> Any:
    from accord.config import load_settings

    return load_settings()


def _a_crashed_answer(
    env: dict[str, str], links: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> str:
    """The 500 page (an unexpected failure while recording), served in this process."""
    import accord.web.app

    def crash(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("the database exploded")

    link = sorted(links.values())[-1]
    with monkeypatch.context() as patch:
        patch.setattr(accord.web.app, "answer_by_link", crash)
        with serving(_settings()) as base, httpx.Client(timeout=10) as http:
            path = link.replace("http://127.0.0.1:8000", base)
            response = http.post(path, data={"decision": "x"})
    assert response.status_code == 500 and "Something went wrong" in response.text
    return response.text
