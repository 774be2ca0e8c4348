"""The memory of inbound mail (storage.inbound), on SQLite and PostgreSQL: a mail is remembered
once; a second remembering raises the storage's own error and commits nothing of its work."""

from __future__ import annotations

from dataclasses import replace

import pytest

from accord.services.context import Context
from storage.inbound import AlreadyRemembered, InboundMemo


def _memo(ctx: Context) -> InboundMemo:
    return InboundMemo(
        message_key="<reply-1@example.org>",
        received_at=ctx.now(),
        sender="barry.cusack@example.org",
        outcome="unknown_key",
        round_id=None,
        member_id=None,
        detail="no recipient has this key",
    )


def _entries(ctx: Context) -> int:
    with ctx.uow(readonly=True) as uow:
        return len(uow.audit.entries())


def test_a_mail_remembered_twice_is_refused_and_the_first_memory_kept(ctx: Context) -> None:
    memo = _memo(ctx)
    with ctx.uow() as uow:
        assert not uow.inbound.seen(memo.message_key)
        uow.inbound.remember(memo)
        uow.commit()
    with ctx.uow() as uow, pytest.raises(AlreadyRemembered, match="read before"):
        uow.inbound.remember(replace(memo, outcome="recorded"))
    with ctx.uow(readonly=True) as uow:
        assert uow.inbound.seen(memo.message_key)


def test_a_remembering_transaction_of_a_known_mail_commits_nothing(ctx: Context) -> None:
    memo = _memo(ctx)
    with ctx.uow() as uow:
        uow.inbound.remember(memo)
        uow.commit()
    before = _entries(ctx)
    with ctx.db.remembering(memo) as uow, pytest.raises(AlreadyRemembered):
        uow.audit.append(
            actor="accord",
            channel="email",
            entity_type="member",
            entity_id=1,
            action="mail.delivery_report",
            at=ctx.now(),
        )
        uow.commit()
    assert _entries(ctx) == before
