"""The dev mailbox is reachable without `accord up` (issue 17, item 6): `accord web` in
development runs its SMTP server, and the /dev/mailbox page says when nothing listens on the
configured SMTP port (mail then waits in the outbox)."""

from __future__ import annotations

import smtplib
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from accord.mail.devmailbox import start_dev_mailbox
from accord.web.mailbox import mailbox_router
from tests.cli import spawn
from tests.e2e.processes import free_port, wait_for

SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def page(folder: Path, port: int) -> str:
    app = FastAPI()
    app.include_router(mailbox_router(folder, ("127.0.0.1", port)))
    return TestClient(app).get("/dev/mailbox").text


def test_the_mailbox_page_says_when_nothing_listens_on_the_smtp_port(tmp_path: Path) -> None:
    port = free_port()
    silent = page(tmp_path / "mailbox", port)
    assert f"Nothing is listening on 127.0.0.1:{port}" in silent
    assert "accord web" in silent and "accord sweep" in silent
    mailbox = start_dev_mailbox(tmp_path / "mailbox", "127.0.0.1", port)
    try:
        assert "Nothing is listening" not in page(tmp_path / "mailbox", port)
    finally:
        mailbox.stop()


@SQLITE_ONLY
def test_accord_web_in_development_runs_the_dev_mailbox(
    accord_env: dict[str, str], tmp_path: Path
) -> None:
    smtp_port, web_port = free_port(), free_port()
    env = {**accord_env, "ACCORD_SMTP_PORT": str(smtp_port)}
    web = spawn("web", "--port", str(web_port), env=env, output=tmp_path / "web.log")
    try:

        def accepts() -> bool:
            assert web.poll() is None, (tmp_path / "web.log").read_text(encoding="utf-8")
            with smtplib.SMTP("127.0.0.1", smtp_port, timeout=2) as smtp:
                return smtp.noop()[0] == 250

        wait_for(accepts, "the dev mailbox of accord web", 30)
    finally:
        web.terminate()
        web.wait(timeout=10)
    assert f"dev mailbox: SMTP on 127.0.0.1:{smtp_port}" in (tmp_path / "web.log").read_text(
        encoding="utf-8"
    )
