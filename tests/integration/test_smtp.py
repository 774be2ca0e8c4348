"""send_all against real aiosmtpd servers, some of which misbehave on purpose.

Every test checks the one promise that matters: each message is either delivered exactly once
(the server kept it once) or reported failed with the server's reason.
"""

from __future__ import annotations

import asyncio
import re
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from accord.config import Settings
from accord.mail.smtp import Delivery, Outgoing, SmtpTarget, send_all

FAST = {"retries": 3, "backoff": 0.05}


class Recorder:
    """Accepts everything and counts kept messages by Message-ID."""

    def __init__(self) -> None:
        self.kept: Counter[str] = Counter()
        self.data_calls = 0
        self.sessions: list[object] = []  # one per connection that sent DATA
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.data_calls += 1
            call = self.data_calls
            if not any(s is session for s in self.sessions):
                self.sessions.append(session)
        answer = await self.answer(server, call)
        if answer.startswith("250"):
            match = re.search(rb"Message-ID: (<[^>]+>)", envelope.original_content)
            assert match is not None
            self.kept[match.group(1).decode()] += 1
        return answer

    async def answer(self, server: Any, call: int) -> str:
        return "250 OK"


class FourXXEveryThird(Recorder):
    async def answer(self, server: Any, call: int) -> str:
        return "451 4.3.0 Try again later" if call % 3 == 0 else "250 OK"


class AlwaysBusy(Recorder):
    async def answer(self, server: Any, call: int) -> str:
        return "452 4.3.1 Insufficient system storage"


class RefusesOneAddress(Recorder):
    def __init__(self, refused: str) -> None:
        super().__init__()
        self.refused = refused
        self.refusals = 0

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address == self.refused:
            self.refusals += 1
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"


class DropsDuringData(Recorder):
    """Hangs up instead of answering the end of DATA, the first `times` times."""

    def __init__(self, times: int) -> None:
        super().__init__()
        self.times = times

    async def answer(self, server: Any, call: int) -> str:
        if call <= self.times:
            server.transport.abort()
            return "451 never heard"
        return "250 OK"


class Slow(Recorder):
    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay

    async def answer(self, server: Any, call: int) -> str:
        await asyncio.sleep(self.delay)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def serve() -> Iterator[Any]:
    """Start a handler on a free port; every server started is stopped after the test."""
    controllers: list[Controller] = []

    def start(handler: Recorder, port: int | None = None) -> SmtpTarget:
        controller = Controller(handler, hostname="127.0.0.1", port=port or free_port())
        controller.start()
        controllers.append(controller)
        return SmtpTarget("127.0.0.1", controller.port, timeout=2.0)

    yield start
    for controller in controllers:
        controller.stop()


def messages(count: int, recipient: str = "member{}@example.org") -> list[Outgoing]:
    return [
        Outgoing(
            key=i,
            sender="secretariat@example.org",
            recipients=(recipient.format(i),),
            data=f"Message-ID: <m{i}@accord.test>\r\nSubject: {i}\r\n\r\nHello {i}\r\n".encode(),
        )
        for i in range(count)
    ]


def send(target: SmtpTarget, outgoing: Sequence[Outgoing], **options: Any) -> list[Delivery]:
    return asyncio.run(send_all(target, outgoing, **{**FAST, **options}))


def assert_once_or_reported(
    outgoing: Sequence[Outgoing], deliveries: Sequence[Delivery], server: Recorder
) -> None:
    assert [d.key for d in deliveries] == [m.key for m in outgoing]
    for delivery in deliveries:
        kept = server.kept[f"<m{delivery.key}@accord.test>"]
        if delivery.ok:
            assert kept == 1, f"message {delivery.key} kept {kept} times"
        else:
            assert kept == 0 and delivery.error, delivery


def test_a_batch_goes_over_a_few_reused_connections(serve: Any) -> None:
    server = Recorder()
    outgoing = messages(40)
    deliveries = send(serve(server), outgoing, connections=3)
    assert all(d.ok and d.error is None for d in deliveries)
    assert len(server.sessions) == 3
    assert_once_or_reported(outgoing, deliveries, server)


def test_a_4xx_is_retried_until_accepted(serve: Any) -> None:
    server = FourXXEveryThird()
    outgoing = messages(30)
    deliveries = send(serve(server), outgoing, connections=1, backoff=0.01)
    assert all(d.ok for d in deliveries)
    assert server.data_calls == 44  # 30 accepted, and 14 answers of 451 (every third call)
    assert_once_or_reported(outgoing, deliveries, server)


def test_a_4xx_that_persists_is_reported_for_a_later_try(serve: Any) -> None:
    server = AlwaysBusy()
    outgoing = messages(2)
    deliveries = send(serve(server), outgoing, retries=2, connections=1)
    assert [(d.ok, d.permanent) for d in deliveries] == [(False, False)] * 2
    # 452 is a throttling answer: once one message was refused to the end of its retries, the
    # call offers no more (they wait for a later try, not started)
    assert "452 4.3.1 Insufficient system storage" in (deliveries[0].error or "")
    assert [(d.throttled, d.started) for d in deliveries] == [(True, True), (False, False)]
    assert server.data_calls == 3
    assert_once_or_reported(outgoing, deliveries, server)


def test_a_5xx_is_final_with_the_servers_reason(serve: Any) -> None:
    server = RefusesOneAddress("member3@example.org")
    outgoing = messages(6)
    deliveries = send(serve(server), outgoing)
    failed = [d for d in deliveries if not d.ok]
    assert [d.key for d in failed] == [3]
    assert failed[0].permanent and "550 5.1.1 No such user here" in (failed[0].error or "")
    assert server.refusals == 1  # not retried
    assert_once_or_reported(outgoing, deliveries, server)


def test_a_partly_refused_message_is_delivered_and_says_who_was_refused(serve: Any) -> None:
    server = RefusesOneAddress("gone@example.org")
    (message,) = messages(1)
    both = Outgoing(
        message.key, message.sender, ("ana@example.org", "gone@example.org"), message.data
    )
    (delivery,) = send(serve(server), [both])
    assert delivery.ok and "gone@example.org: 550" in (delivery.error or "")
    assert server.kept["<m0@accord.test>"] == 1


def test_a_connection_dropped_during_data_is_retried_on_a_fresh_one(serve: Any) -> None:
    server = DropsDuringData(times=3)
    outgoing = messages(10)
    deliveries = send(serve(server), outgoing, connections=2)
    assert all(d.ok for d in deliveries)
    assert server.data_calls == 13
    assert_once_or_reported(outgoing, deliveries, server)


def test_a_slow_server_is_waited_for_up_to_the_timeout(serve: Any) -> None:
    server = Slow(0.3)
    outgoing = messages(4)
    deliveries = send(serve(server), outgoing, connections=4)
    assert all(d.ok for d in deliveries)
    assert_once_or_reported(outgoing, deliveries, server)


def test_a_server_slower_than_the_timeout_is_a_temporary_failure(serve: Any) -> None:
    server = Slow(1.0)
    target = serve(server)
    slow_target = SmtpTarget(target.host, target.port, timeout=0.2)
    (delivery,) = send(slow_target, messages(1), retries=1)
    assert not delivery.ok and not delivery.permanent
    assert "connection lost" in (delivery.error or "")


def test_a_server_that_starts_late_gets_the_mail(serve: Any) -> None:
    server = Recorder()
    port = free_port()
    starter = threading.Timer(0.3, lambda: serve(server, port))
    starter.start()
    outgoing = messages(5)
    began = time.monotonic()
    deliveries = send(SmtpTarget("127.0.0.1", port, timeout=2.0), outgoing, backoff=0.2)
    starter.join()
    assert all(d.ok for d in deliveries)
    assert time.monotonic() - began >= 0.3
    assert_once_or_reported(outgoing, deliveries, server)


def test_a_server_that_never_answers_fails_every_message_quickly() -> None:
    outgoing = messages(50)
    began = time.monotonic()
    deliveries = send(SmtpTarget("127.0.0.1", free_port(), timeout=1.0), outgoing, retries=2)
    assert time.monotonic() - began < 1.0  # gives up after one message's retries, not fifty
    assert [(d.ok, d.permanent) for d in deliveries] == [(False, False)] * 50
    assert all((d.error or "").startswith("cannot connect") for d in deliveries)


def test_nothing_to_send_opens_no_connection() -> None:
    assert asyncio.run(send_all(SmtpTarget("127.0.0.1", free_port()), [])) == []


def test_the_target_comes_from_settings_and_hides_the_password() -> None:
    settings = Settings(
        smtp_host="mail.example.org",
        smtp_tls="starttls",
        smtp_username="accord",
        smtp_password="hunter2-secret",
    )
    target = SmtpTarget.from_settings(settings)
    assert (target.host, target.port, target.tls, target.username) == (
        "mail.example.org",
        587,
        "starttls",
        "accord",
    )
    assert target.password == "hunter2-secret"
    assert "hunter2" not in repr(target)


def authenticating(handler: Recorder) -> Controller:
    def check(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = (data.login, data.password) == (b"accord", b"hunter2-secret")
        return AuthResult(success=ok, handled=False)

    return Controller(
        handler,
        hostname="127.0.0.1",
        port=free_port(),
        authenticator=check,
        auth_require_tls=False,
    )


@pytest.mark.parametrize(("password", "delivered"), [("hunter2-secret", True), ("wrong", False)])
def test_a_login_works_and_never_logs_the_password(
    password: str, delivered: bool, caplog: pytest.LogCaptureFixture
) -> None:
    server = Recorder()
    controller = authenticating(server)
    controller.start()
    caplog.set_level("DEBUG")
    try:
        target = SmtpTarget("127.0.0.1", controller.port, None, "accord", password, timeout=2.0)
        (delivery,) = send(target, messages(1), retries=1)
    finally:
        controller.stop()
    assert delivery.ok is delivered
    if not delivered:
        assert not delivery.permanent and "535" in (delivery.error or "")
    ours = [r.getMessage() for r in caplog.records if not r.name.startswith("mail.log")]
    assert not any(password in line for line in [*ours, delivery.error or ""])
