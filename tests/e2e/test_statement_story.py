"""The whole statement story from the CLI, as a newcomer runs it: real SMTP (the dev mailbox on a
free port), the real reply app over HTTP, the `accord` console script in subprocesses."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from accord.config import load_settings
from accord.mail.devmailbox import list_messages, read_message, start_dev_mailbox
from tests.cli import accord, run
from tests.conftest import FIXTURES
from tests.servers import free_port, serving

TEXT = """On International Migrants Day, the members of the Intercultural Cities Advisory Group
recall that diversity, when well managed, is an advantage for cities.
"""


@pytest.fixture
def story(accord_env: dict[str, str], tmp_path: Path) -> Iterator[dict[str, object]]:
    port = free_port()
    env = {
        **accord_env,
        "ACCORD_SMTP_HOST": "127.0.0.1",
        "ACCORD_SMTP_PORT": str(port),
        "ACCORD_MAIL_FROM": "icc@example.org",
    }
    mailbox = start_dev_mailbox(tmp_path / "mailbox", "127.0.0.1", port)
    try:
        yield {"env": env, "folder": tmp_path / "mailbox"}
    finally:
        mailbox.stop()


def _ok(*args: object, env: dict[str, str], process: bool = False) -> str:
    """Run a command in-process (fast) or, with `process`, as the console script."""
    done = accord(*args, env=env) if process else run(*args)
    assert done.code == 0, done.stderr
    return done.stdout


def _links(folder: Path, subject_word: str) -> dict[str, str]:
    found = {}
    for entry in list_messages(folder):
        if subject_word in entry.subject:
            message = read_message(folder, entry.id)
            found[entry.to] = next(link for link in message.links if "/r/" in link)
    return found


def test_draft_circulate_answer_by_link_close_publish(story, monkeypatch) -> None:
    env, folder = story["env"], story["folder"]
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    body = Path(env["ACCORD_HOME"]).parent / "statement.txt"
    body.write_text(TEXT, encoding="utf-8")
    _ok("init", env=env, process=True)
    _ok("members", "import", FIXTURES / "members.csv", env=env)
    statement = json.loads(
        _ok(
            "statements",
            "draft",
            "--title",
            "International Migrants Day",
            "--kind",
            "awareness-day",
            "--body-file",
            body,
            "--json",
            env=env,
        )
    )
    rnd = json.loads(
        _ok(
            "rounds",
            "start",
            str(statement["id"]),
            "--group",
            "Advisory Group",
            "--rule",
            "majority",
            "--deadline",
            "2023-10-10T18:00",
            "--json",
            env=env,
        )
    )
    assert rnd["tally"]["pending"] == 7 and rnd["delivery"]["sent"] == 7

    links = _links(folder, "International Migrants Day")
    assert len(links) == 7
    invitation = read_message(folder, list_messages(folder)[0].id)
    assert statement["sha256"][:8] in invitation.text

    with serving(load_settings()) as base, httpx.Client(timeout=10) as http:
        for address in sorted(links)[:4]:
            link = links[address].replace("http://127.0.0.1:8000", base)
            page = http.get(link)
            assert page.status_code == 200 and 'name="decision"' in page.text
            posted = http.post(link, data={"decision": "endorse", "comment": ""})
            assert posted.status_code == 200, posted.text
    status = json.loads(_ok("rounds", "status", str(rnd["id"]), "--json", env=env))
    assert status["tally"] == {"endorse": 4, "decline": 0, "abstain": 0, "pending": 3}

    _ok(
        "replies",
        "record",
        str(rnd["id"]),
        "vesna.haracic@example.org",
        "--decision",
        "decline",
        "--comment",
        "by phone: timing",
        env=env,
    )
    closed = json.loads(_ok("rounds", "close", str(rnd["id"]), "--json", env=env))
    assert (closed["state"], closed["outcome"]) == ("closed", "endorsed")
    published = json.loads(_ok("statements", "publish", str(statement["id"]), "--json", env=env))
    assert len(published["signatories"]) == 4 and Path(published["path"]).exists()

    sweep = _ok("sweep", env=env)
    assert "mail_sent" in sweep
    subjects = [m.subject for m in list_messages(folder)]
    # 7 invitations, 5 receipts (4 links, 1 phone), 1 result to the secretariat, 7 "published"
    assert len(subjects) == 20
    assert sum(s.startswith("Published") or s.startswith("Publi") for s in subjects) == 7
    verify = json.loads(_ok("audit", "verify", "--json", env=env))
    assert verify["ok"] is True and verify["entries"] >= 10
