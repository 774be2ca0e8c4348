"""Replies by email against a real IMAP server (pymap's in-memory backend, in a thread), with the
corpus in tests/fixtures/replies, on SQLite and PostgreSQL.

Mail "arrives" by IMAP APPEND into a folder of its own per test; `poll_mailbox` then reads it as
`accord replies poll` does. Placeholders in the .eml files (`{key}`, `{member}`, `{invitation}`)
are filled with a real recipient's reply key, address and invitation Message-ID.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import json
import socket
import ssl
import threading
import uuid
from argparse import Namespace
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import timedelta
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import aioimaplib
import pytest
from pydantic import SecretStr
from sqlalchemy import and_, func, select

from accord.config import load_settings
from accord.inbound.imap import DONE, Mailbox, MailboxError, MailboxSettings
from accord.services.context import Context
from accord.services.members import import_members
from accord.services.reply_polling import mailbox_settings, poll_mailbox
from accord.services.results import plain
from accord.services.rounds import close_round, round_status, start_round
from accord.services.statement_rounds import revise_statement
from accord.services.statements import draft_statement
from statemachines.errors import InvalidInput
from storage import tables as t
from tests.conftest import FIXED_NOW, FIXTURES

CORPUS = FIXTURES / "replies"
USER, PASSWORD = "secretariat", "imap-secret"
DEADLINE = FIXED_NOW + timedelta(days=10)
TEXT = "On International Migrants Day, the members of the Advisory Group recall...\n"
CONSULTED = "consultation"
QUOTED = ("Dear ", "secretariat asks", "HOW TO ANSWER", "wrote:", "a écrit", "schrieb")


# -- the IMAP server ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImapServer:
    host: str
    port: int


async def _start_pymap(tls_enabled: bool, ssl_context: ssl.SSLContext | None) -> asyncio.Server:
    from proxyprotocol.reader import ProxyProtocolReader
    from pymap.backend.dict import DictBackend
    from pymap.imap import IMAPServer
    from pysasl.hashing import BuiltinHash

    args = Namespace(
        host="127.0.0.1", port=0, debug=False, cert=None, key=None, tls=tls_enabled,
        passlib_cfg=None, proxy_protocol=None, inherited_sockets=None,
        demo_data=False, demo_user=USER, demo_password=PASSWORD,
    )  # fmt: skip
    overrides: dict[str, Any] = {"invalid_user_sleep": 0.0, "hash_context": BuiltinHash(rounds=1)}
    if ssl_context and tls_enabled:
        overrides["ssl_context"] = ssl_context
    backend, config = await DictBackend.init(args, **overrides)  # a cheap hash: fast logins
    handler = ProxyProtocolReader(config.proxy_protocol).get_callback(
        IMAPServer(backend.login, config)
    )
    implicit_tls = ssl_context if not tls_enabled else None
    return await asyncio.start_server(handler, "127.0.0.1", 0, ssl=implicit_tls)


@contextmanager
def running_imap(
    *, tls_enabled: bool = False, ssl_context: ssl.SSLContext | None = None
) -> Iterator[ImapServer]:
    """pymap on a free port of 127.0.0.1, in its own thread and event loop.

    `tls_enabled` offers STARTTLS (and refuses LOGIN before it); an `ssl_context` without it
    serves implicit TLS.
    """
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    start = _start_pymap(tls_enabled, ssl_context)
    server = asyncio.run_coroutine_threadsafe(start, loop).result(10)
    try:
        yield ImapServer("127.0.0.1", server.sockets[0].getsockname()[1])
    finally:
        asyncio.run_coroutine_threadsafe(_stop_pymap(server), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


async def _stop_pymap(server: asyncio.Server) -> None:
    """Stop listening, then end the connections still open (so no task outlives the loop)."""
    server.close()
    others = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    for task in others:
        task.cancel()
    await asyncio.gather(*others, return_exceptions=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def imap_server() -> Iterator[ImapServer]:
    with running_imap() as server:
        yield server


async def _session(server: ImapServer, folder: str) -> aioimaplib.IMAP4:
    client = aioimaplib.IMAP4(server.host, server.port, timeout=10)
    await client.wait_hello_from_server()
    await client.login(USER, PASSWORD)
    await client.create(folder)
    return client


def deliver_to(server: ImapServer, folder: str, *messages: bytes) -> None:
    """The test's mail delivery: APPEND each message, unread, to the folder."""

    async def append() -> None:
        client = await _session(server, folder)
        for message in messages:
            assert (await client.append(message, mailbox=folder)).result == "OK"
        await client.logout()

    asyncio.run(append())


def unread(server: ImapServer, folder: str) -> set[str]:
    """The Message-IDs of the unread messages of the folder."""

    async def search() -> set[str]:
        client = await _session(server, folder)
        await client.select(folder)
        found = (await client.uid_search("UNSEEN", charset=None)).lines[0].split()
        ids = set()
        for uid in found:
            response = await client.uid("fetch", uid.decode(), "(BODY.PEEK[HEADER])")
            header = next(bytes(x) for x in response.lines if isinstance(x, bytearray))
            ids.add(
                next(
                    ln
                    for ln in header.decode().splitlines()
                    if ln.lower().startswith("message-id:")
                )
                .split(":", 1)[1]
                .strip()
            )
        await client.logout()
        return ids

    return asyncio.run(search())


# -- accord: members, rounds, the mail ------------------------------------------------------------


def reading(ctx: Context, server: ImapServer, **more: Any) -> Context:
    """The test's context, reading a folder of its own on the server."""
    settings = ctx.settings.model_copy(
        update={
            "mail_from": "secretariat@example.org",
            "reply_address": "endorse+{key}@example.org",
            "imap_host": server.host,
            "imap_port": server.port,
            "imap_username": USER,
            "imap_password": SecretStr(PASSWORD),
            "imap_tls": "none",
            "imap_folder": f"test-{uuid.uuid4().hex[:8]}",
            **more,
        }
    )
    return Context(settings, _db=ctx.db)


def open_round(ctx: Context, title: str = "International Migrants Day 2023", **kw: Any) -> int:
    statement = draft_statement(ctx, title=title, kind="awareness-day", body=TEXT).id
    args = {"group": "Advisory Group", "rule": "majority", "deadline": DEADLINE, **kw}
    return int(plain(start_round(ctx, statement_id=statement, **args))["id"])


def addressee(ctx: Context, round_id: int, who: str, purpose: str = "invitation") -> dict[str, str]:
    """A recipient's reply key, address and the Message-ID of the mail that asked them."""
    query = (
        select(t.recipients.c.reply_key, t.members.c.email, t.outbox.c.message_id)
        .join(t.members, t.members.c.id == t.recipients.c.member_id)
        .join(
            t.outbox,
            and_(
                t.outbox.c.round_id == t.recipients.c.round_id,
                t.outbox.c.member_id == t.recipients.c.member_id,
                t.outbox.c.purpose == purpose,
            ),
        )
        .where(t.recipients.c.round_id == round_id, t.members.c.email.startswith(f"{who}."))
    )
    with ctx.uow(readonly=True) as uow:
        row = uow.session.execute(query).one()
    return {"key": row.reply_key, "member": row.email, "invitation": row.message_id}


def mail(name: str, **values: str) -> bytes:
    text = (CORPUS / name).read_text(encoding="utf-8")
    for placeholder, value in values.items():
        text = text.replace(f"{{{placeholder}}}", value)
    return text.replace("\n", "\r\n").encode("utf-8")


def reply(ctx: Context, round_id: int, who: str, answer: str, *, to: str = "invitation") -> bytes:
    """A plain reply by `who`, threaded under the mail of purpose `to`."""
    person = addressee(ctx, round_id, who, to)
    return mail(
        "plain_reply.eml",
        key=person["key"],
        member=person["member"],
        in_reply_to=person["invitation"],
        message_id=f"<{uuid.uuid4().hex}@example.org>",
        answer=answer,
    )


def decisions(ctx: Context, round_id: int) -> dict[str, tuple[str, str | None, str]]:
    d = t.decisions.c
    query = (
        select(t.members.c.email, d.decision, d.comment, d.channel)
        .join(t.members)
        .where(d.round_id == round_id)
    )
    with ctx.uow(readonly=True) as uow:
        rows = uow.session.execute(query).all()
    found = {r.email.split(".")[0]: (r.decision, r.comment, r.channel) for r in rows}
    assert len(found) == len(rows), "a member's decision was recorded twice"
    return found


def outbox(ctx: Context, purpose: str) -> list[Any]:
    with ctx.uow(readonly=True) as uow:
        return list(uow.session.execute(select(t.outbox).where(t.outbox.c.purpose == purpose)))


def count(ctx: Context, table: Any, *where: Any) -> int:
    with ctx.uow(readonly=True) as uow:
        return int(uow.session.scalar(select(func.count()).select_from(table).where(*where)))


@pytest.fixture
def members(ctx: Context) -> None:
    import_members(ctx, FIXTURES / "members.csv")


# -- the corpus -----------------------------------------------------------------------------------

STYLES = {  # file: (member, decision, part of the comment)
    "gmail_top_posting.eml": ("barry", "endorse", "I endorse"),
    "outlook_original_message.eml": ("gemma", "decline", "election period in Catalonia"),
    "french_je_refuse.eml": ("gregory", "decline", "parce que le texte ne dit rien"),
    "apple_mail.eml": ("ingrid", "abstain", "I was not at the meeting"),
    "german_am_schrieb.eml": ("joanna", "endorse", "Wir unterstützen die Erklärung gerne."),
    "html_only_outlook.eml": ("silvia", "endorse", "San Sebastián is happy to sign."),
    "thunderbird_bottom_posting.eml": ("vesna", "decline", "political: Salisbury council"),
}
SECOND_ROUND = {
    "french_oui.eml": ("gregory", "endorse", "avec plaisir"),
    "reply_to_sender.eml": ("gemma", "abstain", None),  # no key: found by In-Reply-To
}


def test_every_quoting_style_records_its_decision_once(ctx, members, imap_server) -> None:
    ctx = reading(ctx, imap_server)
    first, second = open_round(ctx), open_round(ctx, title="A second statement")
    plan = [(first, name, *case) for name, case in STYLES.items()]
    plan += [(second, name, *case) for name, case in SECOND_ROUND.items()]
    folder = ctx.settings.imap_folder
    for round_id, name, who, _decision, _comment in plan:
        deliver_to(imap_server, folder, mail(name, **addressee(ctx, round_id, who)))

    result = plain(poll_mailbox(ctx, deliver_mail=False))

    assert result == {"messages": 9, "recorded": 9}
    for round_id, name, who, decision, comment in plan:
        got_decision, got_comment, channel = decisions(ctx, round_id)[who]
        assert (got_decision, channel) == (decision, "email"), name
        assert (comment in got_comment) if comment else got_comment is None, (name, got_comment)
        assert not any(quoted in (got_comment or "") for quoted in QUOTED), (name, got_comment)
    status = plain(round_status(ctx, first))
    assert status["tally"] == {"endorse": 3, "decline": 3, "abstain": 1, "pending": 0}
    assert status["flagged_political"] is True  # "Decline political: ..."
    assert len(outbox(ctx, "receipt")) == 9  # the same receipt as a link answer
    assert unread(imap_server, folder) == set()

    assert plain(poll_mailbox(ctx, deliver_mail=False)) == {"messages": 0}
    assert count(ctx, t.decisions) == 9


def test_mail_that_is_not_an_answer_records_nothing_and_robots_get_no_answer(
    ctx, members, imap_server
) -> None:
    ctx = reading(ctx, imap_server)
    round_id = open_round(ctx)
    names = ("barry", "gemma", "gregory", "ingrid", "joanna", "silvia", "vesna")
    to = {who: addressee(ctx, round_id, who) for who in names}
    duplicate = mail("duplicate.eml", **to["silvia"])
    deliver_to(
        imap_server,
        ctx.settings.imap_folder,
        mail("forward.eml", **to["barry"]),
        mail("out_of_office_en.eml", **to["gemma"]),
        mail("out_of_office_fr.eml", **to["gregory"]),
        mail("spoofed_sender.eml", **to["ingrid"]),
        mail("unrelated.eml"),
        mail("unreadable.eml", **to["joanna"]),
        mail("unreadable_again.eml", **to["joanna"]),
        duplicate,
        duplicate,
        mail("dsn_bounce.eml", **to["vesna"]),
    )

    result = plain(poll_mailbox(ctx, deliver_mail=False))

    assert result == {
        "messages": 10,
        "forward": 1,
        "auto_reply": 2,
        "rejected": 1,
        "unrelated": 1,
        "unreadable": 2,
        "recorded": 1,
        "duplicate": 1,
        "undeliverable": 1,
    }
    assert decisions(ctx, round_id) == {"silvia": ("endorse", None, "email")}
    explanations = outbox(ctx, "explain")
    assert [(e.to_addr, e.thread_id) for e in explanations] == [
        (to["joanna"]["member"], "<trinity-a1b2c3d4-0001@3c-app-webde-bs12>")
    ]  # one a day, and never to a robot, a forward or a stranger
    assert explanations[0].dedupe_key == f"explain:{to['joanna']['member']}:2023-10-01"
    assert [r.to_addr for r in outbox(ctx, "receipt")] == [to["silvia"]["member"]]
    assert count(ctx, t.outbox, t.outbox.c.to_addr.like("%mail-example.net")) == 0

    with ctx.uow(readonly=True) as uow:
        entries = uow.audit.entries()
        assert uow.audit.verify().ok
    rejected = [e for e in entries if e.action == "reply.rejected"]
    assert [(e.entity_type, e.entity_id, e.channel, e.actor) for e in rejected] == [
        ("round", str(round_id), "email", "ingrid.rasmussen@mail-example.net")
    ]
    assert json.loads(rejected[0].payload)["member"] == to["ingrid"]["member"]
    bounced = [e for e in entries if e.action == "mail.undeliverable"]
    assert [(e.entity_type, e.channel) for e in bounced] == [("member", "email")]
    assert json.loads(bounced[0].payload)["statuses"][0]["status"] == "5.1.1"

    status = plain(round_status(ctx, round_id))
    assert [r["email"] for r in status["recipients"] if r["undeliverable"]] == [
        to["vesna"]["member"]
    ]
    assert status["delivery"]["failed"] == 1
    assert count(ctx, t.inbound_messages) == 8  # all but the unrelated mail and the copy
    assert unread(imap_server, ctx.settings.imap_folder) == {"<news-2023-10@intercultural.example>"}
    assert plain(poll_mailbox(ctx, deliver_mail=False)) == {"messages": 1, "unrelated": 1}
    assert count(ctx, t.decisions) == 1


def test_a_changed_text_a_closed_round_and_a_consultation(ctx, members, imap_server) -> None:
    ctx = reading(ctx, imap_server)
    round_id = open_round(ctx)
    statement_id = plain(round_status(ctx, round_id))["statement_id"]
    revise_statement(ctx, statement_id, TEXT + "We call on cities to act.\n")
    consultation = open_round(ctx, title="A kind of message", mode="consult")
    folder = ctx.settings.imap_folder
    deliver_to(
        imap_server,
        folder,
        reply(ctx, round_id, "barry", "Endorse"),  # answers the first text
        reply(ctx, round_id, "gemma", "Endorse", to="revision"),  # answers the new one
        reply(ctx, consultation, "gregory", "Support, a good kind of message", to=CONSULTED),
        reply(ctx, consultation, "ingrid", "Concerns: too close to elections", to=CONSULTED),
        reply(ctx, consultation, "joanna", "Yes", to=CONSULTED),
    )
    assert plain(poll_mailbox(ctx, deliver_mail=False)) == {
        "messages": 5,
        "recorded": 4,
        "stale": 1,
    }
    assert decisions(ctx, round_id) == {"gemma": ("endorse", None, "email")}
    assert decisions(ctx, consultation) == {
        "gregory": ("support", "a good kind of message", "email"),
        "ingrid": ("concerns", "too close to elections", "email"),
        "joanna": ("support", None, "email"),
    }

    close_round(ctx, round_id)
    deliver_to(imap_server, folder, reply(ctx, round_id, "silvia", "Yes", to="revision"))
    assert plain(poll_mailbox(ctx, deliver_mail=False)) == {"messages": 1, "closed": 1}
    assert sorted(e.to_addr.split(".")[0] for e in outbox(ctx, "explain")) == ["barry", "silvia"]
    assert count(ctx, t.decisions) == 4


def test_receipts_and_explanations_are_mailed_and_robots_get_nothing(
    ctx, members, imap_server, tmp_path
) -> None:
    from accord.mail.devmailbox import start_dev_mailbox

    smtp = start_dev_mailbox(tmp_path / "sent", port=free_port())
    try:
        ctx = reading(ctx, imap_server, smtp_host=smtp.host, smtp_port=smtp.port)
        round_id = open_round(ctx)
        names = ("barry", "joanna", "gregory", "ingrid")
        to = {who: addressee(ctx, round_id, who) for who in names}
        deliver_to(
            imap_server,
            ctx.settings.imap_folder,
            mail("gmail_top_posting.eml", **to["barry"]),
            mail("unreadable.eml", **to["joanna"]),
            mail("out_of_office_fr.eml", **to["gregory"]),
            mail("spoofed_sender.eml", **to["ingrid"]),
        )
        result = plain(poll_mailbox(ctx))
    finally:
        smtp.stop()

    assert result["mail"] == {"sent": 9, "failed": 0, "retry_later": 0}  # 7 invitations and 2
    sent = [
        BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        for path in (tmp_path / "sent").glob("*.eml")
    ]
    invitations = {r.message_id for r in outbox(ctx, "invitation")}
    answers = [m for m in sent if m["Message-ID"] not in invitations]
    assert sorted(str(m["To"]).split("<")[-1].split(".")[0] for m in answers) == [
        "barry",
        "joanna",
    ]  # nothing to the auto-reply, nothing to the stranger
    (explanation,) = [m for m in answers if "joanna" in str(m["To"])]
    assert explanation["In-Reply-To"] == "<trinity-a1b2c3d4-0001@3c-app-webde-bs12>"
    assert to["joanna"]["key"] in str(explanation["Reply-To"])
    assert {r.status for r in outbox(ctx, "receipt") + outbox(ctx, "explain")} == {"sent"}


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_mail_that_cannot_go_now_loses_no_reply(ctx, members, imap_server, monkeypatch) -> None:
    import accord.services.reply_polling

    def smtp_down(_ctx: Context) -> None:
        raise ConnectionRefusedError("Connect call failed ('127.0.0.1', 1025)")

    monkeypatch.setattr(accord.services.reply_polling, "deliver", smtp_down)
    ctx = reading(ctx, imap_server)
    round_id = open_round(ctx)
    deliver_to(
        imap_server,
        ctx.settings.imap_folder,
        mail("gmail_top_posting.eml", **addressee(ctx, round_id, "barry")),
    )
    result = plain(poll_mailbox(ctx))
    assert result["recorded"] == 1 and "ConnectionRefusedError" in result["mail"]["error"]
    assert decisions(ctx, round_id)["barry"][0] == "endorse"
    assert [r.status for r in outbox(ctx, "receipt")] == ["pending"]  # `sweep` sends it later
    assert unread(imap_server, ctx.settings.imap_folder) == set()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_poll_mails_the_receipt_at_once_or_else_the_next_sweep_does(
    ctx, members, imap_server
) -> None:
    """A reply by email: its receipt reaches the SMTP server before `replies poll` returns; with
    the server down, the reply is recorded and the receipt waits (pending) for the sweep."""
    from accord.services.delivery import deliver
    from tests.integration.test_smtp import Recorder
    from tests.servers import smtp_server

    port = free_port()  # nothing listens there yet
    ctx = reading(ctx, imap_server, smtp_host="127.0.0.1", smtp_port=port)
    round_id = open_round(ctx)
    folder = ctx.settings.imap_folder
    deliver_to(
        imap_server, folder, mail("gmail_top_posting.eml", **addressee(ctx, round_id, "barry"))
    )
    down = plain(poll_mailbox(ctx))
    assert down["recorded"] == 1 and down["mail"]["sent"] == 0
    assert decisions(ctx, round_id)["barry"][0] == "endorse"
    (receipt,) = outbox(ctx, "receipt")
    assert receipt.status == "pending" and receipt.last_error.startswith("cannot connect")
    server = Recorder()
    with smtp_server(server, port):
        deliver(ctx)  # the next sweep's delivery
        assert server.kept[receipt.message_id] == 1
        deliver_to(imap_server, folder, reply(ctx, round_id, "gemma", "decline"))
        poll_mailbox(ctx)
        (later,) = [r for r in outbox(ctx, "receipt") if r.id != receipt.id]
        assert server.kept[later.message_id] == 1  # sent by the poll itself
    assert {r.status for r in outbox(ctx, "receipt")} == {"sent"}


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_busy_shared_inbox_neither_hides_nor_delays_replies(ctx, members, imap_server) -> None:
    ctx = reading(ctx, imap_server)
    round_id = open_round(ctx)
    noise = [mail("unrelated.eml")] * 30
    barry = mail("gmail_top_posting.eml", **addressee(ctx, round_id, "barry"))
    ingrid = mail("apple_mail.eml", **addressee(ctx, round_id, "ingrid"))
    deliver_to(imap_server, ctx.settings.imap_folder, *noise, barry, *noise, ingrid)
    first = plain(poll_mailbox(ctx, limit=1, deliver_mail=False))
    assert first == {"messages": 62, "unrelated": 60, "recorded": 1, "later": 1}
    second = plain(poll_mailbox(ctx, limit=1, deliver_mail=False))
    assert second == {"messages": 61, "unrelated": 60, "recorded": 1}
    assert set(decisions(ctx, round_id)) == {"barry", "ingrid"}
    assert unread(imap_server, ctx.settings.imap_folder) == {"<news-2023-10@intercultural.example>"}


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_poll_command_prints_one_json_document(ctx, imap_server, monkeypatch, capsys) -> None:
    from accord.cli.poll import poll

    folder = f"test-{uuid.uuid4().hex[:8]}"
    deliver_to(imap_server, folder, mail("unrelated.eml"))
    env = {"HOST": imap_server.host, "PORT": str(imap_server.port), "USERNAME": USER}
    env |= {"PASSWORD": PASSWORD, "TLS": "none", "FOLDER": folder}
    for name, value in env.items():
        monkeypatch.setenv(f"ACCORD_IMAP_{name}", value)
    poll(json_=True)
    printed = json.loads(capsys.readouterr().out)
    assert printed["messages"] == 1 and printed["unrelated"] == 1
    assert printed["mail"]["sent"] == 0
    poll(json_=False)
    assert capsys.readouterr().out.startswith("1 message: 1 unrelated; mail: 0 sent")


# -- the mailbox client alone ---------------------------------------------------------------------


def box_settings(server: ImapServer, **more: Any) -> MailboxSettings:
    folder = f"test-{uuid.uuid4().hex[:8]}"
    plain = MailboxSettings(
        host=server.host, port=server.port, username=USER, password=PASSWORD, tls="none"
    )
    return replace(plain, folder=folder, timeout=5, **more)


async def _read_and_mark(settings: MailboxSettings) -> tuple[list[bytes], list[int]]:
    """Read every new message and mark it done; (what was read, what is still new)."""
    async with Mailbox(settings) as box:
        uids = await box.new_messages()
        bodies = [await box.fetch(uid) or b"" for uid in uids]
        for uid in uids:
            assert await box.mark_done(uid)
        return bodies, await box.new_messages()


async def _flags(server: ImapServer, folder: str) -> bytes:
    client = await _session(server, folder)
    await client.select(folder)
    response = await client.uid("fetch", "1:*", "(FLAGS)")
    await client.logout()
    return b" ".join(bytes(line) for line in response.lines)


def test_the_client_reads_without_marking_and_marks_only_when_told(imap_server) -> None:
    settings = box_settings(imap_server)
    message = mail("unrelated.eml")
    deliver_to(imap_server, settings.folder, message)

    async def peek() -> list[bytes]:
        async with Mailbox(settings) as box:
            return [await box.fetch(uid) or b"" for uid in await box.new_messages()]

    assert asyncio.run(peek()) == [message]
    assert asyncio.run(peek()) == [message]  # fetching left it unread
    assert asyncio.run(_read_and_mark(settings)) == ([message], [])
    assert unread(imap_server, settings.folder) == set()
    assert DONE.encode() not in asyncio.run(_flags(imap_server, settings.folder))  # not kept


def test_a_folder_that_keeps_keywords_gets_accord_done(imap_server, monkeypatch) -> None:
    from pymap.backend.dict.mailbox import MailboxData
    from pymap.parsing.specials.flag import Wildcard

    allowed = MailboxData.permanent_flags.fget(None) | {Wildcard}  # type: ignore[attr-defined]
    monkeypatch.setattr(MailboxData, "permanent_flags", property(lambda self: allowed))
    settings = box_settings(imap_server)
    deliver_to(imap_server, settings.folder, mail("unrelated.eml"))
    assert asyncio.run(_read_and_mark(settings))[1] == []
    flags = asyncio.run(_flags(imap_server, settings.folder))
    assert b"\\Seen" in flags and DONE.encode() in flags


def _certificate(tmp_path: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A self-signed certificate for 127.0.0.1: the server's context and a client trusting it."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert_file, key_file)
    return server, ssl.create_default_context(cafile=str(cert_file))


@pytest.mark.parametrize("tls", ["starttls", "tls"])
def test_the_client_speaks_starttls_and_implicit_tls(tls, tmp_path) -> None:
    server_context, client_context = _certificate(tmp_path)
    message = mail("unrelated.eml")
    with running_imap(tls_enabled=tls == "starttls", ssl_context=server_context) as server:
        settings = box_settings(server, tls=tls, ssl_context=client_context)
        asyncio.run(_append_through(replace(settings, folder="INBOX"), settings.folder, message))
        assert asyncio.run(_read_and_mark(settings)) == ([message], [])


async def _append_through(settings: MailboxSettings, folder: str, message: bytes) -> None:
    """Deliver over the encrypted connection (aioimaplib alone has no STARTTLS)."""
    async with Mailbox(settings) as box:
        await box.client.create(folder)
        assert (await box.client.append(message, mailbox=folder)).result == "OK"


def test_a_mailbox_it_cannot_use_is_one_clear_error(imap_server, tmp_path) -> None:
    wrong = replace(box_settings(imap_server), password="not-the-password")
    with pytest.raises(MailboxError, match="refused the login of secretariat"):
        asyncio.run(_read_and_mark(wrong))
    closed = MailboxSettings(host="127.0.0.1", port=1, username=USER, password="x", tls="none")
    with pytest.raises(MailboxError, match=r"cannot read the mailbox at 127\.0\.0\.1:1\b"):
        asyncio.run(_read_and_mark(closed))
    _server_context, client_context = _certificate(tmp_path)
    plain = box_settings(imap_server, tls="starttls", ssl_context=client_context)
    with pytest.raises(MailboxError, match="does not offer STARTTLS"):
        asyncio.run(_read_and_mark(plain))
    with pytest.raises(InvalidInput, match="ACCORD_IMAP_HOST is not set"):
        mailbox_settings(load_settings(imap_host=None))
