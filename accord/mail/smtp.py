"""Send prebuilt messages over a few reused SMTP connections, and say what became of each.

A message is retried only while the server has not accepted it: after a 4xx answer, a dropped
connection or a timeout (with exponential backoff, on the same connection or a fresh one). A 5xx
answer is final. A message the server answered 250 to is never sent again within a call. The one
case no client can settle is a connection lost after the data was sent but before the server's
answer: it is retried, so that message may arrive twice (with the same Message-ID).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from aiosmtplib import (
    SMTP,
    SMTPException,
    SMTPRecipientsRefused,
    SMTPResponse,
    SMTPResponseException,
)

from accord.config import Settings, Transport
from statemachines.pacing import THROTTLING

log = logging.getLogger(__name__)

# The first retry's wait; each next one waits twice as long (0.5, 1 and 2 s for three retries).
BACKOFF_S = 0.5


@dataclass(frozen=True)
class SmtpTarget:
    """Where and how to connect; the password never appears in a repr or a log."""

    host: str
    port: int
    tls: Transport = "none"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 30.0

    @classmethod
    def from_settings(cls, settings: Settings, *, timeout: float = 30.0) -> SmtpTarget:
        host, port = settings.smtp_address
        secret = settings.smtp_password
        return cls(
            host=host,
            port=port,
            tls=settings.smtp_tls,
            username=settings.smtp_username,
            password=secret.get_secret_value() if secret else None,
            timeout=timeout,
        )

    def client(self) -> SMTP:
        return SMTP(
            hostname=self.host,
            port=self.port,
            use_tls=self.tls == "tls",
            start_tls=self.tls == "starttls",
            username=self.username,
            password=self.password,
            timeout=self.timeout,
        )


@dataclass(frozen=True)
class Outgoing:
    key: int | str
    sender: str
    recipients: tuple[str, ...]
    data: bytes


@dataclass(frozen=True)
class Delivery:
    """What became of one message. `ok` with an `error`: some (not all) recipients refused.
    `throttled`: the server's last answer said to slow down (statemachines.pacing.THROTTLING);
    `started` False: the message was never offered to the server (the call stopped first)."""

    key: int | str
    ok: bool
    permanent: bool = False
    error: str | None = None
    throttled: bool = False
    started: bool = True


class _Unreachable(Exception):
    """Every attempt for a message failed to even connect."""


async def send_all(
    target: SmtpTarget | Settings,
    messages: Sequence[Outgoing],
    *,
    connections: int = 4,
    retries: int = 3,
    backoff: float | None = None,
    on_result: Callable[[Delivery], None] | None = None,
    start_before: float | None = None,
) -> list[Delivery]:
    """Deliver `messages`; the result has one Delivery per message, in the same order.

    Each of up to `connections` workers keeps one connection open and takes messages from a
    shared queue. A worker that cannot connect at all hands its message back and stops; once no
    worker is left, the messages still waiting fail (not permanently) with the connection error.
    `on_result`, if given, hears of each message as soon as the server has answered for it (so a
    caller can record progress before the whole batch is done). No message starts after
    `start_before` (a `time.monotonic()` moment: the end of the sending budget's window), nor
    once a message was throttled to the end of its retries: those are returned not `started`.
    """
    if not isinstance(target, SmtpTarget):
        target = SmtpTarget.from_settings(target)
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(len(messages)):
        queue.put_nowait(index)
    results: dict[int, Delivery] = {}
    stop = _Stop(start_before)
    workers = [
        _Worker(target, retries, BACKOFF_S if backoff is None else backoff, on_result, stop)
        for _ in range(min(connections, len(messages)))
    ]
    errors = await asyncio.gather(*(w.run(messages, queue, results) for w in workers))
    unreachable = next((e for e in errors if e), "not attempted")
    return [results.get(i) or _unsent(m.key, unreachable, stop) for i, m in enumerate(messages)]


@dataclass
class _Stop:
    """Why the workers of one call stop taking messages: the budget's window ended, or the
    server throttled a message to the end of its retries."""

    start_before: float | None
    throttled: str | None = None

    def now(self) -> bool:
        late = self.start_before is not None and time.monotonic() >= self.start_before
        return late or self.throttled is not None


def _unsent(key: int | str, unreachable: str, stop: _Stop) -> Delivery:
    if stop.throttled is not None:
        return Delivery(key, ok=False, error=f"not sent: {stop.throttled}", started=False)
    if stop.now():
        return Delivery(key, ok=False, error="not sent: the budget's minute ended", started=False)
    return Delivery(key, ok=False, error=unreachable)


class _Worker:
    def __init__(
        self,
        target: SmtpTarget,
        retries: int,
        backoff: float,
        on_result: Callable[[Delivery], None] | None = None,
        stop: _Stop | None = None,
    ) -> None:
        self.stop = stop or _Stop(None)
        self.target = target
        self.retries = retries
        self.backoff = backoff
        self.on_result = on_result
        self.client: SMTP | None = None

    async def run(
        self, messages: Sequence[Outgoing], queue: asyncio.Queue[int], results: dict[int, Delivery]
    ) -> str | None:
        """Deliver from the queue until it is empty; the connection error if it gave up."""
        try:
            while not queue.empty() and not self.stop.now():
                index = queue.get_nowait()
                try:
                    delivery = await self.deliver(messages[index])
                except _Unreachable as exc:
                    queue.put_nowait(index)
                    return str(exc)
                results[index] = delivery
                if delivery.throttled and self.stop.throttled is None:
                    self.stop.throttled = f"the server throttled: {delivery.error}"
                if self.on_result is not None:
                    self.on_result(delivery)
                if not delivery.ok:
                    log.warning("mail %s not delivered: %s", delivery.key, delivery.error)
            return None
        finally:
            await self.close()

    async def deliver(self, message: Outgoing) -> Delivery:
        reason, connected_once, throttled = "", False, False
        for attempt in range(self.retries + 1):
            if attempt:
                await asyncio.sleep(self.backoff * 2 ** (attempt - 1))
            try:
                client = await self.connected()
            except (SMTPException, OSError) as exc:
                reason = f"cannot connect: {_say(exc)}"
                continue
            connected_once = True
            try:
                refused, _ = await client.sendmail(
                    message.sender, list(message.recipients), message.data
                )
                return Delivery(message.key, ok=True, error=_refusals(refused))
            except SMTPRecipientsRefused as exc:
                reason = "; ".join(f"{r.recipient}: {r.code} {r.message}" for r in exc.recipients)
                throttled = any(r.code in THROTTLING for r in exc.recipients)
                if all(r.code >= 500 for r in exc.recipients):
                    return Delivery(message.key, ok=False, permanent=True, error=reason)
            except SMTPResponseException as exc:
                reason = _say(exc)
                throttled = exc.code in THROTTLING
                if exc.code >= 500:
                    return Delivery(message.key, ok=False, permanent=True, error=reason)
            except ValueError as exc:  # an address aiosmtplib refuses to put on the wire
                return Delivery(message.key, ok=False, permanent=True, error=str(exc))
            except (SMTPException, OSError) as exc:  # dropped, timed out
                await self.close()
                reason, throttled = f"connection lost: {_say(exc)}", False
        if not connected_once:
            raise _Unreachable(reason)
        return Delivery(message.key, ok=False, error=reason, throttled=throttled)

    async def connected(self) -> SMTP:
        if self.client is None or not self.client.is_connected:
            await self.close()
            client = self.target.client()
            await client.connect()
            self.client = client
        return self.client

    async def close(self) -> None:
        client, self.client = self.client, None
        if client is None or not client.is_connected:
            return
        try:
            await client.quit()
        except (SMTPException, OSError):
            client.close()


def _refusals(refused: dict[str, SMTPResponse]) -> str | None:
    if not refused:
        return None
    return "refused: " + "; ".join(f"{a}: {r.code} {r.message}" for a, r in refused.items())


def _say(exc: BaseException) -> str:
    if isinstance(exc, SMTPResponseException):
        return f"{exc.code} {exc.message}"
    return str(exc) or type(exc).__name__
