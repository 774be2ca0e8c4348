"""The IMAP folder replies arrive in, through aioimaplib: list new mail, fetch it, mark it done.

New mail is what is unread and not yet marked `$AccordDone`. Fetching uses `BODY.PEEK[]`, so
reading a message changes nothing; only `mark_done` sets `\\Seen` and `$AccordDone` (servers that
do not keep keywords ignore it or refuse it; then `\\Seen` alone). Mail that is not a reply is never
marked, and stays unread for people.

aioimaplib has no STARTTLS of its own: `_starttls` sends the command and upgrades the transport
with `loop.start_tls`, then asks for the capabilities again (RFC 3501 6.2.1).
"""

from __future__ import annotations

import asyncio
import logging
import re
import ssl
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import TracebackType
from typing import Literal, Self

import aioimaplib

from statemachines.errors import AccordError

DONE = "$AccordDone"
DEFAULT_PORTS = {"none": 143, "starttls": 143, "tls": 993}
BATCH = 200
_ATOM = re.compile(r"[A-Za-z0-9_./&+-]+")
_FETCH_START = re.compile(rb"\d+ FETCH \(")
_UID = re.compile(rb"\bUID (\d+)")
log = logging.getLogger(__name__)


class MailboxError(AccordError):
    """The mailbox could not be reached, or refused what accord asked."""


@dataclass(frozen=True)
class MailboxSettings:
    host: str
    username: str
    password: str = field(repr=False)
    port: int | None = None
    tls: Literal["none", "starttls", "tls"] = "tls"
    folder: str = "INBOX"
    timeout: float = 30.0
    ssl_context: ssl.SSLContext | None = field(default=None, repr=False, compare=False)

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port or DEFAULT_PORTS[self.tls]}"

    def context(self) -> ssl.SSLContext:
        """The given TLS context, or the system's default (certificates and host names checked)."""
        return self.ssl_context or ssl.create_default_context()


class Mailbox:
    """One logged-in session with the folder selected: `async with Mailbox(settings) as box:`."""

    def __init__(self, settings: MailboxSettings) -> None:
        self.settings = settings
        self.keywords = True
        self._client: aioimaplib.IMAP4 | None = None

    async def __aenter__(self) -> Self:
        try:
            with self._talking():
                self._client = await self._connect()
                await self._login_and_select(self._client)
        except BaseException:
            await self._close()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._close()

    @property
    def client(self) -> aioimaplib.IMAP4:
        if self._client is None:
            raise MailboxError("the mailbox is not open")
        return self._client

    @contextmanager
    def _talking(self) -> Iterator[None]:
        """Network trouble and protocol errors become one `MailboxError`."""
        try:
            yield
        except (OSError, TimeoutError, aioimaplib.AioImapException) as exc:
            reason = str(exc) or type(exc).__name__
            raise MailboxError(
                f"cannot read the mailbox at {self.settings.address}: {reason}"
            ) from exc

    async def new_messages(self) -> list[int]:
        """UIDs of unread messages not yet marked done, oldest first."""
        with self._talking():
            response = await self.client.uid_search("UNSEEN", "UNKEYWORD", DONE, charset=None)
        _check(response, "SEARCH")
        found = b" ".join(bytes(line) for line in response.lines[:-1]).split()
        return sorted({int(uid) for uid in found if uid.isdigit()})

    async def headers(self, uids: Sequence[int]) -> dict[int, bytes]:
        """The header of each message (fetched in batches), to choose what to fetch whole."""
        found: dict[int, bytes] = {}
        for start in range(0, len(uids), BATCH):
            batch = ",".join(map(str, uids[start : start + BATCH]))
            found.update(await self._fetch(batch, "BODY.PEEK[HEADER]"))
        return found

    async def fetch(self, uid: int) -> bytes | None:
        """The whole message, without marking it read; None if it is gone."""
        return (await self._fetch(str(uid), "BODY.PEEK[]")).get(uid)

    async def _fetch(self, uid_set: str, item: str) -> dict[int, bytes]:
        with self._talking():
            response = await self.client.uid("fetch", uid_set, f"(UID {item})")
        _check(response, "FETCH")
        return _literals_by_uid(response.lines)

    async def mark_done(self, uid: int) -> bool:
        """Mark a processed message read, and `$AccordDone` unless the folder refuses keywords
        (a refusal is remembered for the rest of the session)."""
        flags = f"(\\Seen {DONE})" if self.keywords else "(\\Seen)"
        store = self.client.uid("store", str(uid), "+FLAGS.SILENT", flags)
        with self._talking():  # aioimaplib puts no time limit on a UID STORE itself
            response = await asyncio.wait_for(store, self.settings.timeout)
        if response.result != "OK" and self.keywords:
            self.keywords = False
            return await self.mark_done(uid)
        if response.result != "OK":
            log.warning("could not mark message %s done: %s", uid, _text(response))
        return response.result == "OK"

    async def _connect(self) -> aioimaplib.IMAP4:
        s = self.settings
        port = s.port or DEFAULT_PORTS[s.tls]
        if s.tls == "tls":
            client: aioimaplib.IMAP4 = aioimaplib.IMAP4_SSL(
                s.host, port, timeout=s.timeout, ssl_context=s.context()
            )
        else:
            client = aioimaplib.IMAP4(s.host, port, timeout=s.timeout)
        await client.wait_hello_from_server()
        if s.tls == "starttls":
            await _starttls(client, s)
        return client

    async def _login_and_select(self, client: aioimaplib.IMAP4) -> None:
        s = self.settings
        login = await client.login(s.username, s.password)
        if login.result != "OK":
            raise MailboxError(f"the mailbox at {s.address} refused the login of {s.username}")
        selected = await client.select(_mailbox_name(s.folder))
        if selected.result != "OK":
            raise MailboxError(f"cannot open the folder {s.folder!r}: {_text(selected)}")

    async def _close(self) -> None:
        """Log out politely if possible; in any case drop the connection."""
        client, self._client = self._client, None
        if client is None:
            return
        try:
            if client.get_state() in (aioimaplib.AUTH, aioimaplib.SELECTED):
                await client.logout()
        except Exception as exc:  # closing after a failure: nothing left to save
            log.debug("IMAP logout failed: %s", exc)
        transport = client.protocol.transport
        if transport is not None:
            transport.close()


async def _starttls(client: aioimaplib.IMAP4, settings: MailboxSettings) -> None:
    protocol = client.protocol
    if "STARTTLS" not in protocol.capabilities:
        raise MailboxError(f"the mailbox at {settings.address} does not offer STARTTLS")
    command = aioimaplib.Command("STARTTLS", protocol.new_tag(), loop=protocol.loop)
    _check(await asyncio.wait_for(protocol.execute(command), settings.timeout), "STARTTLS")
    loop = asyncio.get_running_loop()
    protocol.transport = await loop.start_tls(
        protocol.transport, protocol, settings.context(), server_hostname=settings.host
    )
    await asyncio.wait_for(protocol.capability(), settings.timeout)


def _literals_by_uid(lines: Sequence[bytes | bytearray]) -> dict[int, bytes]:
    """A FETCH response's literals (aioimaplib gives them as bytearrays) by message UID.

    Each message's data starts with a `n FETCH (` line; its UID may come before or after the
    literal, so both are collected until the next message starts.
    """
    found: dict[int, bytes] = {}
    uid: int | None = None
    literal: bytes | None = None
    for line in [*lines, b"0 FETCH ("]:
        if isinstance(line, bytearray):
            literal = bytes(line)
            continue
        if _FETCH_START.match(line):
            if uid is not None and literal is not None:
                found[uid] = literal
            uid, literal = None, None
        number = _UID.search(line)
        uid = int(number.group(1)) if number else uid
    return found


def _mailbox_name(folder: str) -> str:
    return folder if _ATOM.fullmatch(folder) else aioimaplib.quoted(folder)


def _check(response: aioimaplib.Response, command: str) -> None:
    if response.result != "OK":
        raise MailboxError(f"the mailbox refused {command}: {_text(response)}")


def _text(response: aioimaplib.Response) -> str:
    last = response.lines[-1] if response.lines else b""
    return bytes(last).decode("utf-8", "replace")[:200]
