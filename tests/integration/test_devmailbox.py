"""The development mailbox: receive over real SMTP, list, read back."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import aiosmtplib
import pytest

from accord.config import Settings
from accord.mail.devmailbox import (
    DevMailbox,
    list_messages,
    mailbox_folder,
    read_message,
    start_dev_mailbox,
)
from accord.mail.message import build_message, make_message_id
from accord.mail.render import Rendered
from statemachines.errors import NotFound

LINK = "http://127.0.0.1:8000/r/abc.DEF-123_x"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def mailbox(tmp_path: Path) -> Iterator[DevMailbox]:
    box = start_dev_mailbox(tmp_path / "mailbox", port=free_port())
    yield box
    box.stop()


def mail(number: int, subject: str) -> bytes:
    rendered = Rendered(
        subject=subject,
        text=f"Dear Zoë,\n\nAnswer here: {LINK}.\nOr see (https://example.org/help).\n",
        html=f'<p>Dear Zoë, <a href="{LINK}">answer</a></p>',
    )
    return build_message(
        rendered,
        sender="secretariat@example.org",
        to=f"member{number}@example.org",
        to_name="Zoë Ndiaye",
        reply_to=None,
        message_id=make_message_id(f"test:{number}", "example.org"),
        date=datetime(2023, 12, 1, 9, number, tzinfo=UTC),
    )


def send(box: DevMailbox, number: int, subject: str) -> None:
    asyncio.run(
        aiosmtplib.send(
            mail(number, subject),
            sender="secretariat@example.org",
            recipients=[f"member{number}@example.org"],
            hostname=box.host,
            port=box.port,
        )
    )


def test_messages_are_stored_listed_and_read_back(mailbox: DevMailbox) -> None:
    send(mailbox, 1, "Endorsement requested: Migrants Day")
    send(mailbox, 2, "Demande d'approbation : Journée des migrants")
    entries = list_messages(mailbox.folder)
    assert [e.subject for e in entries] == [
        "Demande d'approbation : Journée des migrants",
        "Endorsement requested: Migrants Day",
    ]  # newest first
    newest = entries[0]
    assert newest.sender == "secretariat@example.org"
    assert newest.to == "Zoë Ndiaye <member2@example.org>"
    assert newest.date == "2023-12-01T09:02:00+00:00"

    message = read_message(mailbox.folder, newest.id)
    assert message.text.startswith("Dear Zoë,")
    assert f'href="{LINK}"' in message.html
    assert message.links == [LINK, "https://example.org/help"]
    headers = dict(message.headers)
    assert headers["Delivered-To"] == "member2@example.org"
    assert headers["Message-ID"] == make_message_id("test:2", "example.org")
    assert sorted(p.name for p in mailbox.folder.iterdir()) == sorted(
        f"{e.id}.eml" for e in entries
    )


@pytest.mark.parametrize("bad", ["../secret_key", "nope", "1" * 19 + "-zzzzzzzz"])
def test_reading_an_unknown_or_crafted_id_is_not_found(mailbox: DevMailbox, bad: str) -> None:
    with pytest.raises(NotFound):
        read_message(mailbox.folder, bad)


def test_an_empty_or_missing_mailbox_lists_nothing(tmp_path: Path) -> None:
    assert list_messages(tmp_path / "never-created") == []


def test_the_mailbox_lives_in_accord_home(tmp_path: Path) -> None:
    assert mailbox_folder(Settings(home=tmp_path)) == tmp_path / "mailbox"
