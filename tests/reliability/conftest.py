"""Shared by the reliability tests: an SMTP sink that remembers who got what, a context pointed
at it, and a way to publish the figures docs/reliability.md quotes.

The misbehaving SMTP handlers are the ones of tests/integration/test_smtp.py, reused here at the
level of the outbox.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any, cast

import pytest
from sqlalchemy import select

from accord.services.context import Context
from accord.services.results import plain
from tests.conftest import FIXED_NOW
from tests.flows.bulk import add_members
from tests.integration.test_smtp import Recorder
from tests.servers import smtp_server

GROUP = "Network"
DEADLINE = FIXED_NOW + timedelta(days=10)
MESSAGE_ID = re.compile(rb"^Message-ID: (<[^>]+>)", re.MULTILINE | re.IGNORECASE)


class Sink(Recorder):
    """Accepts (or, in subclasses, refuses) mail; keeps every accepted message with its
    envelope recipients, and counts them by Message-ID (`kept`, from Recorder)."""

    def __init__(self) -> None:
        super().__init__()
        self.received: list[tuple[tuple[str, ...], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        answer = await super().handle_DATA(server, session, envelope)
        if answer.startswith("250"):
            self.received.append((tuple(envelope.rcpt_tos), envelope.original_content))
        return answer

    def ids_by_recipient(self) -> dict[str, list[str]]:
        """Every Message-ID each envelope recipient received, duplicates included."""
        found: dict[str, list[str]] = defaultdict(list)
        for recipients, data in self.received:
            match = MESSAGE_ID.search(data)
            assert match is not None
            for rcpt in recipients:
                found[rcpt].append(match.group(1).decode())
        return found

    def messages(self) -> list[EmailMessage]:
        return [
            cast(EmailMessage, message_from_bytes(data, policy=policy.default))
            for _, data in self.received
        ]


def with_smtp(ctx: Context, port: int) -> Context:
    """The same database and clock, sending to 127.0.0.1:`port`."""
    settings = ctx.settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": port})
    return Context(settings, _db=ctx.db)


@pytest.fixture
def sink() -> Iterator[tuple[Sink, int]]:
    """A well-behaved sink on a free port."""
    handler = Sink()
    with smtp_server(handler) as port:
        yield handler, port


def figure(name: str, **values: object) -> None:
    """A measured figure, printed for docs/reliability.md (shown with `pytest -rP` or `-s`)."""
    print(f"FIGURE {name}: " + ", ".join(f"{k}={v}" for k, v in values.items()))


# Tests that exercise mail or processes rather than the database run on SQLite only.
SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def bulk_round(ctx: Context, members: int, **options: Any) -> dict[str, Any]:
    """`members` members (member00000@example.org, ...) in GROUP, a statement, an open round."""
    from accord.services.rounds import start_round
    from accord.services.statements import draft_statement

    add_members(ctx, members, GROUP)
    statement = draft_statement(ctx, title="Migrants Day", kind="awareness-day", body="We...\n")
    args = {"group": GROUP, "rule": "majority", "deadline": DEADLINE, **options}
    return plain(start_round(ctx, statement_id=statement.id, **args))


def outbox(ctx: Context) -> list[Any]:
    """Every outbox row, in id order."""
    from storage import tables as t

    with ctx.uow(readonly=True) as uow:
        return list(uow.session.execute(select(t.outbox).order_by(t.outbox.c.id)))
