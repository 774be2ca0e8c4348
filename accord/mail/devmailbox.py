"""The development mailbox: an SMTP server on 127.0.0.1:1025 that keeps every message as a file.

`accord up` starts it when no SMTP server is configured; each message lands in
`ACCORD_HOME/mailbox/<id>.eml`, where the reply app's /dev/mailbox pages (or any mail program)
can read it. Ids sort in arrival order.
"""

from __future__ import annotations

import os
import re
import secrets
import time
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import cast

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from accord.config import Settings
from statemachines.errors import NotFound

MAILBOX_DIR = "mailbox"
_ID = re.compile(r"[0-9]{19}-[0-9a-f]{8}")
_LINK = re.compile(r"https?://[^\s<>\"'()\[\]]+")


@dataclass(frozen=True)
class MailboxEntry:
    id: str
    date: str
    sender: str
    to: str
    subject: str


@dataclass(frozen=True)
class MailboxMessage:
    id: str
    headers: list[tuple[str, str]]
    text: str
    html: str
    links: list[str]


class DevMailbox:
    """A running dev mailbox; `stop()` it when done."""

    def __init__(self, controller: Controller, folder: Path) -> None:
        self._controller = controller
        self.folder = folder
        self.host: str = controller.hostname
        self.port: int = controller.port

    def stop(self) -> None:
        self._controller.stop()


def mailbox_folder(settings: Settings) -> Path:
    return settings.home / MAILBOX_DIR


def start_dev_mailbox(folder: Path, host: str = "127.0.0.1", port: int = 1025) -> DevMailbox:
    """Start the server in a background thread; it is accepting mail when this returns."""
    folder.mkdir(parents=True, exist_ok=True)
    controller = Controller(_Store(folder), hostname=host, port=port, enable_SMTPUTF8=True)
    controller.start()
    return DevMailbox(controller, folder)


def list_messages(folder: Path) -> list[MailboxEntry]:
    """Every stored message, newest first."""
    if not folder.is_dir():
        return []
    paths = sorted(folder.glob("*.eml"), reverse=True)
    return [_entry(path.stem, _parse(path, headers_only=True)) for path in paths]


def read_message(folder: Path, message_id: str) -> MailboxMessage:
    """One stored message: its headers, text and HTML parts, and the links in its text."""
    path = folder / f"{message_id}.eml"
    if not _ID.fullmatch(message_id) or not path.is_file():
        raise NotFound(f"no message '{message_id}' in the dev mailbox")
    message = _parse(path)
    text = _part(message, "plain")
    return MailboxMessage(
        id=message_id,
        headers=[(name, str(value)) for name, value in message.items()],
        text=text,
        html=_part(message, "html"),
        links=list(dict.fromkeys(link.rstrip(".,;:!?") for link in _LINK.findall(text))),
    )


class _Store:
    """aiosmtpd handler: write each message to `<id>.eml`, atomically (readers never see half)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        message_id = f"{time.time_ns()}-{secrets.token_hex(4)}"
        trace = f"Return-Path: <{envelope.mail_from}>\r\n" + "".join(
            f"Delivered-To: {rcpt}\r\n" for rcpt in envelope.rcpt_tos
        )
        data = trace.encode("utf-8") + (envelope.original_content or b"")
        partial = self.folder / f".{message_id}.tmp"
        partial.write_bytes(data)
        os.replace(partial, self.folder / f"{message_id}.eml")
        return f"250 OK stored as {message_id}"


def _parse(path: Path, *, headers_only: bool = False) -> EmailMessage:
    with path.open("rb") as handle:
        return cast(
            EmailMessage,
            BytesParser(policy=policy.default).parse(handle, headersonly=headers_only),
        )


def _entry(message_id: str, message: EmailMessage) -> MailboxEntry:
    return MailboxEntry(
        id=message_id,
        date=_date(message_id, message.get("Date")),
        sender=str(message.get("From", "")),
        to=str(message.get("To", "")),
        subject=str(message.get("Subject", "")),
    )


def _date(message_id: str, header: object) -> str:
    """The Date header as ISO 8601, or the arrival time when the header is missing or bad."""
    try:
        return parsedate_to_datetime(str(header)).isoformat()
    except (TypeError, ValueError):
        seconds = int(message_id.split("-")[0]) / 1e9
        return time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(seconds))


def _part(message: EmailMessage, subtype: str) -> str:
    part = message.get_body(preferencelist=(subtype,))
    if part is None:
        return ""
    content = part.get_content()
    return content.replace("\r\n", "\n") if isinstance(content, str) else ""
